import type { LessonText } from '../types.ts';

/** Textos en español de las lecciones de la serie en la página de patrones (shared/lessons/graph-lessons.ts). */
export const GRAPH_LESSON_TEXT_ES: Readonly<Record<string, LessonText>> = {
  'series-1-sums': {
    title: 'Parte 1: un servidor que suma y para con "q"',
    explanation: [
      'El cliente (REQ) envía "a:b" y espera la suma; el servidor (REP) suma y responde. REQ y REP alternan estrictamente: una petición, su respuesta, la siguiente petición.',
      'En la serie el cliente termina enviando "q" sin esperar respuesta, y el servidor para al leerla. Este inicio envía cinco sumas y luego nada: el servidor espera para siempre.',
    ],
    goal: 'El servidor responde 5 sumas y después para con "q".',
    hint: 'El cliente tiene que decirle al servidor que ha terminado: tras sus cinco sumas envía un último mensaje, "q", sin esperar respuesta.',
    solution: 'Carga la solución: el cliente envía sus cinco sumas y después "q"; el servidor para con ella.',
  },
  'series-2-pair': {
    title: 'Parte 2: PAIR es exclusivo',
    explanation: [
      'Un socket PAIR habla con un único peer. El servidor devuelve lo que su cliente le envía; el cliente espera cada eco.',
      'La serie dice que un segundo cliente hace fallar al servidor. Con la libzmq de hoy nada falla a la vista: la segunda conexión se descarta y el segundo cliente espera un eco que nunca llega. La página muestra ese rechazo.',
    ],
    goal: 'Ver rechazado a un segundo peer PAIR mientras se atiende al primero.',
    hint: 'Conecta un segundo cliente PAIR al mismo servidor mientras el primero corre (arráncalo cuando el primero tenga su primer eco).',
    solution:
      'Carga la solución: client-2 se conecta cuando client-1 ya está atendido, y el servidor lo rechaza (pair-exclusive).',
  },
  'series-3-spread': {
    title: 'Parte 3: un REQ, tres REP',
    explanation: [
      'Un socket REQ puede conectarse a varios servidores REP: envía sus peticiones por turnos (round-robin), una a cada uno, en el orden en que se conectó.',
      'El cliente de este inicio solo conoce un servidor, que recibe todas las peticiones.',
    ],
    goal: 'Las peticiones se reparten por igual entre tres servidores REP (como mucho, una de diferencia).',
    hint: 'Conecta el cliente a tres servidores REP (la serie los pone en los puertos 5000, 6000 y 7000).',
    solution: 'Carga la solución: el cliente se conecta a tres servidores y 30 peticiones van 10 / 10 / 10.',
  },
  'series-4-filter': {
    title: 'Parte 4: un aficionado que sigue a un país',
    explanation: [
      'El narrador (PUB) publica "país evento" cada poco. Un suscriptor (SUB) solo recibe los mensajes que empiezan por uno de sus prefijos; por tcp filtra el publicador, así que el resto ni sale de él.',
      'El aficionado de este inicio se suscribe a "" (el prefijo vacío): lo recibe todo.',
    ],
    goal: 'Un suscriptor con filtro recibe solo los eventos de su país, y el narrador le filtra los demás.',
    hint: 'Cambia el prefijo del aficionado de "" a un país, por ejemplo "argentina".',
    solution:
      'Carga la solución: fan-1 se suscribe a "argentina"; recibe solo esos eventos y el resto se filtra en el narrador.',
  },
  'series-5-relay': {
    title: 'Parte 5: un relay que responde y publica',
    explanation: [
      'El emisor envía tweets (REQ) a un relay; el relay responde (REP) a cada uno y además lo publica (PUB), y cada seguidor se suscribe a una cuenta.',
      'El relay de este inicio solo responde: el emisor recibe respuesta, pero los seguidores no reciben nada.',
    ],
    goal: 'Todos los tweets se responden, y cada seguidor recibe todos los tweets de su cuenta, y solo esos.',
    hint: 'Haz que el relay envíe además cada tweet que recibe por su socket PUB (relay-pub): reenvíalo allí.',
    solution: 'Carga la solución: el relay reenvía cada tweet a relay-pub; "@_seraph1" y "@otro" reciben sus dos.',
  },
  'series-6-wait': {
    title: 'Parte 6: esperar a los workers',
    explanation: [
      'La fuente envía (PUSH) siete saludos a dos workers, que los pasan a mayúsculas y los envían (PUSH) a un colector. PUSH solo reparte entre los peers conectados en ese momento.',
      'Aquí worker-2 arranca medio segundo tarde, como un programa lanzado un momento después. La serie espera a que se pulse Intro antes de enviar; este inicio no espera.',
    ],
    goal: 'El emisor espera a los dos workers: cada uno recibe 3 o 4 saludos, y el colector recibe los 7.',
    hint: 'Haz que la fuente espere a que dos peers hayan completado su handshake antes de su primer envío.',
    solution: 'Carga la solución: la fuente espera a 2 peers; el trabajo se reparte 4 / 3.',
  },
  'series-7-share': {
    title: 'Parte 7: dale su parte al cliente ipc',
    explanation: [
      'El servidor tiene un socket PUSH: hace bind en tcp y envía "1", "2", "3", luego hace bind en ipc con el mismo socket y envía nueve textos, los dos últimos "x". Un cliente PULL se conecta por tcp y el otro por ipc; cada uno para con su propia "x".',
      'PUSH reparte por turnos entre los pares conectados en cada momento. El cliente ipc lleva reintentando su conexión desde el principio, pero solo se une cuando existe el endpoint ipc y termina su handshake. Este inicio lo envía todo de golpe (una ráfaga), donde el tutorial esperaba un segundo tras cada mensaje.',
    ],
    goal: 'Los dos clientes reciben mensajes y cada uno para con su propia "x".',
    hint: 'En una ráfaga los doce mensajes quedan en cola antes de que el cliente ipc se haya conectado (reintenta cada 100-200 ms): el cliente tcp se los lleva todos, y la segunda "x" se pierde con él. Dale al servidor una pausa entre mensajes: bastan unos cientos de milisegundos.',
    solution:
      'Carga la solución: el servidor espera 300 ms tras cada mensaje; los textos se alternan en cuanto se une el cliente ipc, y cada cliente recibe su "x".',
  },
  'series-8-tcp': {
    title: 'Parte 8: multicast, honestamente por tcp',
    explanation: [
      'La serie usa este par PUB/SUB sobre epgm (multicast PGM). La libzmq de este servidor no tiene PGM: las capacidades de la ejecución dicen que pgm es falso, y un endpoint epgm se rechaza. Así que los mismos programas corren por tcp, y la página lo dice.',
      'El consumidor se suscribe a "prueba", "hora" y "salir", y para exactamente en "salir" ("salir ya" pasa el filtro pero no lo para). El consumidor de este inicio olvidó "salir".',
    ],
    goal: 'Por tcp, el consumidor recibe sus líneas y para exactamente en "salir", tras pasar "salir ya".',
    hint: 'Añade el prefijo "salir" a las suscripciones del consumidor: solo puede parar con un mensaje que le llegue.',
    solution: 'Carga la solución: el consumidor se suscribe a "prueba", "hora" y "salir", y para en "salir".',
  },
};
