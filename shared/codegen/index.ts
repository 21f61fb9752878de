/**
 * "The code behind the picture": runnable ventilator, worker and sink programs for a playground's current
 * topology and real endpoints, in Python (pyzmq) and TypeScript (zeromq.js). A learner copies one into a
 * terminal, runs it, and sees its process join the diagram as an external peer.
 * Pure functions of PlaygroundInfo, used by the page and by the tests that run the Python worker for real.
 *
 * A program is only shown when it can run as shown: a worker needs the ventilator's real address (a tcp port the
 * system picks is only known once the ventilator has bound it) and, with a sink, the sink's (known once it has
 * bound). Until the playground's first run, `program()` says which is missing instead of a placeholder that
 * would crash (ZMQError: Invalid argument).
 */
import type { PlaygroundInfo, Transport } from '../protocol/index.ts';

export type Role = 'ventilator' | 'worker' | 'sink';
export type Language = 'python' | 'typescript';

export interface CodeContext {
  /** 'plain': one frame per task (the tutorial); 'tagged': [task id, body]. */
  framing: 'plain' | 'tagged';
  /**
   * Where the playground's ventilator listens, by transport: its real address, or null while that is not known
   * (a `*` port, chosen by the system when the ventilator binds).
   */
  endpoints: Partial<Record<Transport, string | null>>;
  /** The sink's address; null when there is no sink, or when it has not bound yet (see sinkPending). */
  sinkAddress: string | null;
  /** The sink is on, but its address is only chosen when it binds (the playground has not run with it yet). */
  sinkPending?: boolean;
  endMarker: string | null;
}

/** What a program needs that only the playground's first run will tell. */
export type Missing = 'ventilator' | 'sink';

/** A program ready to run, or the address it is waiting for. */
export type Program = { code: string; missing: null } | { code: null; missing: Missing };

/** What the generated programs need from a playground. inproc endpoints are left out: no other process can reach them. */
export function codeContext(info: PlaygroundInfo): CodeContext {
  const endpoints: CodeContext['endpoints'] = {};
  for (const endpoint of info.endpoints) {
    if (endpoint.transport === 'inproc') continue;
    const address = endpoint.actual ?? endpoint.requested;
    // A wildcard port is only known once bound.
    endpoints[endpoint.transport] = address.endsWith(':*') ? null : address;
  }
  const tutorial = info.scenario === 'tutorial';
  return {
    framing: tutorial ? 'plain' : 'tagged',
    endpoints,
    sinkAddress: info.sink.enabled ? info.sink.address : null,
    sinkPending: info.sink.enabled && !info.sink.address,
    endMarker: tutorial ? 'x' : null,
  };
}

/** The ventilator's address a worker on `transport` connects to: undefined when it has none, null when not known yet. */
function ventilatorAddress(context: CodeContext, transport: Transport): string | null | undefined {
  if (transport in context.endpoints) return context.endpoints[transport];
  return context.endpoints.tcp !== undefined ? context.endpoints.tcp : context.endpoints.ipc;
}

/**
 * What the program for `role` still needs from the playground's first run, or null when it runs as shown. Only
 * the worker connects to the playground; the ventilator and the sink bind ports of their own (5557, 5558).
 */
export function missingFor(role: Role, context: CodeContext, transport: Transport = 'tcp'): Missing | null {
  if (role !== 'worker') return null;
  if (ventilatorAddress(context, transport) === null) return 'ventilator';
  if (context.sinkPending) return 'sink';
  return null;
}

/** The program, or (before the addresses it needs are known) what it is waiting for; never a placeholder. */
export function program(
  language: Language,
  role: Role,
  context: CodeContext,
  transport: Transport = 'tcp',
  lang: 'en' | 'es' = 'en',
): Program {
  const missing = missingFor(role, context, transport);
  if (missing) return { code: null, missing };
  return { code: generate(language, role, context, transport, lang), missing: null };
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

/**
 * The program's text. Throws when a worker's addresses are not known yet (check missingFor() or use program()):
 * a program must never carry an address that cannot work.
 */
export function generate(
  language: Language,
  role: Role,
  context: CodeContext,
  transport: Transport = 'tcp',
  lang: 'en' | 'es' = 'en',
): string {
  const missing = missingFor(role, context, transport);
  if (missing) throw new Error(`the ${missing}'s address is only known once it has bound: run the playground once`);
  const endpoint = ventilatorAddress(context, transport) ?? 'tcp://127.0.0.1:12345';
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

/** A standalone program's own tcp address beside the playground's (same host, its own port); ipc as it is. */
function ownPort(address: string, port: number): string {
  return address.startsWith('tcp://') ? address.replace(/:[^:/]*$/, `:${port}`) : address;
}

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
${
  sink
    ? `results = ctx.socket(zmq.PUSH)
results.setsockopt(zmq.LINGER, 1000)
results.connect(${q(sink)})
`
    : ''
}
try:
    while True:
        try:
            ${tagged ? 'task_id, body = tasks.recv_multipart()' : 'body = tasks.recv()'}
        except zmq.Again:
            break
        ${tagged ? 'print(task_id.decode(), body.decode()[:60], flush=True)' : 'print(body.decode(), flush=True)'}
${
  context.endMarker !== null
    ? `        if body.decode() == ${q(context.endMarker)}:
            break
`
    : ''
}        time.sleep(args.work_ms / 1000)
${
  sink
    ? `        results.send_multipart([args.name.encode(), ${tagged ? 'task_id' : 'body'}])
`
    : ''
}except KeyboardInterrupt:
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
push.bind(${q(ownPort(endpoint, 5557))})
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
pull.bind(${q(ownPort(address, 5558))})
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
${
  sink
    ? `const results = new zmq.Push();
results.connect(${q(sink)});
`
    : ''
}
for await (const ${tagged ? '[taskId, body]' : '[body]'} of tasks) {
  console.log(${tagged ? 'taskId.toString(), body.toString().slice(0, 60)' : 'body.toString()'});
${
  context.endMarker !== null
    ? `  if (body.toString() === ${q(context.endMarker)}) break;
`
    : ''
}${
    sink
      ? `  await results.send(["ts-worker", ${tagged ? 'taskId' : 'body'}]);
`
      : ''
  }}
tasks.close();
${sink ? 'results.close();\n' : ''}`;
}

function typescriptVentilator(context: CodeContext, endpoint: string, w: Words): string {
  const tagged = context.framing === 'tagged';
  return `// ${w.tsVentilatorDoc} ${w.run}: npx tsx ventilator.ts
import * as zmq from "zeromq";

const push = new zmq.Push();
push.linger = 5000;
await push.bind(${q(ownPort(endpoint, 5557))});
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
await pull.bind(${q(ownPort(address, 5558))});
for await (const [worker, taskId] of pull) console.log(worker.toString(), taskId.toString());
`;
}
