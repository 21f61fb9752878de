/**
 * Three patterns from the zguide's chapters 1 and 2 (ØMQ - The Guide, Pieter Hintjens), as graph scenarios: the
 * request-reply broker (a ROUTER/DEALER shared queue between clients and workers), the divide-and-conquer pipeline
 * whose sink broadcasts a kill signal to its workers over PUB/SUB, and the weather updates over PUB/SUB with a
 * subscriber that filters by zipcode. The guide's facts (sockets, who binds, messages, what the reader should
 * observe), in our own words and data; where the playground does something differently, the description says so.
 */
import type { GraphLink, GraphNode, GraphScenario } from './graph.ts';

const WORKERS = ['worker-1', 'worker-2', 'worker-3'] as const;
const CLIENTS = ['client-1', 'client-2', 'client-3'] as const;

/** A tcp link in the direction messages flow (the diagram draws them left to right); `binds`: which end binds. */
function tcp(from: string, to: string, binds: 'from' | 'to'): GraphLink {
  return { from, to, bind: binds, transport: 'tcp' };
}

/** How many requests each broker client sends, and how many tasks the kill pipeline's ventilator sends. */
export const BROKER_REQUESTS = 10;
export const KILL_TASKS = 60;
/** The weather client's zipcode; updates come for ten zipcodes, 10000 to 10009. */
export const WEATHER_ZIPCODE = '10001';

export const broker: GraphScenario = {
  id: 'zguide-broker',
  title: 'zguide: a request-reply broker',
  description:
    'Three REQ clients and three REP workers never meet: a broker binds a ROUTER for the clients and a DEALER for ' +
    'the workers, and a proxy passes every request from the ROUTER to the DEALER and every reply back. The ROUTER ' +
    'prepends the identity frame of the client that asked (libzmq makes one up for a client without a routing ' +
    'id), and takes it off again to route the reply; the DEALER deals the requests to the workers in turn, ' +
    `${(BROKER_REQUESTS * CLIENTS.length) / WORKERS.length} each. Clients and workers can come and go: only the ` +
    'broker has a fixed address. (The guide binds the frontend at tcp://*:5559 and the backend at tcp://*:5560; ' +
    'its clients send "Hello" and its workers answer "World" after a second\'s work. Here each client numbers ' +
    'its requests, the workers answer in upper case at once, and the broker waits for its three workers before it ' +
    'forwards anything, as the guide has you start the workers first.)',
  graph: {
    title: 'ROUTER/DEALER: a request-reply broker',
    nodes: [
      ...CLIENTS.map((id): GraphNode => ({
        id,
        socket: 'REQ',
        role: {
          kind: 'request',
          messages: { kind: 'template', template: `Hello {n} from ${id}`, count: BROKER_REQUESTS },
          intervalMs: 300,
        },
      })),
      { id: 'frontend', socket: 'ROUTER', role: { kind: 'proxy', backend: 'backend', waitForPeers: WORKERS.length } },
      { id: 'backend', socket: 'DEALER', role: { kind: 'passive' } },
      ...WORKERS.map((id): GraphNode => ({ id, socket: 'REP', role: { kind: 'reply', transform: 'uppercase' } })),
    ],
    links: [...CLIENTS.map((id) => tcp(id, 'frontend', 'to')), ...WORKERS.map((id) => tcp('backend', id, 'from'))],
  },
};

export const killPipeline: GraphScenario = {
  id: 'zguide-kill',
  title: 'zguide: a pipeline whose sink kills the workers',
  description:
    `The ventilator waits for its three workers, then pushes ${KILL_TASKS} tasks; each worker works on what it ` +
    'pulls and pushes a result to the sink. When the sink has every result it publishes "KILL" on a PUB socket ' +
    'that every worker also subscribes to, and the workers stop: each worker is one program with three sockets ' +
    '(PULL for tasks, PUSH for results, SUB for the kill signal). Every task is accounted for: sent, worked on by ' +
    'one worker, collected by the sink, and only then the workers end. (The guide binds the ventilator at ' +
    "tcp://*:5557, the sink at :5558 and the sink's PUB at :5559; its tasks carry a random workload of 1 to 100 " +
    'ms, which its workers sleep, and its ventilator first tells the sink a batch starts. Here each task carries ' +
    'its number and a workload, every worker works 50 ms a task, and the sink counts the tasks it expects.)',
  graph: {
    title: 'PUSH/PULL + PUB/SUB: a pipeline with a kill signal',
    nodes: [
      {
        id: 'ventilator',
        socket: 'PUSH',
        role: {
          kind: 'send',
          messages: { kind: 'template', template: 'task {n}: {int:1-100} ms', count: KILL_TASKS, seed: 2012 },
          waitForPeers: WORKERS.length,
        },
      },
      ...WORKERS.flatMap((id): GraphNode[] => [
        {
          id,
          socket: 'PULL',
          role: { kind: 'receive', workMs: 50, forwardTo: `${id}-out` },
          stop: { withNode: `${id}-control` },
        },
        { id: `${id}-out`, socket: 'PUSH', role: { kind: 'passive' } },
        {
          id: `${id}-control`,
          socket: 'SUB',
          subscribe: [''],
          role: { kind: 'receive' },
          stop: { onMessage: 'KILL' },
        },
      ]),
      {
        id: 'sink',
        socket: 'PULL',
        role: { kind: 'receive' },
        stop: { afterMessages: KILL_TASKS, announce: { body: 'KILL', through: 'sink-control' } },
      },
      { id: 'sink-control', socket: 'PUB', role: { kind: 'passive' } },
    ],
    links: WORKERS.flatMap((id) => [
      tcp('ventilator', id, 'from'),
      tcp(`${id}-out`, 'sink', 'to'),
      tcp('sink-control', `${id}-control`, 'from'),
    ]),
  },
};

