/**
 * "The code behind the picture": runnable ventilator, worker and sink programs for a playground's current
 * topology and real endpoints, in Python (pyzmq) and TypeScript (zeromq.js). A learner copies one into a
 * terminal, runs it, and sees its process join the diagram as an external peer.
 * Pure functions of PlaygroundInfo, used by the page and by the tests that run the Python worker for real.
 */
import type { PlaygroundInfo, Transport } from '../protocol/index.ts';

export type Role = 'ventilator' | 'worker' | 'sink';
export type Language = 'python' | 'typescript';

export interface CodeContext {
  /** 'plain': one frame per task (the tutorial); 'tagged': [task id, body]. */
  framing: 'plain' | 'tagged';
  /** Where the playground's ventilator listens, by transport (its real address when known). */
  endpoints: Partial<Record<Transport, string>>;
  sinkAddress: string | null;
  endMarker: string | null;
}

/** What the generated programs need from a playground. inproc endpoints are left out: no other process can reach them. */
export function codeContext(info: PlaygroundInfo): CodeContext {
  const endpoints: Partial<Record<Transport, string>> = {};
  for (const endpoint of info.endpoints) {
    if (endpoint.transport === 'inproc') continue;
    const address = endpoint.actual ?? endpoint.requested;
    // A wildcard port is only known once bound: show it as the placeholder a learner must replace.
    endpoints[endpoint.transport] = address.endsWith(':*') ? address.replace(':*', ':PORT') : address;
  }
  const tutorial = info.scenario === 'tutorial';
  return {
    framing: tutorial ? 'plain' : 'tagged',
    endpoints,
    sinkAddress: info.sink.enabled ? info.sink.address : null,
    endMarker: tutorial ? 'x' : null,
  };
}

/** The comments and prompts of the programs, in the page's language (the code itself is the same). */
const WORDS = {
  en: {
    run: 'Run',
    workerDoc: 'A worker for this playground: PULL tasks from its ventilator',
    workerDocSink: ', PUSH results to its sink',
    workMsHelp: 'simulated work per task',
    timeoutHelp: 'stop after this many seconds without a task',
    ventilatorDoc: "A ventilator like this playground's: one PUSH socket, a batch of tasks.",
    ventilatorWhen: 'Run it while the playground is stopped (or on another endpoint)',
    ventilatorPrompt: 'Start the workers, then press Enter to send the batch... ',
    sinkDoc: 'A sink: PULL results from every worker, fair-queued.',
    tsWorkerDoc: 'A worker for this playground (zeromq.js v6).',
    tsVentilatorDoc: "A ventilator like this playground's (zeromq.js v6).",
    tsWait: "Wait for the workers' handshakes before sending, or the first one to connect takes everything.",
    tsSinkDoc: 'A sink (zeromq.js v6): results from every worker, fair-queued.',
  },
  es: {
    run: 'Ejecútalo',
    workerDoc: 'Un worker para este playground: recibe (PULL) tareas de su ventilador',
    workerDocSink: ' y envía (PUSH) resultados a su sink',
    workMsHelp: 'trabajo simulado por tarea',
    timeoutHelp: 'parar tras estos segundos sin ninguna tarea',
    ventilatorDoc: 'Un ventilador como el de este playground: un socket PUSH, un lote de tareas.',
    ventilatorWhen: 'Ejecútalo con el playground parado (o en otro endpoint)',
    ventilatorPrompt: 'Arranca los workers y pulsa Intro para enviar el lote... ',
    sinkDoc: 'Un sink: recibe (PULL) los resultados de todos los workers, por turnos (fair-queuing).',
    tsWorkerDoc: 'Un worker para este playground (zeromq.js v6).',
    tsVentilatorDoc: 'Un ventilador como el de este playground (zeromq.js v6).',
    tsWait: 'Espera los handshakes de los workers antes de enviar; si no, el primero en conectarse se lo lleva todo.',
    tsSinkDoc: 'Un sink (zeromq.js v6): resultados de todos los workers, por turnos (fair-queuing).',
  },
} as const satisfies Record<'en' | 'es', Record<string, string>>;
type Words = Record<keyof (typeof WORDS)['en'], string>;

export function generate(language: Language, role: Role, context: CodeContext, transport: Transport = 'tcp', lang: 'en' | 'es' = 'en'): string {
  const endpoint = context.endpoints[transport] ?? context.endpoints.tcp ?? context.endpoints.ipc ?? 'tcp://127.0.0.1:12345';
  const words: Words = WORDS[lang];
  if (language === 'python') {
    if (role === 'worker') return pythonWorker(context, endpoint, words);
    if (role === 'ventilator') return pythonVentilator(context, endpoint, words);
    return pythonSink(context, words);
  }
  if (role === 'worker') return typescriptWorker(context, endpoint, words);
  if (role === 'ventilator') return typescriptVentilator(context, endpoint, words);
  return typescriptSink(context, words);
}

const q = (text: string) => JSON.stringify(text);

