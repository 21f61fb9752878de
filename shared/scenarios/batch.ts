import type { Scenario } from './types.ts';

/**
 * The zguide's ventilator in its simplest form: bind tcp and ipc, wait until both workers have shaken hands
 * (so the split is fair), then send a numbered batch as fast as the interval allows.
 */
export const batchScenario: Scenario = {
  id: 'batch',
  title: 'A batch of tasks, synchronised start',
  description:
    'The ventilator waits for both workers to connect, then sends a batch of numbered tasks. ' +
    'With every peer connected before the first send, round-robin splits the batch evenly.',
  defaults: { intervalMs: 0, builtInWorkers: true, tasks: 1000, payloadBytes: 16, drainMs: 1500 },
  endpoints: [
    { name: 'tcp', transport: 'tcp', address: 'tcp://127.0.0.1:*' },
    { name: 'ipc', transport: 'ipc', address: 'ipc://{runtime}/batch' },
  ],
  workers: [
    { id: 'worker-tcp', endpoint: 'tcp' },
    { id: 'worker-ipc', endpoint: 'ipc' },
  ],
  framing: 'tagged',
  endMarker: null,
  *steps(params) {
    yield { kind: 'bind', endpoint: 'tcp' };
    yield { kind: 'bind', endpoint: 'ipc' };
    if (params.builtInWorkers) yield { kind: 'wait-for-workers' };
    const padding = 'x'.repeat(params.payloadBytes);
    for (let task = 0; task < params.tasks; task++) yield { kind: 'send', body: `task ${task} ${padding}` };
  },
};