export const weather: GraphScenario = {
  id: 'zguide-weather',
  title: 'zguide: weather updates, filtered by zipcode',
  description:
    'The weather server publishes updates "zipcode temperature humidity" (a temperature from -80 to 134, a ' +
    `relative humidity from 10 to 59); the client subscribes to the prefix "${WEATHER_ZIPCODE}" and gets only ` +
    'that zipcode: over tcp the publisher filters, so the other updates never leave the server. Updates published ' +
    'before the subscription reaches the server are lost to the client (the slow joiner), even though the ' +
    'server waits for it to connect. (The guide binds tcp://*:5556, draws zipcodes from the whole range 1 to ' +
    '99999 and publishes as fast as it can, for ever; its client takes five updates and prints their average ' +
    "temperature. Here the zipcodes are 10000 to 10009, so about one update in ten is the client's, the server " +
    'publishes 400 of them 25 ms apart, and the client keeps listening to the end.)',
  graph: {
    title: 'PUB/SUB: weather updates',
    nodes: [
      {
        id: 'weather-server',
        socket: 'PUB',
        role: {
          kind: 'send',
          messages: {
            kind: 'template',
            template: '{int:10000-10009} {int:-80-134} {int:10-59}',
            count: 400,
            seed: 5556,
          },
          intervalMs: 25,
          waitForPeers: 1,
        },
      },
      { id: 'weather-client', socket: 'SUB', subscribe: [WEATHER_ZIPCODE], role: { kind: 'receive' } },
    ],
    links: [tcp('weather-server', 'weather-client', 'from')],
  },
};

export const ZGUIDE_SCENARIOS: readonly GraphScenario[] = [broker, killPipeline, weather];

/**
 * The same descriptions in Spanish, by scenario id, in the shape of the other scenarios' Spanish texts
 * (scenario-texts.ts): the patterns page shows the one of its language.
 */
export const ZGUIDE_TEXTS_ES: Readonly<Record<string, { description: string; notes?: string[] }>> = {
  [broker.id]: {
    description:
      'Tres clientes REQ y tres workers REP nunca se encuentran: un broker hace bind de un ROUTER para los clientes ' +
      'y de un DEALER para los workers, y un proxy pasa cada petición del ROUTER al DEALER y cada respuesta de ' +
      'vuelta. El ROUTER antepone el frame de identidad del cliente que preguntó (libzmq se inventa una para un ' +
      'cliente sin routing id) y lo quita de nuevo para encaminar la respuesta; el DEALER reparte las peticiones ' +
      `entre los workers por turnos, ${(BROKER_REQUESTS * CLIENTS.length) / WORKERS.length} cada uno. Clientes y ` +
      'workers pueden ir y venir: solo el broker tiene una dirección fija. (La guía hace bind del frontend en ' +
      'tcp://*:5559 y del backend en tcp://*:5560; sus clientes envían "Hello" y sus workers responden "World" ' +
      'tras un segundo de trabajo. Aquí cada cliente numera sus peticiones, los workers responden en mayúsculas ' +
      'al instante, y el broker espera a sus tres workers antes de reenviar nada, como la guía pide arrancar ' +
      'primero los workers.)',
  },
  [killPipeline.id]: {
    description:
      `El ventilador espera a sus tres workers y luego empuja ${KILL_TASKS} tareas; cada worker trabaja en lo que ` +
      'recibe y empuja un resultado al sink. Cuando el sink tiene todos los resultados publica "KILL" en un socket ' +
      'PUB al que todos los workers también se suscriben, y los workers paran: cada worker es un programa con tres ' +
      'sockets (PULL para las tareas, PUSH para los resultados, SUB para la señal de parada). Ninguna tarea se ' +
      'pierde de vista: enviada, trabajada por un worker, recogida por el sink, y solo entonces terminan los ' +
      'workers. (La guía hace bind del ventilador en tcp://*:5557, del sink en :5558 y del PUB del sink en :5559; ' +
      'sus tareas llevan una carga al azar de 1 a 100 ms, que sus workers duermen, y su ventilador avisa antes al ' +
      'sink de que empieza un lote. Aquí cada tarea lleva su número y una carga, cada worker trabaja 50 ms por ' +
      'tarea, y el sink cuenta las tareas que espera.)',
  },
  [weather.id]: {
    description:
      'El servidor del tiempo publica actualizaciones "código-postal temperatura humedad" (una temperatura de -80 ' +
      `a 134, una humedad relativa de 10 a 59); el cliente se suscribe al prefijo "${WEATHER_ZIPCODE}" y recibe ` +
      'solo ese código postal: por tcp filtra el publicador, así que las demás actualizaciones nunca salen del ' +
      'servidor. Las publicadas antes de que la suscripción llegue al servidor se pierden para el cliente (el slow ' +
      'joiner), aunque el servidor espera a que se conecte. (La guía hace bind en tcp://*:5556, saca los códigos ' +
      'postales de todo el rango de 1 a 99999 y publica tan rápido como puede, sin fin; su cliente toma cinco ' +
      'actualizaciones y muestra su temperatura media. Aquí los códigos son del 10000 al 10009, así que ' +
      'aproximadamente una actualización de cada diez es del cliente, el servidor publica 400, a 25 ms una de ' +
      'otra, y el cliente escucha hasta el final.)',
  },
};
