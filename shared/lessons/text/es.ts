import type { LessonText } from '../types.ts';

/** Textos de las lecciones en español, por id de lección. */
export const LESSON_TEXT_ES: Readonly<Record<string, LessonText>> = {
  tutorial: {
    title: '1. El tutorial: un socket PUSH en tcp e ipc',
    explanation: [
      'Un socket PUSH (el ventilador) se asocia a tcp://127.0.0.1:12345 y envía "1", "2", "3". Después el mismo socket se asocia también a ipc:///tmp/zmqdemo y envía nueve textos. Un cliente PULL se conecta por tcp y el otro por ipc; cada uno termina al recibir su "x".',
      'ZeroMQ reparte por turnos (round-robin) entre los pares conectados en cada momento. El cliente ipc solo recibe su parte cuando el endpoint ipc ya existe y su conexión se ha completado; hasta entonces todo va al cliente tcp.',
      'La lección empieza sin pausa entre mensajes (una ráfaga). Pulsa Ejecutar y mira el worker ipc.',
    ],
    goal: 'Los dos workers reciben mensajes y cada uno termina con su propia "x".',
    hint: 'En una ráfaga los doce mensajes salen antes de que el cliente ipc se haya conectado (reintenta cada 100-200 ms). Dale tiempo: pon un intervalo entre mensajes. El tutorial esperaba un segundo entero; bastan unos cientos de milisegundos.',
    solution: 'Pon el intervalo en 100 ms (o el segundo del tutorial) y ejecuta de nuevo.',
  },
  'divide-and-conquer': {
    title: '2. Divide y vencerás',
    explanation: [
      'El clásico de la zguide: un ventilador envía 100 tareas de 1 a 100 ms de trabajo cada una; los workers las procesan en paralelo y envían (PUSH) los resultados a un sink, que mide cuánto tardó el lote.',
      'Con un solo worker el lote tarda más o menos la suma de todo el trabajo (≈5 s). Cada worker más lo divide, siempre que el inicio esté sincronizado para que todos reciban su parte.',
      'Ejecútalo con 1, 2 y 4 workers: la tabla compara tus tiempos con los de la zguide.',
    ],
    goal: 'Los 100 resultados llegan al sink con 4 workers o más, en menos de la mitad de lo que dura el propio trabajo (unos 5 s en total).',
    hint: 'Añade workers con el mismo tiempo de trabajo (1-100 ms) hasta tener cuatro, y deja activado "Sincronizar el inicio" para que cada uno reciba su parte desde la primera tarea.',
    solution: 'Cuatro workers de 1-100 ms con el sink activado: aquí unos 1,2-1,4 s (la zguide midió 1018 ms).',
  },
  'slow-joiner': {
    title: '3. El que llega tarde (slow joiner)',
    explanation: [
      'worker-1 se ejecuta dentro del servidor y se conecta en menos de un milisegundo; worker-2 y worker-3 son procesos propios, así que cada uno tarda unos cientos de milisegundos en arrancar y conectarse. El ventilador empieza a enviar en cuanto puede.',
      'Un socket PUSH solo reparte entre los pares que ya completaron su conexión. El primer worker en conectarse recibe toda la ráfaga antes de que lleguen los demás: "PUSH no balancea la carga", se dice, cuando en realidad los otros nunca estuvieron conectados.',
    ],
    goal: 'Cada worker recibe al menos una cuarta parte del lote.',
    hint: 'Haz que el ventilador espere a que todos los workers hayan completado su conexión (handshake) antes del primer envío: un interruptor de la configuración del lote lo hace.',
    solution: 'Activa "Sincronizar el inicio": el reparto pasa a ser 100 / 100 / 100.',
  },
  'fast-and-slow': {
    title: '4. Workers rápidos y lentos',
    explanation: [
      'Un worker necesita 100 ms por tarea y el otro 10 ms. PUSH no sabe lo rápidos que son sus pares: reparte las tareas por turnos a cada pipe que tenga sitio.',
      'Con el high-water mark por defecto (1000 mensajes por pipe) y los buffers del kernel, todos los pipes tienen siempre sitio, así que el worker lento recibe exactamente la mitad y el lote lo espera.',
    ],
    goal: 'El worker rápido procesa al menos el doble de tareas que el lento.',
    hint: 'PUSH se salta un pipe lleno, así que haz que el pipe del worker lento se llene: pasa los dos workers a inproc (un transporte sin buffers del kernel) y pon en 1 el HWM de envío del ventilador y el de recepción de los workers.',
    solution:
      'Pasa los dos workers a inproc y pon en 1 el HWM de envío del ventilador y el de recepción de los workers: unos 6 / 34.',
  },
  backpressure: {
    title: '5. Contrapresión (backpressure)',
    explanation: [
      'Cada pipe guarda como mucho su high-water mark de mensajes (en inproc: el del emisor más el del receptor). Cuando todos los pipes están llenos, send() espera: el ventilador queda bloqueado hasta que un worker toma una tarea.',
      'Aquí un worker necesita 200 ms por tarea. Con el HWM por defecto de 1000, el lote entero de 10 cabe en el pipe y el ventilador ni se entera de lo lento que es el worker.',
    ],
    goal: 'Ver el ventilador bloqueado por contrapresión antes de su último envío.',
    hint: 'Achica el pipe hasta que el lote de 10 ya no quepa: pon el HWM de envío del ventilador y el de recepción del worker en unos pocos mensajes cada uno.',
    solution: 'Pon los dos HWM en 1: el pipe inproc guarda 2 tareas, el worker tiene 1 y el cuarto envío se bloquea.',
  },
  'worker-dies': {
    title: '6. Muere un worker',
    explanation: [
      'worker-2 se ejecuta como proceso propio y en esta lección muere (SIGKILL) poco después del décimo envío, hagas lo que hagas.',
      'ZeroMQ no redirige lo que estaba en cola para un par muerto: las tareas de su pipe (y la que estaba procesando) se pierden. Solo lo que aún no se había enviado va a los supervivientes.',
    ],
    goal: 'Terminar el lote sin perder ninguna tarea, aunque worker-2 muera.',
    hint: 'Con un worker mueren dos cosas: las tareas que esperan en su pipe y la que tiene entre manos. Marca el ritmo del ventilador con un intervalo mayor que el trabajo, para que nada espere, y haz rápido a worker-2 (unos milisegundos por tarea), para que esté libre cuando lo maten.',
    solution:
      'Marca el ritmo del ventilador (intervalo de 100 ms) y haz rápido a worker-2 (0 ms): cuando muere su pipe está vacío y el resto del lote va a worker-1.',
  },
  'fair-queuing': {
    title: '7. Cola justa (fair-queuing) en el sink',
    explanation: [
      'El socket PULL del sink lee de todos sus workers por turnos: fair-queuing. Un worker muy activo no puede dejar sin turno a los demás, y los resultados de todos llegan intercalados.',
      'Este pipeline aún no tiene sink: los resultados no van a ninguna parte.',
    ],
    goal: 'Todos los resultados llegan al sink, con los de ambos workers intercalados desde el principio.',
    hint: 'Los resultados no van a ninguna parte: activa el sink.',
    solution: 'Activa el sink y ejecuta: recoge los 100 resultados, alternando entre los workers.',
  },
};
