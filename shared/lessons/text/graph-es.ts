import type { GraphLessonText } from '../types.ts';

/**
 * Textos en español de las lecciones de la serie en la página de patrones (shared/lessons/graph-lessons.ts). Cada
 * pista nombra el control de la página que hace su cambio (el título de su tarjeta tal como la página lo muestra);
 * una lección que ningún control puede hacer lo dice, y que "Cargar la solución" lo muestra. `described` es lo que
 * la página dice sobre el diagrama cuando está cargado el inicio o la solución de la lección en vez del original.
 */
export const GRAPH_LESSON_TEXT_ES: Readonly<Record<string, GraphLessonText>> = {
  'series-1-sums': {
    title: 'Parte 1: el cliente espera cada respuesta',
    explanation: [
      'El cliente (REQ) envía "a:b" y espera la suma; el servidor (REP) suma y responde. REQ y REP alternan estrictamente: una petición, su respuesta, la siguiente petición. Al final el cliente envía "q" sin esperar, y el servidor para con ella.',
      'El servidor de este inicio responde al instante, así que las cinco sumas pasan volando. El cliente no tiene pausa propia: ralentiza el servidor y el cliente solo podrá ir tan rápido como lleguen las respuestas.',
    ],
    goal: 'El servidor tarda 200 ms o más en cada una de las 5 sumas, el cliente espera cada respuesta antes de su siguiente petición, y el servidor para con "q".',
    hint: 'Pulsa "Cargar el inicio"; después, en la tarjeta "Ralentizar un nodo, o moverlo a otro transporte", dale a server un tiempo de trabajo de 250 ms ("Cambiar ritmo") y pulsa Ejecutar.',
    solution:
      'Carga la solución: el servidor trabaja 250 ms en cada suma; el cliente envía cada petición siguiente solo cuando le ha llegado la respuesta.',
    described: {
      start:
        'El cliente envía cinco sumas "a:b" (números del 1 al 1000), espera cada respuesta y luego envía "q" sin esperar; el servidor suma y responde al instante, y para con "q".',
      solution:
        'Las mismas cinco sumas y "q", pero el servidor tarda 250 ms en cada suma antes de responder; el cliente espera cada respuesta.',
    },
  },
  'series-2-pair': {
    title: 'Parte 2: PAIR es exclusivo',
    explanation: [
      'Un socket PAIR habla con un único peer. El servidor devuelve lo que su cliente le envía; el cliente espera cada eco.',
      'La serie dice que un segundo cliente hace fallar al servidor. Con la libzmq de hoy nada falla a la vista: la segunda conexión se descarta y el segundo cliente espera un eco que nunca llega. La página muestra ese rechazo.',
    ],
    goal: 'Ver rechazado a un segundo peer PAIR mientras se atiende al primero.',
    hint: 'Ningún control de esta página añade un segundo peer PAIR: la tarjeta "Añadir un nodo" no ofrece ningún socket para un PAIR que ya tiene su peer, porque un PAIR admite uno. Lo que cambia es el propio grafo: un segundo cliente que se conecta al mismo servidor cuando el primero tiene su primer eco. "Cargar la solución" lo carga; después pulsa Ejecutar.',
    solution:
      'Carga la solución: client-2 se conecta cuando client-1 ya está atendido, y el servidor lo rechaza (pair-exclusive).',
    described: {
      start:
        'Un cliente envía de "mensaje 0" a "mensaje 29", cada 20 ms, y espera cada eco; el servidor (PAIR) los devuelve. No hay segundo cliente.',
      solution:
        'Client-1 envía de "mensaje 0" a "mensaje 29" y recibe cada eco; client-2 se conecta al mismo servidor cuando client-1 ya está atendido, envía su primer mensaje y espera para siempre: el servidor lo rechaza.',
    },
  },
  'series-3-spread': {
    title: 'Parte 3: un REQ, tres REP',
    explanation: [
      'Un socket REQ puede conectarse a varios servidores REP: envía sus peticiones por turnos (round-robin), una a cada uno, en el orden en que se conectó.',
      'El cliente de este inicio solo conoce un servidor, que recibe todas las peticiones.',
    ],
    goal: 'Las 30 peticiones se reparten por igual entre tres servidores REP o más (como mucho, una de diferencia).',
    hint: 'Entre ejecuciones, usa dos veces la tarjeta "Añadir un nodo": enlazarlo con client, tipo de socket REP, "Añadir el nodo". Cada servidor nuevo hace bind en un endpoint propio y el cliente se conecta a él. Después pulsa Ejecutar. (Un servidor añadido con la ejecución en marcha solo recibe las peticiones enviadas después: añádelos antes.)',
    solution: 'Carga la solución: el cliente se conecta a tres servidores y las 30 peticiones van 10 / 10 / 10.',
    described: {
      start:
        'Un cliente REQ envía de "mensaje 0" a "mensaje 29" a un único servidor REP, server-5000, que devuelve cada uno.',
      solution:
        'El cliente REQ está conectado a tres servidores REP y envía de "mensaje 0" a "mensaje 29": por turnos en el orden de conexión, 10 / 10 / 10.',
    },
  },
  'series-4-filter': {
    title: 'Parte 4: un aficionado que sigue a un país',
    explanation: [
      'El narrador (PUB) publica "país evento" cada poco. Un suscriptor (SUB) solo recibe los mensajes que empiezan por uno de sus prefijos; por tcp filtra el publicador, así que el resto ni sale de él.',
      'El aficionado de este inicio se suscribe a "" (el prefijo vacío): lo recibe todo.',
    ],
    goal: 'Un suscriptor con filtro recibe solo los eventos de su país, y el narrador le filtra los demás.',
    hint: 'En la tarjeta "Suscripciones", cambia los prefijos de fan-1 de vacío (todo) a un país, por ejemplo "argentina", y pulsa Guardar; después, Ejecutar.',
    solution:
      'Carga la solución: fan-1 se suscribe a "argentina"; recibe solo esos eventos y el resto se filtra en el narrador.',
    described: {
      start:
        'El narrador publica 40 mensajes "país evento" al azar, cada 50 ms, en cuanto se ha conectado su único aficionado; fan-1 se suscribe a "" y los recibe todos.',
      solution:
        'El narrador publica 40 mensajes "país evento" al azar, cada 50 ms; fan-1 se suscribe a "argentina" y solo recibe esos, el narrador filtra el resto.',
    },
  },
  'series-5-relay': {
    title: 'Parte 5: un seguidor para cada cuenta',
    explanation: [
      'El emisor envía tweets (REQ) a un relay; el relay responde (REP) a cada uno y además lo publica (PUB), y cada seguidor se suscribe a una cuenta.',
      'Este inicio solo tiene un seguidor, el de "@_seraph1": los tweets de "@otro" se publican y relay-pub los filtra, porque nadie se ha suscrito a ellos.',
    ],
    goal: 'Todos los tweets se responden, y los tweets de cada cuenta llegan todos a un seguidor de esa cuenta, y solo esos.',
    hint: 'En la tarjeta "Suscripciones", añade a relay-pub un suscriptor con el prefijo "@otro" ("Añadir un suscriptor") y pulsa Ejecutar. El emisor arranca un segundo tarde, así que el seguidor nuevo ya se ha suscrito antes del primer tweet.',
    solution:
      'Carga la solución: follower-seraph se suscribe a "@_seraph1" y follower-otro a "@otro"; cada uno recibe los dos tweets de su cuenta.',
    described: {
      start:
        'El emisor, un segundo después del inicio, envía por REQ cuatro tweets al relay, que devuelve cada uno y lo publica en relay-pub; un único seguidor, follower-seraph, se suscribe a "@_seraph1".',
      solution: 'El mismo relay y dos seguidores: follower-seraph se suscribe a "@_seraph1" y follower-otro a "@otro".',
    },
  },
  'series-6-wait': {
    title: 'Parte 6: el worker que llega tarde',
    explanation: [
      'La fuente envía (PUSH) siete saludos a dos workers, que los pasan a mayúsculas y los envían (PUSH) a un colector. PUSH solo reparte entre los peers conectados en ese momento.',
      'Aquí worker-2 arranca medio segundo tarde, como un programa lanzado un momento después. Este inicio envía los siete de golpe: worker-1, el único peer en ese momento, se los lleva todos.',
    ],
    goal: 'Los dos workers reciben su parte de los saludos (2 o más cada uno), y el colector recibe los 7.',
    hint: 'En la tarjeta "Ralentizar un nodo, o moverlo a otro transporte", dale a source un intervalo de 600 ms entre mensajes ("Cambiar ritmo") y pulsa Ejecutar: hacia su segundo o tercer saludo worker-2 ya se ha conectado y recibe su turno. (La serie lo hace de otro modo: su fuente espera a los dos workers antes de enviar; ningún control lo cambia, "Cargar la solución" lo muestra.)',
    solution:
      'Carga la solución: como en la serie, la fuente espera a que se hayan conectado 2 peers; el trabajo se reparte 4 / 3.',
    described: {
      start:
        'La fuente empuja siete saludos de golpe, sin esperar a nadie; cada worker pasa a mayúsculas lo que recibe (100 ms) y lo empuja al colector; worker-2 arranca medio segundo tarde.',
      solution:
        'La fuente espera a que se hayan conectado los dos workers y luego empuja los siete saludos; worker-2 sigue arrancando medio segundo tarde.',
    },
  },
  'series-7-share': {
    title: 'Parte 7: dale su parte al cliente ipc',
    explanation: [
      'El servidor tiene un socket PUSH: hace bind en tcp y envía "1", "2", "3", luego hace bind en ipc con el mismo socket y envía nueve textos, los dos últimos "x". Un cliente PULL se conecta por tcp y el otro por ipc; cada uno para con su propia "x".',
      'PUSH reparte por turnos entre los pares conectados en cada momento. El cliente ipc lleva reintentando su conexión desde el principio, pero solo se une cuando existe el endpoint ipc y termina su handshake. Este inicio lo envía todo de golpe (una ráfaga), donde el tutorial esperaba un segundo tras cada mensaje.',
    ],
    goal: 'Los dos clientes reciben mensajes y cada uno para con su propia "x".',
    hint: 'En una ráfaga los doce mensajes quedan en cola antes de que el cliente ipc se haya conectado (reintenta cada 100-200 ms): el cliente tcp se los lleva todos, y la segunda "x" se pierde con él. En la tarjeta "Ralentizar un nodo, o moverlo a otro transporte", dale a server un intervalo de 300 ms ("Cambiar ritmo") y pulsa Ejecutar.',
    solution:
      'Carga la solución: el servidor espera 300 ms tras cada mensaje; los textos se alternan en cuanto se une el cliente ipc, y cada cliente recibe su "x".',
    described: {
      start:
        'El servidor hace bind en tcp y envía "1", "2", "3", hace bind en ipc con el mismo socket y envía los nueve textos, todo sin pausa (una ráfaga); un cliente recibe (PULL) por tcp y el otro por ipc, y cada uno para con "x".',
      solution:
        'El mismo servidor y los mismos clientes, con una pausa de 300 ms tras cada mensaje, así que el cliente ipc se une a tiempo para recibir su parte.',
    },
  },
  'series-8-tcp': {
    title: 'Parte 8: multicast, honestamente por tcp',
    explanation: [
      'La serie usa este par PUB/SUB sobre epgm (multicast PGM). La libzmq de este servidor no tiene PGM: las capacidades de la ejecución dicen que pgm es falso, y un endpoint epgm se rechaza. Así que los mismos programas corren por tcp, y la página lo dice.',
      'El consumidor se suscribe a "prueba", "hora" y "salir", y para exactamente en "salir" ("salir ya" pasa el filtro pero no lo para). El consumidor de este inicio olvidó "salir".',
    ],
    goal: 'Por tcp, el consumidor recibe sus líneas y para exactamente en "salir", tras pasar "salir ya".',
    hint: 'En la tarjeta "Suscripciones", añade "salir" a los prefijos del consumidor ("prueba, hora, salir") y pulsa Guardar; después, Ejecutar: solo puede parar con un mensaje que le llegue.',
    solution: 'Carga la solución: el consumidor se suscribe a "prueba", "hora" y "salir", y para en "salir".',
    described: {
      start:
        'El productor publica siete líneas tecleadas, cada 100 ms, por tcp; el consumidor solo se suscribe a "prueba" y "hora", y pararía en "salir".',
      solution:
        'El productor publica las siete líneas, cada 100 ms, por tcp; el consumidor se suscribe a "prueba", "hora" y "salir", y para exactamente en "salir".',
    },
  },
};
