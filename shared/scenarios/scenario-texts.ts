/**
 * The graph scenarios' texts in Spanish (issue 11: "texts in Spanish and English"). A scenario keeps its English
 * description and notes (series.ts and the others); this file gives the same in Spanish, by scenario id, and the
 * patterns page shows the one of the page's language (the English when a scenario has no Spanish yet); the pipeline
 * sandbox as a graph (pipeline-graph.ts) has its Spanish here too. The zguide's scenarios keep theirs next to them
 * (ZGUIDE_TEXTS_ES in zguide.ts); scenarioTexts reads both.
 * scenario-texts.test.ts checks that every series part has its Spanish, with as many notes as its English.
 */
import type { GraphScenario } from './graph.ts';
import { ZGUIDE_TEXTS_ES } from './zguide.ts';

export interface ScenarioTexts {
  description: string;
  notes?: string[];
}

export const SCENARIO_TEXTS_ES: Readonly<Record<string, ScenarioTexts>> = {
  'series-1': {
    description:
      'El cliente envía "a:b" con dos números al azar del 1 al 1000, espera la suma, 1000 veces, y luego envía "q" ' +
      'sin esperar; el servidor suma, responde y termina con "q". Vuelan todas las peticiones y todas las ' +
      'respuestas: REQ y REP se alternan estrictamente. (El original hace bind en tcp://127.0.0.1:5000.)',
  },
  'series-2': {
    description:
      'El servidor devuelve lo que le envía su único par; el cliente envía de "mensaje 0" a "mensaje 99" y espera ' +
      'cada eco. Un segundo cliente se conecta mientras el primero está en marcha: PAIR es exclusivo. El artículo ' +
      'dice que entonces el servidor falla; con el libzmq de hoy no falla: simplemente nunca atiende al segundo ' +
      'cliente, que envía su primer mensaje y espera para siempre. (El original hace bind en tcp://127.0.0.1:5555.)',
  },
  'series-3': {
    description:
      'Un socket REQ conectado a tres servidores REP envía de "mensaje 0" a "mensaje 99": las peticiones van por ' +
      'turnos en el orden de conexión, 34/33/33. (Los originales hacen bind en los puertos 5000, 6000 y 7000; aquí ' +
      'cada servidor está en otro transporte, lo que no cambia nada en el turno.)',
  },
  'series-4': {
    description:
      'El narrador publica un país y una jugada al azar cada segundo, 179 veces; un aficionado se suscribe a ' +
      '"argentina" y "venezuela", el otro a "brasil" y "alemania". Cada uno recibe solo sus partidos: el ' +
      'publicador filtra el resto. Los aficionados paran tras 89 mensajes, que nunca llegan (unos 45 cada uno): ' +
      'esperan para siempre. Los mensajes publicados antes de que llegue una suscripción se pierden (el slow ' +
      'joiner). (El original hace bind en tcp://127.0.0.1:5000.)',
  },
  'series-5': {
    description:
      'El emisor envía por REQ cuatro tuits al relé, que devuelve cada uno y lo publica (PUB); cada seguidor se ' +
      'suscribe a una cuenta ("@_seraph1", "@otro") y solo ve sus tuits. Los seguidores tienen que estar antes de ' +
      'que empiece el emisor, o pierden tuits. (El relé original hace bind en tcp://127.0.0.1:4000 y :5000.)',
  },
  'series-6': {
    description:
      'La fuente espera a los dos workers (el artículo espera a que se pulse Enter) y luego empuja siete saludos; ' +
      'cada worker pasa a mayúsculas lo que recibe, tarda un segundo y lo empuja al colector. Los workers se ' +
      'reparten el trabajo 4/3. Si la fuente empezara antes de que se conecten, el primero en conectarse se ' +
      'llevaría los siete. (El original hace bind en tcp://*:5557 y :5558.)',
  },
  'series-7': {
    description:
      'El servidor tiene UN socket PUSH: hace bind en tcp y envía "1", "2", "3", uno por segundo; luego hace bind en ' +
      'ipc con el mismo socket y envía nueve textos, los dos últimos "x". Un cliente recibe (PULL) por tcp y el otro ' +
      'por ipc; cada uno muestra lo que recibe y para exactamente con "x" ("q,5" y "q,7" solo parecen centinelas). ' +
      '"1", "2", "3" van todos al cliente tcp: es el único par. El cliente ipc lleva reintentando su conexión desde ' +
      'el principio; en cuanto existe el endpoint ipc y termina su handshake, PUSH reparte los textos por turnos ' +
      'entre los dos, así que el primer texto o los dos primeros aún pueden ir al cliente tcp. (El original hace ' +
      'bind en tcp://127.0.0.1:12345 y ipc:///tmp/zmqdemo; el artículo dice que se crea un segundo socket para ipc, ' +
      'su código hace bind dos veces con el mismo. El playground instrumentado del pipeline ejecuta este mismo ' +
      'tutorial con su propio motor.)',
  },
  'series-8': {
    description:
      'Un productor publica las líneas que teclea una persona; el consumidor se suscribe a "prueba", "hora" y ' +
      '"salir", muestra lo que coincide y termina exactamente con "salir" ("salir ya" pasa el filtro pero no lo ' +
      'detiene). El original va por epgm (multicast PGM); el libzmq de este servidor no tiene PGM, así que va por tcp.',
    notes: [
      'Este libzmq no tiene PGM: capability.pgm es false y un endpoint epgm:// se rechaza con EPROTONOSUPPORT.',
      'Con epgm el productor y los consumidores se unirían a un grupo multicast: un envío llega a la vez a todos ' +
        'los consumidores de la red, sin una conexión por consumidor y sin filtrado en el publicador (cada ' +
        'consumidor filtra lo que recibe); PGM retransmite los paquetes perdidos solo dentro de su ventana de ' +
        'recuperación. Por tcp el publicador mantiene una conexión por suscriptor y filtra para cada uno.',
      'El python3-zmq de Debian (libzmq 4.3.4) sí tiene PGM: examples/series/part8_*.py pueden usar epgm entre ' +
        'ellos en una red que transporte multicast.',
    ],
  },
  pipeline: {
    description:
      'El ventilador espera a que sus tres workers hayan hecho el handshake y luego empuja 100 tareas numeradas tan ' +
      'rápido como ZeroMQ las acepta; su único socket PUSH hace bind a la vez en tcp, ipc e inproc, un worker en ' +
      'cada uno, y reparte las tareas entre ellos por turnos: 34/33/33. Cada worker empuja un resultado por tarea ' +
      'al sink, que atiende por turnos (fair-queuing) los resultados de sus tres pipes. Cada tarea llega exactamente ' +
      'a un worker y cada resultado al sink. Sin la espera, el primer worker en conectarse se llevaría casi todo el ' +
      'lote (el slow joiner). El playground instrumentado del pipeline ejecuta este mismo sandbox con su propio ' +
      'motor, con workers como procesos que matar o colgar, cambios de transporte en vivo, opciones de socket y un ' +
      'registro por tarea.',
  },
};

/**
 * A scenario's description and notes in `lang`, and the language they are really in (the English when there is
 * no Spanish, so that the page can mark it `lang="en"`).
 */
export function scenarioTexts(
  scenario: Pick<GraphScenario, 'id' | 'description' | 'notes'>,
  lang: 'en' | 'es',
): { description: string; notes: string[]; lang: 'en' | 'es' } {
  const spanish = lang === 'es' ? (SCENARIO_TEXTS_ES[scenario.id] ?? ZGUIDE_TEXTS_ES[scenario.id]) : undefined;
  if (spanish) return { description: spanish.description, notes: spanish.notes ?? [], lang: 'es' };
  return { description: scenario.description, notes: scenario.notes ?? [], lang: 'en' };
}
