import type { RunParams, Transport } from '../protocol/index.ts';

/** One thing the ventilator does, in order. */
export type Step =
  | { kind: 'bind'; endpoint: string }
  /** Wait until this many built-in workers have shaken hands (the zguide's fix for the slow joiner). */
  | { kind: 'wait-for-workers' }
  | { kind: 'send'; body: string };

export interface EndpointSpec {
  name: string;
  transport: Transport;
  /** Requested address; a tcp port of * means any free port, and {runtime} is the server's ipc folder. */
  address: string;
}

export interface WorkerSpec {
  id: string;
  /** EndpointSpec.name this worker connects to. */
  endpoint: string;
}

/**
 * A scenario is data: the sockets it needs, the defaults a learner starts from, and the ventilator's script.
 * `steps` is a generator so a batch of a million tasks never exists as an array.
 */
export interface Scenario {
  id: string;
  title: string;
  description: string;
  defaults: RunParams;
  endpoints: EndpointSpec[];
  workers: WorkerSpec[];
  /**
   * 'plain': one frame, the body alone, exactly what the tutorial's clients expect; a worker's receipt is matched
   * to the oldest unreceived task with the same body. 'tagged': two frames [task id, body], matched exactly.
   */
  framing: 'plain' | 'tagged';
  /** A body after which a worker stops reading, as the tutorial's clients do with "x". */
  endMarker: string | null;
  steps(params: RunParams): Iterable<Step>;
}
