/**
 * What a playground refuses before it changes anything: the operator's limits (process workers, a run's payload)
 * and topologies that cannot work (a transport the ventilator does not bind, inproc across processes).
 */
import { text } from '../../shared/protocol/server-text.ts';
import type { EndpointInfo, RunParams, SinkInfo, WorkerInfo } from '../../shared/protocol/index.ts';
import type { Scenario } from '../../shared/scenarios/index.ts';
import { CodedError } from '../errors.ts';

/** The operator's limits as one playground sees them (issue 9.6). */
export interface PlaygroundCaps {
  /** Process workers in this playground. */
  maxProcessWorkers: number;
  /** Process workers running at once on the whole server... */
  maxServerProcessWorkers: number;
  /** ...and how many the other playgrounds run now. */
  processWorkersElsewhere: () => number;
  /** tasks x payloadBytes of one batch. */
  maxRunPayloadBytes: number;
}

/** `wanted` more process workers fit in the server, with the ones running here and elsewhere. */
export function checkServerProcesses(caps: PlaygroundCaps | null, runningHere: number, wanted: number): void {
  if (!caps || wanted === 0) return;
  const running = caps.processWorkersElsewhere() + runningHere;
  if (running + wanted > caps.maxServerProcessWorkers) {
    throw new CodedError(
      'PG_ERR_LIMIT',
      text('limit.serverProcessWorkers', { max: caps.maxServerProcessWorkers, running, wanted }),
    );
  }
}

/** A batch of tasks x payload within the operator's limit (tagged framing carries the payload). */
export function checkRunPayload(caps: PlaygroundCaps | null, scenario: Scenario, params: RunParams): void {
  const max = caps?.maxRunPayloadBytes;
  if (max === undefined || scenario.framing !== 'tagged') return;
  const bytes = params.tasks * params.payloadBytes;
  if (bytes > max) {
    const mib = (value: number) => Math.round((value / (1024 * 1024)) * 10) / 10;
    throw new CodedError(
      'PG_ERR_LIMIT',
      text('limit.runPayload', { tasks: params.tasks, payload: params.payloadBytes, mib: mib(bytes), max: mib(max) }),
    );
  }
}

export function checkTransport(
  endpoints: readonly EndpointInfo[],
  transport: WorkerInfo['transport'],
  mode: WorkerInfo['mode'],
): void {
  if (!endpoints.some((endpoint) => endpoint.transport === transport)) {
    throw new CodedError(
      'PG_ERR_VALIDATION',
      text('worker.transportUnavailable', { bound: endpoints.map((e) => e.transport).join(' + '), transport }),
    );
  }
  if (transport === 'inproc' && mode === 'process') {
    throw new CodedError('PG_ERR_VALIDATION', text('worker.inprocProcess'));
  }
}

export function checkSinkReach(sink: SinkInfo, mode: WorkerInfo['mode']): void {
  if (sink.enabled && sink.transport === 'inproc' && mode === 'process') {
    throw new CodedError('PG_ERR_VALIDATION', text('sink.inprocProcess'));
  }
}
