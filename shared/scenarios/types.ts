import type { RunParams, SocketOptions, Transport, WorkerMode, WorkMs } from '../protocol/index.ts';

/** One thing the ventilator does, in order. */
export type Step =
  | { kind: 'bind'; endpoint: string }
  /** Bind the endpoint of every transport a worker uses (and later ones on demand). */
  | { kind: 'bind-in-use' }
  /** Wait until every worker present has shaken hands (the zguide's fix for the slow joiner). */
  | { kind: 'wait-for-workers' }
  | { kind: 'send'; body: string };

export interface EndpointSpec {
  /** The endpoint's name is its transport: a ventilator binds at most one endpoint per transport. */
  name: Transport;
  transport: Transport;
  /**
   * Requested address; a tcp port of * means any free port, {runtime} is the server's ipc folder and
   * {playground} the playground id (so two playgrounds never share an ipc path or inproc name).
   */
  address: string;
}

export interface WorkerSpec {
  id?: string;
  transport: Transport;
  mode?: WorkerMode;
  workMs?: WorkMs;
  connections?: number;
}

/**
 * A scenario is data: the sockets it needs, the topology and defaults a learner starts from, and the ventilator's
 * script. `steps` is a generator so a batch of a million tasks never exists as an array.
 */
export interface Scenario {
  id: string;
  title: string;
  description: string;
  defaults: RunParams;
  endpoints: EndpointSpec[];
  workers: WorkerSpec[];
  sink: { enabled: boolean; transport: Transport };
  options?: Partial<SocketOptions>;
  /**
   * 'plain': one frame, the body alone, exactly what the tutorial's clients expect; a worker's receipt is matched
   * to the oldest unreceived task with the same body. 'tagged': two frames [task id, body], matched exactly.
   */
  framing: 'plain' | 'tagged';
  /** A body after which a worker stops reading, as the tutorial's clients do with "x". */
  endMarker: string | null;
  /** Bind a transport's endpoint as soon as a worker needs it; false: only the script binds (the tutorial). */
  bindOnDemand: boolean;
  steps(params: RunParams): Iterable<Step>;
}
