/**
 * The pipeline page's sandbox (pipeline.ts: the zguide's divide and conquer) as a scenario of the graph engine, so
 * that the patterns page runs it beside the other patterns: one ventilator PUSH bound on tcp, ipc and inproc at
 * once, three workers (PULL in, PUSH out), a sink that PULLs every result. Its defaults are the sandbox's: a batch
 * of 100 numbered tasks with 16 bytes of padding, sent as fast as ZeroMQ takes them once every worker has shaken
 * hands (the sandbox's synchronised start), workers that take no time. The pipeline page keeps its own engine
 * (docs/architecture.md, "Two engines for one pipeline"); server/engine/pipeline-equivalence.test.ts runs both and
 * checks that they tell the same ZeroMQ facts.
 */
import type { GraphLink, GraphNode, GraphScenario } from './graph.ts';

/** The sandbox's default batch (pipelineScenario.defaults: 100 tasks, 16 bytes of padding). */
export const PIPELINE_TASKS = 100;
export const PIPELINE_PADDING = 16;
/** One worker per transport of the ventilator's one PUSH socket. */
export const PIPELINE_WORKERS = [
  { id: 'worker-1', transport: 'tcp' },
  { id: 'worker-2', transport: 'ipc' },
  { id: 'worker-3', transport: 'inproc' },
] as const;

export const pipelineGraph: GraphScenario = {
  id: 'pipeline',
  title: 'The pipeline sandbox: ventilator, workers and sink',
  description:
    `The ventilator waits until its ${PIPELINE_WORKERS.length} workers have shaken hands, then pushes ` +
    `${PIPELINE_TASKS} numbered tasks as fast as ZeroMQ takes them; its one PUSH socket is bound on tcp, ipc and ` +
    'inproc at once, one worker on each, and round-robins the tasks among them: 34/33/33. Each worker pushes a ' +
    'result for every task to the sink, which fair-queues the results from its three pipes. Every task reaches ' +
    'exactly one worker and every result the sink. Without the wait, the first worker to connect would take almost ' +
    'the whole batch (the slow joiner). The instrumented pipeline playground runs the same sandbox on its own ' +
    'engine, with process workers to kill or hang, live transport moves, socket options and a ledger per task.',
  graph: {
    title: 'PUSH/PULL: ventilator, workers and sink',
    nodes: [
      {
        id: 'ventilator',
        socket: 'PUSH',
        role: {
          kind: 'send',
          // The sandbox's task body: "task <i> " and the padding.
          messages: { kind: 'template', template: `task {i} ${'x'.repeat(PIPELINE_PADDING)}`, count: PIPELINE_TASKS },
          waitForPeers: PIPELINE_WORKERS.length,
        },
      },
      ...PIPELINE_WORKERS.flatMap(({ id }): GraphNode[] => [
        { id, socket: 'PULL', role: { kind: 'receive', forwardTo: `${id}-out` } },
        { id: `${id}-out`, socket: 'PUSH', role: { kind: 'passive' } },
      ]),
      { id: 'sink', socket: 'PULL', role: { kind: 'receive' }, stop: { afterMessages: PIPELINE_TASKS } },
    ],
    links: PIPELINE_WORKERS.flatMap(({ id, transport }): GraphLink[] => [
      { from: 'ventilator', to: id, bind: 'from', transport },
      { from: `${id}-out`, to: 'sink', bind: 'to', transport: 'tcp' },
    ]),
  },
};
