import type { Scenario } from './types.ts';

/**
 * The zguide's "divide and conquer" as a sandbox: a ventilator PUSHes a batch of numbered tasks to workers, each
 * works on a task for a while and PUSHes a result to an optional sink. Workers can be added, removed, slowed,
 * moved to another transport, and (as processes) killed or hung while the batch flows.
 */
export const pipelineScenario: Scenario = {
  id: 'pipeline',
  title: 'Ventilator, workers and sink (sandbox)',
  description:
    'A batch of numbered tasks goes round-robin to the workers connected at each moment. Add and remove workers, ' +
    'change their transport and speed, kill one, switch the synchronised start off, and watch where every task ends.',
  defaults: { intervalMs: 0, builtInWorkers: true, tasks: 100, payloadBytes: 16, drainMs: 1500, syncStart: true },
  endpoints: [
    { name: 'tcp', transport: 'tcp', address: 'tcp://127.0.0.1:*' },
    { name: 'ipc', transport: 'ipc', address: 'ipc://{runtime}/{playground}-vent.ipc' },
    { name: 'inproc', transport: 'inproc', address: 'inproc://{playground}-vent' },
  ],
  workers: [
    { id: 'worker-1', transport: 'tcp' },
    { id: 'worker-2', transport: 'ipc' },
  ],
  sink: { enabled: false, transport: 'tcp' },
  framing: 'tagged',
  endMarker: null,
  bindOnDemand: true,
  *steps(params) {
    yield { kind: 'bind-in-use' };
    if (params.builtInWorkers && params.syncStart) yield { kind: 'wait-for-workers' };
    const padding = 'x'.repeat(params.payloadBytes);
    for (let task = 0; task < params.tasks; task++) yield { kind: 'send', body: `task ${task} ${padding}` };
  },
};
