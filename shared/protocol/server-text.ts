/**
 * (A catalogue: its length is one entry per text, each in both languages, kept in one file so that a test can hold
 * the two languages to the same keys and placeholders.)
 *
 * What the server says to people, in English and Spanish: why it refused something, and notes about what it did
 * instead (a port in use, options that apply from the next run). An error carries `message` (English, for
 * scripts and logs) and `text` (a key and its parameters); an endpoint or `options:applied` carries `note` and
 * `noteText` the same way; the page says them in its reader's language. Parameters may be texts themselves (an
 * import's bad event embeds the validation problem).
 *
 * Keys never change meaning; a page that meets a key it does not know shows the English.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

export type Lang = 'en' | 'es';

const TEXTS = {
  // ---- requests and messages
  'request.notJson': {
    en: 'Request body is not valid JSON: {detail}',
    es: 'El cuerpo de la petición no es JSON válido: {detail}',
  },
  'request.tooLarge': {
    en: 'Request body is too large: {detail}',
    es: 'El cuerpo de la petición es demasiado grande: {detail}',
  },
  'request.invalid': { en: 'Invalid request: {problem}.', es: 'Petición no válida: {problem}.' },
  // Any other refusal by the HTTP framework (its English text as it is).
  'request.refused': { en: '{detail}', es: 'Petición rechazada: {detail}' },
  'request.noRoute': { en: 'No route {method} {url}.', es: 'No existe la ruta {method} {url}.' },
  'request.queryRange': {
    en: 'Invalid request: querystring/{name} must be {min}-{max} (got {got}).',
    es: 'Petición no válida: querystring/{name} debe estar entre {min} y {max} (se recibió {got}).',
  },
  // Refused before any route: see server/http/site-guard.ts.
  'request.foreignHost': {
    en: 'This server does not answer as "{host}"; its operator can allow that name with --allowed-host.',
    es: 'Este servidor no responde como "{host}"; quien lo administra puede permitir ese nombre con --allowed-host.',
  },
  'request.foreignOrigin': {
    en: 'Requests that change something must come from this server\'s own page, not from "{origin}"; its operator can allow that origin with --allowed-origin.',
    es: 'Las peticiones que cambian algo deben venir de la propia página de este servidor, no de "{origin}"; quien lo administra puede permitir ese origen con --allowed-origin.',
  },
  'request.mediaType': {
    en: 'Request bodies must be JSON (content-type application/json), not "{type}".',
    es: 'El cuerpo de la petición debe ser JSON (content-type application/json), no "{type}".',
  },

  // ---- visitors and roles (server/pipeline/access.ts)
  'role.owner': { en: 'owner', es: 'propietario' },
  'role.driver': { en: 'driver (invited)', es: 'conductor (invitado)' },
  'role.watcher': { en: 'watcher', es: 'espectador' },
  'access.forbidden': {
    en: 'Your role in this playground is {role}; this needs {needed}.',
    es: 'Tu papel en este playground es {role}; para esto hace falta ser {needed}.',
  },
  'access.runOwnerOnly': {
    en: 'Only the visitor who recorded or imported run {run} may rename, publish or delete it.',
    es: 'Solo quien grabó o importó la ejecución {run} puede renombrarla, publicarla o borrarla.',
  },
  'access.badToken': {
    en: 'This link is not valid for playground "{playground}" (or the playground was closed).',
    es: 'Este enlace no es válido para el playground "{playground}" (o el playground se cerró).',
  },
  internal: {
    en: 'Internal error; the server log has the details.',
    es: 'Error interno; el registro del servidor tiene los detalles.',
  },
  'message.tooLarge': {
    en: 'Message too large ({size} bytes, limit {limit}).',
    es: 'Mensaje demasiado grande ({size} bytes; el límite es {limit}).',
  },
  'message.notUtf8': {
    en: 'Text frames must be valid UTF-8; this one is not.',
    es: 'Los mensajes de texto deben ser UTF-8 válido; este no lo es.',
  },
  'message.notJson': { en: 'Not valid JSON: {detail}', es: 'No es JSON válido: {detail}' },
  'message.notObject': {
    en: 'A {what} must be a JSON object with a "type".',
    es: 'Un {what} debe ser un objeto JSON con un "type".',
  },
  'message.noType': { en: 'A {what} needs a string "type" field.', es: 'Un {what} necesita un campo "type" de texto.' },
  'message.unknownType': {
    en: 'Unknown {what} type "{type}". Known: {known}.',
    es: 'Tipo de {what} desconocido: "{type}". Se conocen: {known}.',
  },
  'message.invalid': { en: '{type}: {problem}', es: '{type}: {problem}' },
  'message.tooDeep': {
    en: 'Refused: the JSON nests more than {limit} levels of arrays or objects.',
    es: 'Rechazado: el JSON anida más de {limit} niveles de arrays u objetos.',
  },

  // ---- one validation problem (a field and the rule it breaks)
  'validation.max': {
    en: '{field} must be at most {limit} (got {got})',
    es: '{field} debe ser como mucho {limit} (se recibió {got})',
  },
  'validation.min': {
    en: '{field} must be at least {limit} (got {got})',
    es: '{field} debe ser al menos {limit} (se recibió {got})',
  },
  'validation.type': {
    en: '{field} must be {expected} (got {got})',
    es: '{field} debe ser {expected} (se recibió {got})',
  },
  'validation.required': { en: '{field} is missing', es: 'falta {field}' },
  'validation.unknownField': {
    en: '{field} has an unknown field "{name}"',
    es: '{field} tiene un campo desconocido: "{name}"',
  },
  'validation.maxLength': {
    en: '{field} must be at most {limit} characters long',
    es: '{field} debe tener como mucho {limit} caracteres',
  },
  'validation.minLength': {
    en: '{field} must be at least {limit} characters long',
    es: '{field} debe tener al menos {limit} caracteres',
  },
  'validation.invalid': { en: '{field} is not valid (got {got})', es: '{field} no es válido (se recibió {got})' },
  'validation.blankName': {
    en: 'Invalid request: body/name must not be blank.',
    es: 'Petición no válida: el nombre no puede estar en blanco.',
  },

  // ---- playgrounds, runs and workers
  'playground.unknown': {
    en: 'No playground "{playground}" on this server (it may have been closed after being idle).',
    es: 'No hay ningún playground "{playground}" en este servidor (puede que se cerrara por inactividad).',
  },
  'playground.closed': { en: 'This playground was closed.', es: 'Este playground se cerró.' },
  'playground.serverFull': {
    en: 'This server already runs {max} playgrounds; join one by its link or try again later.',
    es: 'Este servidor ya tiene {max} playgrounds abiertos; únete a uno con su enlace o inténtalo más tarde.',
  },
  'scenario.unknown': {
    en: 'Unknown scenario "{scenario}". Known: {known}.',
    es: 'Escenario desconocido: "{scenario}". Se conocen: {known}.',
  },
  'lesson.unknown': {
    en: 'Unknown lesson "{lesson}". Known: {known}.',
    es: 'Lección desconocida: "{lesson}". Se conocen: {known}.',
  },
  'lesson.otherScenario': {
    en: 'Lesson {lesson} runs on the {scenario} scenario; create a playground for it.',
    es: 'La lección {lesson} usa el escenario {scenario}; crea un playground para ella.',
  },
  'run.activeParams': {
    en: 'A run is in progress; stop it or wait for it to end before changing parameters.',
    es: 'Hay una ejecución en curso; detenla o espera a que termine antes de cambiar parámetros.',
  },
  'run.activeSink': {
    en: 'The sink is set up when a run starts; change it between runs.',
    es: 'El sink se prepara al empezar una ejecución; cámbialo entre ejecuciones.',
  },
  'run.activeLesson': {
    en: 'A run is in progress; stop it before changing lessons.',
    es: 'Hay una ejecución en curso; detenla antes de cambiar de lección.',
  },
  'run.activeUndo': {
    en: 'Undo works between runs; stop the run first.',
    es: 'Deshacer funciona entre ejecuciones; detén antes la ejecución.',
  },
  'run.activeEndpoints': {
    en: 'Endpoints are bound when a run starts; change them between runs.',
    es: 'Los endpoints se enlazan al empezar una ejecución; cámbialos entre ejecuciones.',
  },
  'run.stillRunning': {
    en: 'Run {run} is still in progress; stop it first.',
    es: 'La ejecución {run} sigue en curso; detenla primero.',
  },
  'run.none': { en: 'No run is in progress.', es: 'No hay ninguna ejecución en curso.' },
  'run.unknown': {
    en: 'No run "{run}" in playground {playground} (only the last {kept} are kept in memory).',
    es: 'No hay ninguna ejecución "{run}" en el playground {playground} (solo se guardan en memoria las últimas {kept}).',
  },
  'undo.nothing': { en: 'Nothing to undo.', es: 'No hay nada que deshacer.' },
  'worker.limit': {
    en: 'A playground has at most {max} workers; remove one first.',
    es: 'Un playground tiene como mucho {max} workers; quita uno primero.',
  },
  'worker.unknown': {
    en: 'No worker "{worker}" in playground {playground}.',
    es: 'No hay ningún worker "{worker}" en el playground {playground}.',
  },
  'worker.unknownInRun': {
    en: 'No worker "{worker}" in this run.',
    es: 'No hay ningún worker "{worker}" en esta ejecución.',
  },
  'worker.processNeedsRun': {
    en: 'Worker processes only exist during a run; start one first.',
    es: 'Los procesos de los workers solo existen durante una ejecución; empieza una primero.',
  },
  'worker.noProcess': {
    en: '{worker} has no running process to signal; restart it first.',
    es: '{worker} no tiene un proceso en marcha al que enviar la señal; reinícialo primero.',
  },
  'worker.restarting': {
    en: '{worker} is restarting; wait until it is back before restarting or signalling it again.',
    es: '{worker} se está reiniciando; espera a que vuelva antes de reiniciarlo o enviarle otra señal.',
  },
  'worker.inProcessSignal': {
    en: "{worker} runs inside the server's process, so it cannot be killed or hung on its own; add a process worker for that, or remove this one to close its socket.",
    es: '{worker} se ejecuta dentro del proceso del servidor, así que no se puede matar ni congelar por separado; añade un worker en su propio proceso para eso, o quita este para cerrar su socket.',
  },
  'worker.transportUnavailable': {
    en: "This scenario's ventilator binds {bound} only; {transport} is available in the pipeline sandbox.",
    es: 'El ventilador de este escenario solo enlaza {bound}; {transport} está disponible en el sandbox del pipeline.',
  },
  'sink.inprocProcess': {
    en: 'A process worker cannot reach an inproc sink (inproc only works inside one process); put the sink on tcp or ipc.',
    es: 'Un worker en su propio proceso no puede llegar a un sink inproc (inproc solo funciona dentro de un proceso); pon el sink en tcp o ipc.',
  },
  'worker.inprocProcess': {
    en: 'inproc only works between sockets of one process (one ZeroMQ context); a process worker needs tcp or ipc.',
    es: 'inproc solo funciona entre sockets de un mismo proceso (un contexto de ZeroMQ); un worker en su propio proceso necesita tcp o ipc.',
  },
  'worker.workRange': {
    en: 'workMs.min ({min}) must not be above workMs.max ({max}).',
    es: 'workMs.min ({min}) no puede ser mayor que workMs.max ({max}).',
  },
  'sink.tutorial': {
    en: 'The tutorial has no sink: its clients only print what they receive. Use the pipeline sandbox.',
    es: 'El tutorial no tiene sink: sus clientes solo imprimen lo que reciben. Usa el sandbox del pipeline.',
  },
  'endpoint.unknown': {
    en: 'This scenario has no endpoint "{name}".',
    es: 'Este escenario no tiene ningún endpoint "{name}".',
  },
  'endpoint.wrongTransport': {
    en: 'The {name} endpoint needs a {expected}:// address, not {got}://.',
    es: 'El endpoint {name} necesita una dirección {expected}://, no {got}://.',
  },
  'endpoint.notSocket': {
    en: '{path} already exists and is not a socket; pick another name.',
    es: '{path} ya existe y no es un socket; elige otro nombre.',
  },
  'endpoint.noTransport': {
    en: "This scenario's ventilator has no {name} endpoint.",
    es: 'El ventilador de este escenario no tiene endpoint {name}.',
  },

  // ---- endpoints typed by a person (a security boundary: see endpoints.ts)
  'endpoint.control': {
    en: 'Endpoints may not contain control characters (such as NUL or a line break); found {char} at position {position}.',
    es: 'Los endpoints no pueden contener caracteres de control (como NUL o un salto de línea); hay {char} en la posición {position}.',
  },
  'endpoint.syntax': {
    en: '"{endpoint}" is not an endpoint; write it as tcp://127.0.0.1:5555, ipc:///path or inproc://name.',
    es: '"{endpoint}" no es un endpoint; escríbelo como tcp://127.0.0.1:5555, ipc:///ruta o inproc://nombre.',
  },
  'endpoint.inprocName': {
    en: 'inproc names may use letters, digits, "_", "." and "-" (1-64 characters), not "{name}".',
    es: 'Los nombres inproc pueden usar letras, dígitos, "_", "." y "-" (de 1 a 64 caracteres), no "{name}".',
  },
  'endpoint.transport': {
    en: 'Transport "{scheme}" is not supported here; use tcp, ipc or inproc.',
    es: 'El transporte "{scheme}" no se admite aquí; usa tcp, ipc o inproc.',
  },
  'endpoint.tcpSyntax': {
    en: '"tcp://{rest}" needs a host and a port, like tcp://127.0.0.1:5555.',
    es: '"tcp://{rest}" necesita un host y un puerto, como tcp://127.0.0.1:5555.',
  },
  'endpoint.tcpHost': {
    en: 'tcp host "{host}" is not allowed: this server binds loopback only (127.0.0.1) unless its operator started it with --expose.',
    es: 'El host tcp "{host}" no está permitido: este servidor solo enlaza en loopback (127.0.0.1), salvo que quien lo administra lo arranque con --expose.',
  },
  'endpoint.tcpPort': {
    en: 'tcp port {port} is out of range; use {min}-{max} (or * for any free port).',
    es: 'El puerto tcp {port} está fuera de rango; usa {min}-{max} (o * para cualquier puerto libre).',
  },
  'endpoint.ipcRelative': {
    en: 'ipc paths must be absolute, like ipc://{folder}/demo.',
    es: 'Las rutas ipc deben ser absolutas, como ipc://{folder}/demo.',
  },
  'endpoint.ipcLength': {
    en: 'ipc path is {length} bytes in UTF-8; the limit is {max} (a Unix socket path).',
    es: 'La ruta ipc ocupa {length} bytes en UTF-8; el límite es {max} (una ruta de socket Unix).',
  },
  'endpoint.ipcPlain': {
    en: 'ipc path "{path}" must be a plain path without "..", "." or doubled slashes.',
    es: 'La ruta ipc "{path}" debe ser una ruta simple, sin "..", "." ni barras dobles.',
  },
  'endpoint.ipcOutside': {
    en: 'ipc path "{path}" is outside this playground\'s folder {folder}; pick a name there.',
    es: 'La ruta ipc "{path}" está fuera de la carpeta de este playground, {folder}; elige un nombre allí.',
  },
  'endpoint.ipcOtherPlayground': {
    en: 'ipc path "{path}" belongs to another playground on this server; pick another name.',
    es: 'La ruta ipc "{path}" pertenece a otro playground de este servidor; elige otro nombre.',
  },
  'endpoint.ipcNoFreePath': {
    en: 'No free ipc path for the {node} in {folder}: {path} and its alternatives are taken.',
    es: 'No hay ninguna ruta ipc libre para {node} en {folder}: {path} y sus alternativas están ocupadas.',
  },
  'endpoint.ipcUnknown': {
    en: '{path} cannot be examined (it may be under a file, or unreadable), so it is not used; pick another name.',
    es: 'No se puede examinar {path} (puede estar bajo un archivo, o no ser legible), así que no se usa; elige otro nombre.',
  },

  // ---- notes: what the server did instead, and why
  'note.ipcClaimed': {
    en: '{path} is used by another playground on this server; bound {file} instead.',
    es: '{path} lo usa otro playground de este servidor; se enlazó {file} en su lugar.',
  },
  'note.ipcInUse': {
    en: '{path} is in use by another program; bound {file} instead.',
    es: '{path} lo está usando otro programa; se enlazó {file} en su lugar.',
  },
  'note.ipcNotSocket': {
    en: '{path} exists and is not a socket, so it was left alone; bound {file} instead.',
    es: '{path} existe y no es un socket, así que no se tocó; se enlazó {file} en su lugar.',
  },
  'note.ipcUnknown': {
    en: '{path} could not be examined, so it was left alone; bound {file} instead.',
    es: 'No se pudo examinar {path}, así que no se tocó; se enlazó {file} en su lugar.',
  },
  'note.tcpInUse': {
    en: 'port {port} is in use by another program; bound a free port instead.',
    es: 'el puerto {port} lo está usando otro programa; se enlazó un puerto libre en su lugar.',
  },
  'note.workersRecreated': {
    en: 'Each worker closed its socket and connected a new one with the new options (tasks queued for the old one are lost).',
    es: 'Cada worker cerró su socket y conectó uno nuevo con las nuevas opciones (las tareas en cola del anterior se pierden).',
  },
  'note.nextRun': {
    en: "The {node}'s socket options apply from the next run: its socket is bound and keeps the pipes it has.",
    es: 'Las opciones del socket de {node} se aplican desde la próxima ejecución: su socket ya está enlazado y conserva sus pipes.',
  },

  // ---- recorded runs
  'record.unknownRun': {
    en: 'No recorded run "{run}" is available to you: it may have been deleted, or its owner has not made it public.',
    es: 'No hay ninguna ejecución grabada "{run}" disponible para ti: puede que se borrara, o que quien la grabó no la haya hecho pública.',
  },
  'record.notGraphRun': {
    en: 'Run "{run}" is a pipeline run: its counters at a moment are at /counters?t=, not /graph-state.',
    es: 'La ejecución "{run}" es del pipeline: sus contadores en un momento están en /counters?t=, no en /graph-state.',
  },
  'record.badCursor': {
    en: '"before" must be the nextBefore of a previous page (got "{before}").',
    es: '"before" debe ser el nextBefore de una página anterior (se recibió "{before}").',
  },
  'record.busy': {
    en: 'The run database is busy (a large import or delete is being written); try again in a moment.',
    es: 'La base de datos de ejecuciones está ocupada (se está escribiendo una importación o un borrado grande); inténtalo en un momento.',
  },
  'record.activeDelete': {
    en: 'Run "{run}" is still being recorded; stop it (or wait for it to end) before deleting it.',
    es: 'La ejecución "{run}" aún se está grabando; detenla (o espera a que termine) antes de borrarla.',
  },
  'record.activeExport': {
    en: 'Run "{run}" is still being recorded; export it once it has ended.',
    es: 'La ejecución "{run}" aún se está grabando; expórtala cuando haya terminado.',
  },
  'record.changedDuringExport': {
    en: 'Run {run} changed while it was exported ({written} of {total} events).',
    es: 'La ejecución {run} cambió mientras se exportaba ({written} de {total} eventos).',
  },

  // ---- importing a run export
  'import.noFile': {
    en: 'No file: send the JSON of a run export as the request body.',
    es: 'No hay archivo: envía el JSON de una ejecución exportada como cuerpo de la petición.',
  },
  'import.empty': {
    en: 'The file is empty: send the JSON of a run export.',
    es: 'El archivo está vacío: envía el JSON de una ejecución exportada.',
  },
  'import.notJson': {
    en: 'The file is not valid JSON (truncated or corrupt?): {detail}.',
    es: 'El archivo no es JSON válido (¿cortado o dañado?): {detail}.',
  },
  'import.tooDeep': {
    en: 'The file nests more than {limit} levels of arrays or objects; a run export never does.',
    es: 'El archivo anida más de {limit} niveles de arrays u objetos; una ejecución exportada nunca lo hace.',
  },
  'import.notObject': {
    en: 'Not a run export: expected a JSON object with "format", "version", "run" and "events".',
    es: 'No es una ejecución exportada: se esperaba un objeto JSON con "format", "version", "run" y "events".',
  },
  'import.format': {
    en: 'Not a ZeroMQ Pipeline Playground run: "format" is {got}, expected "{expected}".',
    es: 'No es una ejecución de ZeroMQ Pipeline Playground: "format" es {got} y se esperaba "{expected}".',
  },
  'import.version': {
    en: '"version" must be a positive integer (got {got}).',
    es: '"version" debe ser un entero positivo (se recibió {got}).',
  },
  'import.newer': {
    en: 'This run was exported in format version {version}, which is newer than this server reads (version {known}). Import it with a newer version of the playground.',
    es: 'Esta ejecución se exportó con la versión de formato {version}, más nueva que la que lee este servidor (versión {known}). Impórtala con una versión más nueva del playground.',
  },
  'import.unknownField': {
    en: 'Unknown top-level field "{name}" in a version {version} export.',
    es: 'Campo de primer nivel desconocido, "{name}", en una exportación de versión {version}.',
  },
  'import.exportedAt': {
    en: '"exportedAt" must be a date string (got {got}).',
    es: '"exportedAt" debe ser una fecha en texto (se recibió {got}).',
  },
  'import.run': { en: 'run: {problem}.', es: 'run: {problem}.' },
  'import.eventsNotArray': {
    en: '"events" must be an array (got {got}).',
    es: '"events" debe ser una lista (se recibió {got}).',
  },
  'import.truncated': {
    en: 'The file is truncated or was edited: run.eventCount is {expected} but it holds {count} events.',
    es: 'El archivo está cortado o se editó: run.eventCount es {expected} pero contiene {count} eventos.',
  },
  'import.noEvents': {
    en: 'The file holds no events; a recorded run has at least its run:started event.',
    es: 'El archivo no contiene eventos; una ejecución grabada tiene al menos su evento run:started.',
  },
  'import.badEvent': { en: '{where}: {problem}', es: '{where}: {problem}' },
  'import.otherRun': {
    en: '{where} belongs to run "{run}", not to the exported run "{exported}".',
    es: '{where} pertenece a la ejecución "{run}", no a la exportada, "{exported}".',
  },
  'import.firstNotStarted': {
    en: 'events[0] must be run:started (got {type}).',
    es: 'events[0] debe ser run:started (es {type}).',
  },
  'import.secondStarted': {
    en: '{where}: a second run:started inside one run.',
    es: '{where}: un segundo run:started dentro de una misma ejecución.',
  },
  'import.seqOrder': {
    en: '{where}: seq {seq} is not greater than the previous seq {previous}; events must be in strictly increasing seq order.',
    es: '{where}: el seq {seq} no es mayor que el anterior, {previous}; los eventos deben ir en orden de seq estrictamente creciente.',
  },
  'import.timeOrder': {
    en: "{where}: t {t} is earlier than the previous event's t {previous}.",
    es: '{where}: t {t} es anterior al t del evento anterior, {previous}.',
  },
  'import.secondEnded': {
    en: '{where}: a second run:ended (the first is events[{first}]).',
    es: '{where}: un segundo run:ended (el primero es events[{first}]).',
  },
  'import.seqRange': {
    en: 'run.firstSeq/lastSeq ({first}..{last}) do not match the events ({eventsFirst}..{eventsLast}).',
    es: 'run.firstSeq/lastSeq ({first}..{last}) no coinciden con los eventos ({eventsFirst}..{eventsLast}).',
  },
  'import.summaryMismatch': {
    en: 'The summary says {field} is {summary}, but the events add up to {events}: the file was edited or is damaged.',
    es: 'El resumen dice que {field} es {summary}, pero los eventos suman {events}: el archivo se editó o está dañado.',
  },
  'import.endedWithoutEnd': {
    en: 'run.status is "ended" but the events stop before run:ended (last is {type} at seq {seq}): truncated?',
    es: 'run.status es "ended" pero los eventos acaban antes de run:ended (el último es {type} con seq {seq}): ¿está cortado?',
  },
  // A graph run's export (shared/protocol/graph-history.ts).
  'import.graphEventType': {
    en: '{where}: {type} is not an event of a graph run.',
    es: '{where}: {type} no es un evento de una ejecución de grafo.',
  },
  'import.graphFirst': {
    en: 'events[0] must be graph:started (got {type}).',
    es: 'events[0] debe ser graph:started (es {type}).',
  },
  'import.graphSecondStarted': {
    en: '{where}: a second graph:started inside one run.',
    es: '{where}: un segundo graph:started dentro de una misma ejecución.',
  },
  'import.graphSecondEnded': {
    en: '{where}: a second graph:ended (the first is events[{first}]).',
    es: '{where}: un segundo graph:ended (el primero es events[{first}]).',
  },
  'import.graphTooManyNodes': {
    en: '{where}: this file names more than {max} nodes, more than one graph run can have: the file was edited or is damaged.',
    es: '{where}: este archivo nombra más de {max} nodos, más de los que puede tener una ejecución de un grafo: el archivo se editó o está dañado.',
  },
  'import.graphMismatch': {
    en: 'The graph:started event does not name the scenario and graph of run.scenario and run.graph: the file was edited or is damaged.',
    es: 'El evento graph:started no nombra el escenario y el grafo de run.scenario y run.graph: el archivo se editó o está dañado.',
  },
  'import.graphDuplicate': {
    en: 'run.graph has {what} "{name}" twice: the file was edited or is damaged.',
    es: 'run.graph tiene {what} "{name}" dos veces: el archivo se editó o está dañado.',
  },
  'import.graphAddedNode': {
    en: '{where}: node:added for "{node}" carries a node of another name, or a link that does not join "{node}" to another node: the file was edited or is damaged.',
    es: '{where}: node:added de "{node}" trae un nodo de otro nombre, o un enlace que no une "{node}" a otro nodo: el archivo se editó o está dañado.',
  },
  'import.graphEndedWithoutEnd': {
    en: 'run.status is "ended" but the events stop before graph:ended (last is {type} at seq {seq}): truncated?',
    es: 'run.status es "ended" pero los eventos acaban antes de graph:ended (el último es {type} con seq {seq}): ¿está cortado?',
  },
  'import.graphSummaryDiffers': {
    en: 'run.graphSummary is not the summary of the graph:ended event: the file was edited or is damaged.',
    es: 'run.graphSummary no es el resumen del evento graph:ended: el archivo se editó o está dañado.',
  },

  // ---- the operator's limits (server/limits.ts): what one visitor, playground or the whole server may use
  'limit.commands': {
    en: 'Too many commands: at most {rate} a second ({burst} at once) per connection and per visitor; this one was not carried out.',
    es: 'Demasiados comandos: como mucho {rate} por segundo ({burst} de golpe) por conexión y por visitante; este no se ha ejecutado.',
  },
  'limit.requests': {
    en: 'Too many requests: at most {rate} a second per visitor; try again in {after}.',
    es: 'Demasiadas peticiones: como mucho {rate} por segundo por visitante; vuelve a intentarlo en {after}.',
  },
  'limit.requestsPerAddress': {
    en: 'Too many requests from your network address: at most {rate} a second; try again in {after}.',
    es: 'Demasiadas peticiones desde tu dirección de red: como mucho {rate} por segundo; vuelve a intentarlo en {after}.',
  },
  'limit.playgroundsPerVisitor': {
    en: 'You already have {max} playgrounds open and each of them is in use (running, or open in a page), the most one visitor may have: stop a run or close a page on one of them first.',
    es: 'Ya tienes {max} playgrounds abiertos y cada uno está en uso (ejecutándose, o abierto en una página), el máximo por visitante: detén una ejecución o cierra la página de uno de ellos antes.',
  },
  'limit.processWorkers': {
    en: 'A playground may have at most {max} process workers; add an in-process worker instead.',
    es: 'Un playground puede tener como mucho {max} workers en proceso propio; añade un worker dentro del servidor.',
  },
  'limit.serverProcessWorkers': {
    en: 'The server runs at most {max} process workers at once and {running} are running now; this needs {wanted} more. Try again when other runs have ended, or use in-process workers.',
    es: 'El servidor ejecuta como mucho {max} workers en proceso propio a la vez y ahora hay {running}; esto necesita {wanted} más. Vuelve a intentarlo cuando acaben otras ejecuciones, o usa workers dentro del servidor.',
  },
  'limit.graphProcesses': {
    en: 'A graph may run at most {max} programs as their own processes, and this one has {count}; run the others inside the server (no "process").',
    es: 'Un grafo puede ejecutar como mucho {max} programas como procesos propios, y este tiene {count}; ejecuta los demás dentro del servidor (sin "process").',
  },
  'limit.serverGraphProcesses': {
    en: 'The server runs at most {max} processes at once (process workers and process nodes) and {running} are running now; this run needs {wanted} more. Try again when other runs have ended, or run the nodes inside the server.',
    es: 'El servidor ejecuta como mucho {max} procesos a la vez (workers y nodos en proceso propio) y ahora hay {running}; esta ejecución necesita {wanted} más. Vuelve a intentarlo cuando acaben otras ejecuciones, o ejecuta los nodos dentro del servidor.',
  },
  'limit.runPayload': {
    en: '{tasks} tasks of {payload} bytes make {mib} MiB; this server allows at most {max} MiB per run (fewer tasks or a smaller payload).',
    es: '{tasks} tareas de {payload} bytes suman {mib} MiB; este servidor permite como mucho {max} MiB por ejecución (menos tareas o una carga más pequeña).',
  },
  'limit.imports': {
    en: 'The server is already importing {max} files at once; try again in a moment.',
    es: 'El servidor ya está importando {max} archivos a la vez; vuelve a intentarlo en un momento.',
  },
  'limit.graphRunBytes': {
    en: "This graph's senders send {mib} MiB of messages, a publisher's copy for each subscriber included; this server allows at most {max} MiB per run (fewer messages, shorter texts or fewer subscribers).",
    es: 'Los emisores de este grafo envían {mib} MiB de mensajes, contando la copia de un publicador para cada suscriptor; este servidor permite como mucho {max} MiB por ejecución (menos mensajes, textos más cortos o menos suscriptores).',
  },
  'limit.graphStates': {
    en: 'You are already waiting for {max} states of recorded graph runs; try again when they have arrived.',
    es: 'Ya estás esperando {max} estados de ejecuciones de grafos grabadas; vuelve a intentarlo cuando hayan llegado.',
  },

  // ---- graph playgrounds (issue 11: any graph of sockets); the problems are listed in English
  'graph.invalid': {
    en: 'This graph cannot run: {problems}.',
    es: 'Este grafo no puede ejecutarse: {problems}.',
  },
  'graph.nodeLimit': {
    en: 'A graph may have at most {max} nodes; this one has {nodes}.',
    es: 'Un grafo puede tener como mucho {max} nodos; este tiene {nodes}.',
  },
  'graph.ipcName': {
    en: 'ipc path "{path}" must be in {folder} with a name that starts with "{prefix}" (this playground\'s own names).',
    es: 'La ruta ipc "{path}" debe estar en {folder} con un nombre que empiece por "{prefix}" (los nombres propios de este playground).',
  },
  // ---- live topology of graph runs (issue 11): a subscriber joins or leaves while messages flow
  'graph.unknownNode': {
    en: 'This graph has no node "{node}".',
    es: 'Este grafo no tiene ningún nodo "{node}".',
  },
  'graph.nodeExists': {
    en: 'This graph already has a node "{node}"; choose another name.',
    es: 'Este grafo ya tiene un nodo "{node}"; elige otro nombre.',
  },
  'graph.nodeInRun': {
    en: 'This run already had a node "{node}"; choose another name.',
    es: 'Esta ejecución ya tuvo un nodo "{node}"; elige otro nombre.',
  },
  'graph.lastNode': {
    en: 'A graph needs at least one node: "{node}" is its last.',
    es: 'Un grafo necesita al menos un nodo: "{node}" es el último.',
  },
  'graph.unknownLink': {
    en: 'This graph has no link {from} - {to}.',
    es: 'Este grafo no tiene ningún enlace {from} - {to}.',
  },
  'graph.linkExists': {
    en: 'The nodes "{from}" and "{to}" are linked already.',
    es: 'Los nodos "{from}" y "{to}" ya están enlazados.',
  },
  'graph.notPublisher': {
    en: '"{node}" is a {socket}, not a publisher (PUB or XPUB): a subscriber connects to a publisher.',
    es: '"{node}" es un {socket}, no un publicador (PUB o XPUB): un suscriptor se conecta a un publicador.',
  },
  'graph.publisherNoBind': {
    en: '"{node}" binds no endpoint a subscriber could connect to.',
    es: '"{node}" no hace bind en ningún endpoint al que pueda conectarse un suscriptor.',
  },
  'graph.publisherStopped': {
    en: '"{node}" has stopped publishing in this run: a new subscriber would get nothing from it.',
    es: '"{node}" ya dejó de publicar en esta ejecución: un suscriptor nuevo no recibiría nada.',
  },
  'graph.notSubscriber': {
    en: '"{node}" is a {socket}, not a subscriber (SUB): only a SUB has prefixes to change.',
    es: '"{node}" es un {socket}, no un suscriptor (SUB): solo un SUB tiene prefijos que cambiar.',
  },
  'graph.liveSubscriberOnly': {
    en: 'Only a subscriber (SUB) can join a run while it flows; stop the run to change the rest of the graph.',
    es: 'Solo un suscriptor (SUB) puede unirse a una ejecución en marcha; detén la ejecución para cambiar el resto del grafo.',
  },
  'graph.liveWorkerOnly': {
    en: 'Only a worker (PULL) can join a PUSH while a run flows.',
    es: 'Solo un trabajador (PULL) puede unirse a un PUSH con la ejecución en marcha.',
  },
  'graph.notPusher': {
    en: '"{node}" is a {socket}, not a PUSH: a worker (PULL) connects to a PUSH.',
    es: '"{node}" es un {socket}, no un PUSH: un trabajador (PULL) se conecta a un PUSH.',
  },
  'graph.pusherNoBind': {
    en: '"{node}" binds no endpoint: a new worker has nowhere to connect. Give it a link it binds.',
    es: '"{node}" no enlaza ningún punto de conexión: un trabajador nuevo no tiene adónde conectarse. Dale un enlace que enlace él.',
  },
  'graph.pusherStopped': {
    en: '"{node}" has stopped in this run: a new worker would get nothing from it. Add it for the next run.',
    es: '"{node}" ya se ha detenido en esta ejecución: un trabajador nuevo no recibiría nada de él. Añádelo para la próxima ejecución.',
  },
  // ---- any node added with one link to a node the graph has (shared/scenarios/linked-node.ts, graph-live.ts)
  'graph.linkedIncompatible': {
    en: 'A {socket} may not talk to "{node}", a {peerSocket}: ZeroMQ would drop the connection before its handshake. A {peerSocket} talks to: {fits}.',
    es: 'Un {socket} no puede hablar con "{node}", un {peerSocket}: ZeroMQ cortaría la conexión antes del saludo. Un {peerSocket} habla con: {fits}.',
  },
  'graph.linkedPairTaken': {
    en: '"{node}" is a PAIR that has its peer already: a PAIR takes one peer, a second would be refused. Link the new node to another node.',
    es: '"{node}" es un PAIR que ya tiene su par: un PAIR acepta un solo par, un segundo sería rechazado. Enlaza el nodo nuevo con otro nodo.',
  },
  'graph.linkedInprocOnly': {
    en: '"{node}" binds only over inproc, which cannot cross a process: add the node in the server\'s process, or move "{node}" to tcp or ipc first.',
    es: '"{node}" solo hace bind por inproc, que no cruza procesos: añade el nodo en el proceso del servidor, o mueve antes "{node}" a tcp o ipc.',
  },
  'graph.linkedRole': {
    en: 'A {socket} cannot play the role "{role}" (it can: {roles}).',
    es: 'Un {socket} no puede hacer el papel "{role}" (puede: {roles}).',
  },
  'graph.linkedRoleTied': {
    en: '"{node}" would forward through another node or be a proxy: a node added with one link plays a role of its own. Leave the role out, or build it between runs.',
    es: '"{node}" reenviaría a través de otro nodo o sería un proxy: un nodo añadido con un enlace tiene un papel propio. Omite el papel, o constrúyelo entre ejecuciones.',
  },
  'graph.linkedPeerStopped': {
    en: '"{node}" has stopped in this run: a new node linked to it would get nothing. Add it for the next run.',
    es: '"{node}" ya se detuvo en esta ejecución: un nodo nuevo enlazado con él no recibiría nada. Añádelo para la próxima ejecución.',
  },
  'graph.linkedStarting': {
    en: 'The run is still binding its endpoints; add "{node}" in a moment.',
    es: 'La ejecución aún está haciendo bind de sus endpoints; añade "{node}" dentro de un momento.',
  },
  'graph.liveRemoveSubscriberOnly': {
    en: 'While a run is on, only a subscriber (SUB) can be removed; "{node}" is a {socket}. Stop the run to remove it.',
    es: 'Con una ejecución en marcha solo se puede quitar un suscriptor (SUB); "{node}" es un {socket}. Detén la ejecución para quitarlo.',
  },
  // ---- the free sandbox's limits, held by the server too (shared/scenarios/sandbox.ts sandboxExcesses)
  'graph.sandboxValue': {
    en: 'Node "{node}": {param} is {got}, more than the free sandbox allows (at most {max}). Lower it and send the graph again.',
    es: 'Nodo "{node}": {param} vale {got}, más de lo que permite el sandbox libre (como mucho {max}). Bájalo y vuelve a enviar el grafo.',
  },
  'graph.sandboxChars': {
    en: 'Node "{node}": {param} is {got} characters long, more than the free sandbox allows (at most {max}). Shorten it and send the graph again.',
    es: 'Nodo "{node}": {param} tiene {got} caracteres, más de los que permite el sandbox libre (como mucho {max}). Acórtalo y vuelve a enviar el grafo.',
  },
  'graph.sandboxItems': {
    en: 'Node "{node}": {param} has {got} entries, more than the free sandbox allows (at most {max}). Remove some and send the graph again.',
    es: 'Nodo "{node}": {param} tiene {got} entradas, más de las que permite el sandbox libre (como mucho {max}). Quita algunas y vuelve a enviar el grafo.',
  },
  'graph.sandboxGraphValue': {
    en: "The graph's {param} is {got}, more than the free sandbox allows (at most {max}). Lower it and send the graph again.",
    es: 'El {param} del grafo vale {got}, más de lo que permite el sandbox libre (como mucho {max}). Bájalo y vuelve a enviar el grafo.',
  },
  // ---- kill, hang and resume a node of a running graph (graph-signals.ts)
  'graph.nodeKilled': {
    en: '"{node}" was killed in this run already; it comes back with the next run.',
    es: '"{node}" ya fue matado en esta ejecución; vuelve con la siguiente ejecución.',
  },
  'graph.nodeFinished': {
    en: '"{node}" has stopped already in this run: there is nothing left to kill, hang or resume.',
    es: '"{node}" ya se detuvo en esta ejecución: no queda nada que matar, colgar o reanudar.',
  },
  'graph.nodeHung': {
    en: '"{node}" is hung already; resume it, or kill it.',
    es: '"{node}" ya está colgado; reanúdalo o mátalo.',
  },
  'graph.nodeNotHung': {
    en: '"{node}" is not hung: only a hung node can be resumed.',
    es: '"{node}" no está colgado: solo se puede reanudar un nodo colgado.',
  },
  // ---- a node's pace and its transport, changed while a run flows (graph-pace.ts, graph-move.ts)
  'graph.paceNone': {
    en: '"{node}" has no pace of its own (its role is {role}: it goes at its peers\' pace). Slow a sender, a requester, a receiver or a replier instead.',
    es: '"{node}" no tiene ritmo propio (su papel es {role}: va al ritmo de sus pares). Ralentiza un emisor, un cliente, un receptor o un servidor.',
  },
  'graph.paceIntervalRange': {
    en: 'The interval of "{node}" must be a whole number of milliseconds from 0 to {max}; {got} is not. Choose a value in that range.',
    es: 'El intervalo de "{node}" debe ser un número entero de milisegundos entre 0 y {max}; {got} no lo es. Elige un valor en ese rango.',
  },
  'graph.paceWorkRange': {
    en: 'The work time of "{node}" must be a whole number of milliseconds from 0 to {max}; {got} is not. Choose a value in that range.',
    es: 'El tiempo de trabajo de "{node}" debe ser un número entero de milisegundos entre 0 y {max}; {got} no lo es. Elige un valor en ese rango.',
  },
  'graph.moveNoRun': {
    en: 'A node is moved to another transport while its run flows: start a run first (between runs, change the link itself).',
    es: 'Un nodo se mueve a otro transporte mientras su ejecución está en marcha: inicia primero una ejecución (entre ejecuciones, cambia el propio enlace).',
  },
  'graph.moveNoLinks': {
    en: '"{node}" has no link to move.',
    es: '"{node}" no tiene ningún enlace que mover.',
  },
  'graph.moveSame': {
    en: 'The links of "{node}" are over {transport} already; choose another transport.',
    es: 'Los enlaces de "{node}" ya van por {transport}; elige otro transporte.',
  },
  'graph.moveStopped': {
    en: '"{node}" has stopped in this run (killed, removed or done): a link of it cannot move now. It comes back with the next run.',
    es: '"{node}" ya se detuvo en esta ejecución (matado, quitado o terminado): un enlace suyo no puede moverse ahora. Vuelve con la siguiente ejecución.',
  },
  'graph.moveHung': {
    en: '"{node}" runs as its own process and is hung (stopped): it cannot move its socket until it runs again. Resume it first, then move it.',
    es: '"{node}" se ejecuta como un proceso propio y está colgado (detenido): no puede mover su socket hasta que vuelva a ejecutarse. Reanúdalo primero y luego muévelo.',
  },
  'graph.moveNoAnswer': {
    en: 'The process of "{node}" did not answer within {ms} ms (is it stopped?): nothing was moved. Resume it, or try again.',
    es: 'El proceso de "{node}" no respondió en {ms} ms (¿está detenido?): no se movió nada. Reanúdalo o vuelve a intentarlo.',
  },
  'graph.addNoAnswer': {
    en: 'The process of "{node}" did not start and bind within {ms} ms (is it stopped?): it was not added, and its process was ended. Try again.',
    es: 'El proceso de "{node}" no arrancó ni hizo bind en {ms} ms (¿está detenido?): no se añadió, y su proceso se terminó. Vuelve a intentarlo.',
  },
  'graph.startNoAnswer': {
    en: 'The process of "{node}" did not start and bind within {ms} ms (is it stopped?): the run did not start, and its processes were ended. Try again.',
    es: 'El proceso de "{node}" no arrancó ni hizo bind en {ms} ms (¿está detenido?): la ejecución no empezó, y sus procesos se terminaron. Vuelve a intentarlo.',
  },
  'graph.moveInprocProcess': {
    en: 'inproc cannot cross a process: "{node}" runs as its own process (its own ZeroMQ context), so its peer would get nothing. Move it to tcp or ipc instead.',
    es: 'inproc no puede cruzar un proceso: "{node}" se ejecuta como un proceso propio (con su propio contexto de ZeroMQ), así que su par no recibiría nada. Muévelo a tcp o ipc.',
  },
  'graph.movePair': {
    en: '"{node}" is a PAIR: it takes one peer, and would refuse the new connection while the old one is still there. Stop the run and change the link instead.',
    es: '"{node}" es un PAIR: acepta un solo par, y rechazaría la conexión nueva mientras la vieja sigue ahí. Detén la ejecución y cambia el enlace.',
  },
  'graph.moveNotStarted': {
    en: '"{node}" has not connected to "{peer}" yet (it starts later in this run): move it once it has.',
    es: '"{node}" aún no se ha conectado a "{peer}" (empieza más tarde en esta ejecución): muévelo cuando lo haya hecho.',
  },
  'graph.signalStarting': {
    en: 'The run is still starting (its sockets are binding); kill, hang or resume "{node}" in a moment.',
    es: 'La ejecución aún está empezando (sus sockets se están enlazando); mata, cuelga o reanuda "{node}" en un momento.',
  },
  'graph.removeStarting': {
    en: 'The run is still starting (its sockets are binding); remove "{node}" in a moment.',
    es: 'La ejecución aún está empezando (sus sockets se están enlazando); quita "{node}" en un momento.',
  },
  'graph.signalMoving': {
    en: '"{node}" is finishing a move (its old endpoint is closing); try again in a moment.',
    es: '"{node}" está terminando un movimiento (su punto de conexión anterior se está cerrando); vuelve a intentarlo en un momento.',
  },
  'graph.moveBusy': {
    en: 'Another move is under way in this run; try again in a moment.',
    es: 'Hay otro movimiento en curso en esta ejecución; vuelve a intentarlo en un momento.',
  },
  'graph.liveNodeLimit': {
    en: 'A run may have had at most {max} sockets, removed ones included; stop it and run again.',
    es: 'Una ejecución puede haber tenido como mucho {max} sockets, contando los quitados; detenla y vuelve a ejecutar.',
  },
} as const satisfies Record<string, { en: string; es: string }>;

export type TextKey = keyof typeof TEXTS;
export const TEXT_KEYS = Object.keys(TEXTS) as TextKey[];

export interface ServerText {
  key: TextKey;
  params?: Record<string, string | number | ServerText>;
}

/** The wire form: any key (a newer server may know more), parameters possibly nested. */
export const ServerTextSchema = Type.Recursive((This: TSchema) =>
  Type.Object(
    {
      key: Type.String({ maxLength: 64 }),
      params: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), This]))),
    },
    { additionalProperties: false },
  ),
);
export type WireServerText = Static<typeof ServerTextSchema>;

export function text(key: TextKey, params?: ServerText['params']): ServerText {
  return params ? { key, params } : { key };
}

export function isTextKey(key: string): key is TextKey {
  return Object.hasOwn(TEXTS, key);
}

/** The template of a key in a language (for tests and translators). */
export function template(key: TextKey, lang: Lang): string {
  return TEXTS[key][lang];
}

/** The text filled in, in `lang`; null when a key (here or nested) is unknown to this build. */
export function sayText(value: WireServerText, lang: Lang): string | null {
  if (!isTextKey(value.key)) return null;
  let unknown = false;
  const filled = TEXTS[value.key][lang].replace(/\{(\w+)\}/g, (whole, name: string) => {
    const param = value.params?.[name];
    if (param === undefined) return whole;
    if (typeof param === 'object') {
      const nested = sayText(param as WireServerText, lang);
      if (nested === null) unknown = true;
      return nested ?? '';
    }
    return String(param);
  });
  return unknown ? null : filled;
}

/** English, for `message`. */
export function english(value: ServerText): string {
  return sayText(value, 'en')!;
}
