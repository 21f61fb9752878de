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

export function generate(language: Language, role: Role, context: CodeContext, transport: Transport = 'tcp'): string {
  const endpoint = context.endpoints[transport] ?? context.endpoints.tcp ?? context.endpoints.ipc ?? 'tcp://127.0.0.1:12345';
  if (language === 'python') {
    if (role === 'worker') return pythonWorker(context, endpoint);
    if (role === 'ventilator') return pythonVentilator(context, endpoint);
    return pythonSink(context);
  }
  if (role === 'worker') return typescriptWorker(context, endpoint);
  if (role === 'ventilator') return typescriptVentilator(context, endpoint);
  return typescriptSink(context);
}

const q = (text: string) => JSON.stringify(text);

function pythonWorker(context: CodeContext, endpoint: string): string {
  const tagged = context.framing === 'tagged';
  const sink = context.sinkAddress;
  return `#!/usr/bin/env python3
"""A worker for this playground: PULL tasks from its ventilator${sink ? ', PUSH results to its sink' : ''}.
Run: /usr/bin/python3 worker.py [ENDPOINT] [--name NAME] [--work-ms MS] [--timeout SECONDS]
(Debian: apt-get install python3-zmq)"""
import argparse
import time

import zmq

parser = argparse.ArgumentParser()
parser.add_argument("endpoint", nargs="?", default=${q(endpoint)})
parser.add_argument("--name", default="python-worker")
parser.add_argument("--work-ms", type=float, default=0, help="simulated work per task")
parser.add_argument("--timeout", type=float, default=None, help="stop after this many seconds without a task")
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

function pythonVentilator(context: CodeContext, endpoint: string): string {
  const tagged = context.framing === 'tagged';
  return `#!/usr/bin/env python3
"""A ventilator like this playground's: one PUSH socket, a batch of tasks.
Run it while the playground is stopped (or on another endpoint): /usr/bin/python3 ventilator.py"""
import time

import zmq

ctx = zmq.Context()
push = ctx.socket(zmq.PUSH)
push.setsockopt(zmq.LINGER, 5000)
push.bind(${q(endpoint.replace(/:\d+$/, ':5557'))})
input("Start the workers, then press Enter to send the batch... ")
for task in range(100):
    ${tagged ? 'push.send_multipart([str(task).encode(), b"task %d" % task])' : 'push.send_string("task %d" % task)'}
    time.sleep(0.01)
push.close()
ctx.term()
`;
}

function pythonSink(context: CodeContext): string {
  const address = context.sinkAddress ?? 'tcp://127.0.0.1:5558';
  return `#!/usr/bin/env python3
"""A sink: PULL results from every worker, fair-queued. Run: /usr/bin/python3 sink.py"""
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

function typescriptWorker(context: CodeContext, endpoint: string): string {
  const tagged = context.framing === 'tagged';
  const sink = context.sinkAddress;
  return `// A worker for this playground (zeromq.js v6). Run: npx tsx worker.ts [ENDPOINT]
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

function typescriptVentilator(context: CodeContext, endpoint: string): string {
  const tagged = context.framing === 'tagged';
  return `// A ventilator like this playground's (zeromq.js v6). Run: npx tsx ventilator.ts
import * as zmq from "zeromq";

const push = new zmq.Push();
push.linger = 5000;
await push.bind(${q(endpoint.replace(/:\d+$/, ':5557'))});
// Wait for the workers' handshakes before sending, or the first one to connect takes everything.
let peers = 0;
await new Promise<void>((resolve) => push.events.on("handshake", () => ++peers === 2 && resolve()));
for (let task = 0; task < 100; task++) {
  await push.send(${tagged ? '[String(task), `task ${task}`]' : '`task ${task}`'});
}
push.close();
`;
}

function typescriptSink(context: CodeContext): string {
  const address = context.sinkAddress ?? 'tcp://127.0.0.1:5558';
  return `// A sink (zeromq.js v6): results from every worker, fair-queued. Run: npx tsx sink.ts
import * as zmq from "zeromq";

const pull = new zmq.Pull();
await pull.bind(${q(address.replace(/:\d+$/, ':5558'))});
for await (const [worker, taskId] of pull) console.log(worker.toString(), taskId.toString());
`;
}