function pythonWorker(context: CodeContext, endpoint: string, w: Words): string {
  const tagged = context.framing === 'tagged';
  const sink = context.sinkAddress;
  return `#!/usr/bin/env python3
"""${w.workerDoc}${sink ? w.workerDocSink : ''}.
${w.run}: /usr/bin/python3 worker.py [ENDPOINT] [--name NAME] [--work-ms MS] [--timeout SECONDS]
(Debian: apt-get install python3-zmq)"""
import argparse
import time

import zmq

parser = argparse.ArgumentParser()
parser.add_argument("endpoint", nargs="?", default=${q(endpoint)})
parser.add_argument("--name", default="python-worker")
parser.add_argument("--work-ms", type=float, default=0, help=${q(w.workMsHelp)})
parser.add_argument("--timeout", type=float, default=None, help=${q(w.timeoutHelp)})
args = parser.parse_args()

ctx = zmq.Context()
tasks = ctx.socket(zmq.PULL)
tasks.setsockopt(zmq.LINGER, 0)
if args.timeout is not None:
    tasks.setsockopt(zmq.RCVTIMEO, int(args.timeout * 1000))
tasks.connect(args.endpoint)
${sink ? `results = ctx.socket(zmq.PUSH)
results.setsockopt(zmq.LINGER, 1000)
results.connect(${q(sink)})
` : ''}
try:
    while True:
        try:
            ${tagged ? 'task_id, body = tasks.recv_multipart()' : 'body = tasks.recv()'}
        except zmq.Again:
            break
        ${tagged ? 'print(task_id.decode(), body.decode()[:60], flush=True)' : 'print(body.decode(), flush=True)'}
${context.endMarker !== null ? `        if body.decode() == ${q(context.endMarker)}:
            break
` : ''}        time.sleep(args.work_ms / 1000)
${sink ? `        results.send_multipart([args.name.encode(), ${tagged ? 'task_id' : 'body'}])
` : ''}except KeyboardInterrupt:
    pass
finally:
    tasks.close()
${sink ? '    results.close()\n' : ''}    ctx.term()
`;
}

function pythonVentilator(context: CodeContext, endpoint: string, w: Words): string {
  const tagged = context.framing === 'tagged';
  return `#!/usr/bin/env python3
"""${w.ventilatorDoc}
${w.ventilatorWhen}: /usr/bin/python3 ventilator.py"""
import time

import zmq

ctx = zmq.Context()
push = ctx.socket(zmq.PUSH)
push.setsockopt(zmq.LINGER, 5000)
push.bind(${q(endpoint.replace(/:\d+$/, ':5557'))})
input(${q(w.ventilatorPrompt)})
for task in range(100):
    ${tagged ? 'push.send_multipart([str(task).encode(), b"task %d" % task])' : 'push.send_string("task %d" % task)'}
    time.sleep(0.01)
push.close()
ctx.term()
`;
}

function pythonSink(context: CodeContext, w: Words): string {
  const address = context.sinkAddress ?? 'tcp://127.0.0.1:5558';
  return `#!/usr/bin/env python3
"""${w.sinkDoc} ${w.run}: /usr/bin/python3 sink.py"""
import zmq

ctx = zmq.Context()
pull = ctx.socket(zmq.PULL)
pull.bind(${q(address.replace(/:\d+$/, ':5558'))})
try:
    while True:
        worker, task_id = pull.recv_multipart()
        print(worker.decode(), task_id.decode(), flush=True)
except KeyboardInterrupt:
    pass
finally:
    pull.close()
    ctx.term()
`;
}

function typescriptWorker(context: CodeContext, endpoint: string, w: Words): string {
  const tagged = context.framing === 'tagged';
  const sink = context.sinkAddress;
  return `// ${w.tsWorkerDoc} ${w.run}: npx tsx worker.ts [ENDPOINT]
import * as zmq from "zeromq";

const endpoint = process.argv[2] ?? ${q(endpoint)};
const tasks = new zmq.Pull();
tasks.linger = 0;
tasks.connect(endpoint);
${sink ? `const results = new zmq.Push();
results.connect(${q(sink)});
` : ''}
for await (const ${tagged ? '[taskId, body]' : '[body]'} of tasks) {
  console.log(${tagged ? 'taskId.toString(), body.toString().slice(0, 60)' : 'body.toString()'});
${context.endMarker !== null ? `  if (body.toString() === ${q(context.endMarker)}) break;
` : ''}${sink ? `  await results.send(["ts-worker", ${tagged ? 'taskId' : 'body'}]);
` : ''}}
tasks.close();
${sink ? 'results.close();\n' : ''}`;
}

function typescriptVentilator(context: CodeContext, endpoint: string, w: Words): string {
  const tagged = context.framing === 'tagged';
  return `// ${w.tsVentilatorDoc} ${w.run}: npx tsx ventilator.ts
import * as zmq from "zeromq";

const push = new zmq.Push();
push.linger = 5000;
await push.bind(${q(endpoint.replace(/:\d+$/, ':5557'))});
// ${w.tsWait}
let peers = 0;
await new Promise<void>((resolve) => push.events.on("handshake", () => ++peers === 2 && resolve()));
for (let task = 0; task < 100; task++) {
  await push.send(${tagged ? '[String(task), `task ${task}`]' : '`task ${task}`'});
}
push.close();
`;
}

function typescriptSink(context: CodeContext, w: Words): string {
  const address = context.sinkAddress ?? 'tcp://127.0.0.1:5558';
  return `// ${w.tsSinkDoc} ${w.run}: npx tsx sink.ts
import * as zmq from "zeromq";

const pull = new zmq.Pull();
await pull.bind(${q(address.replace(/:\d+$/, ':5558'))});
for await (const [worker, taskId] of pull) console.log(worker.toString(), taskId.toString());
`;
}
