import type { Scenario } from './types.ts';

/** The texts the tutorial's server sends after binding ipc: two "x" so that each of its two clients stops. */
export const TUTORIAL_TEXTS = [
  'Esta es una prueba,1',
  'Desde zeroMQ,2',
  'Sigo probando,3',
  'Prueba...,4',
  'q,5',
  '1,6',
  'q,7',
  'x',
  'x',
] as const;

/**
 * The seed tutorial (part 7): one PUSH socket binds tcp, sends "1".."3", then binds ipc on the SAME socket and
 * sends the nine texts. One PULL client connects over tcp, the other over ipc; each stops at its "x".
 */
export const tutorialScenario: Scenario = {
  id: 'tutorial',
  title: 'The tutorial: one PUSH socket on tcp, then also on ipc',
  description:
    'The ventilator binds tcp and sends 1, 2, 3; then it binds ipc on the same socket and sends nine texts. ' +
    'ZeroMQ round-robins among the peers connected at each moment, so the ipc worker only shares once it has joined.',
  defaults: { intervalMs: 1000, builtInWorkers: true, tasks: 12, payloadBytes: 0, drainMs: 1500, syncStart: false },
  endpoints: [
    { name: 'tcp', transport: 'tcp', address: 'tcp://127.0.0.1:12345' },
    { name: 'ipc', transport: 'ipc', address: 'ipc:///tmp/zmqdemo' },
  ],
  workers: [
    { id: 'worker-tcp', transport: 'tcp' },
    { id: 'worker-ipc', transport: 'ipc' },
  ],
  sink: { enabled: false, transport: 'tcp' },
  framing: 'plain',
  endMarker: 'x',
  bindOnDemand: false,
  *steps() {
    yield { kind: 'bind', endpoint: 'tcp' };
    for (const n of ['1', '2', '3']) yield { kind: 'send', body: n };
    yield { kind: 'bind', endpoint: 'ipc' };
    for (const text of TUTORIAL_TEXTS) yield { kind: 'send', body: text };
  },
};
