/**
 * What a run is given (its options), and the run's own two sockets opened as those options say: the ventilator's
 * PUSH (options set before any bind) and the sink's PULL (its address chosen and claimed like the ventilator's).
 */
import type {
  EndpointInfo,
  EventInput,
  RunParams,
  SinkInfo,
  SocketOptions,
  WorkerInfo,
} from '../../shared/protocol/index.ts';
import type { Scenario } from '../../shared/scenarios/index.ts';
import type { ScheduledAction } from '../../shared/lessons/index.ts';
import type { EndpointPolicy, IpcClaims } from './endpoints.ts';
import type { MonitorEvent } from './monitor.ts';
import { ResultSink, Ventilator } from './sockets.ts';
import { workersInThread } from './worker-handle.ts';
import { workerThreadHost } from '../workers/worker-thread-host.ts';
import type { VentilatorEndpoints } from './ventilator-endpoints.ts';
import { codeOf } from './worker-slot.ts';

export interface RunOptions {
  id: string;
  playgroundId: string;
  scenario: Scenario;
  /** The scenario's endpoints with their requested addresses resolved (overrides applied). */
  endpoints: EndpointInfo[];
  workers: WorkerInfo[];
  sink: SinkInfo;
  socketOptions: SocketOptions;
  params: RunParams;
  /** The playground's lesson at the start (named in run:started, so the recording is named after it). */
  lesson?: string | null;
  policy: EndpointPolicy;
  /** ipc paths other playgrounds of this server hold; a run never binds one of them. */
  claimedIpcPaths: IpcClaims;
  /** Signals the run sends to its own workers at set moments (a lesson's "chaos"). */
  actions?: readonly ScheduledAction[];
  emit: (event: EventInput) => void;
}

export function resolveAddress(template: string, policy: EndpointPolicy, playgroundId: string): string {
  return template.replaceAll('{runtime}', policy.runtimeDir).replaceAll('{playground}', playgroundId);
}

export function openVentilator(
  options: SocketOptions['ventilator'],
  onMonitor: (event: MonitorEvent) => void,
): Ventilator {
  const ventilator = new Ventilator(onMonitor);
  const socket = ventilator.socket;
  // Before any bind: HWMs and buffers of existing pipes never change afterwards (zmq-facts section 3).
  socket.sendHighWaterMark = options.sendHighWaterMark;
  if (options.sendBufferSize > 0) socket.sendBufferSize = options.sendBufferSize;
  if (options.heartbeatInterval > 0) {
    socket.heartbeatInterval = options.heartbeatInterval;
    socket.heartbeatTimeout = options.heartbeatTimeout || options.heartbeatInterval * 3;
  }
  return ventilator;
}

/** The run's sink, wherever it runs: its address, its end (after close) and close(). */
export interface SinkHandle {
  readonly address: string;
  readonly done: Promise<void>;
  close(): void;
}

/**
 * Opens the sink; the run reports it bound once it holds it. It runs in the in-process workers' thread when they
 * do (a receive per result off the main thread, and each result reported after its worker's task:done), else here.
 */
export async function openSink(
  run: RunOptions,
  endpoints: VentilatorEndpoints,
  emit: (event: EventInput) => void,
  onResult: (worker: string, task: number) => void,
): Promise<SinkHandle> {
  const { sink, playgroundId } = run;
  // An ipc path is claimed like the ventilator's: never a file that is not a socket, nor another playground's.
  const fresh =
    sink.transport === 'ipc'
      ? `ipc://${await endpoints.claimOwnPath('sink')}`
      : sink.transport === 'tcp'
        ? 'tcp://127.0.0.1:*'
        : // A dot, not a dash: a visitor's inproc names are `<id>-<name>`, so the sink's can never be one of them.
          `inproc://${playgroundId}.sink`;
  const options = run.socketOptions.sink;
  const settings = {
    // The last run's tcp port again when possible: workers started by hand keep reaching it.
    requested: sink.transport === 'tcp' && sink.address?.startsWith('tcp://127.0.0.1:') ? sink.address : fresh,
    fallback: fresh,
    receiveHighWaterMark: options.receiveHighWaterMark,
    receiveBufferSize: options.receiveBufferSize,
  };
  const onMonitor = (event: MonitorEvent) => emit({ type: 'socket:event', node: 'sink', ...event });
  if (workersInThread(run.scenario)) {
    return workerThreadHost.openSink(settings, {
      onMonitor,
      onResult,
      onError: ({ code, message }) => emit({ type: 'node:error', node: 'sink', code, message }),
    });
  }
  return ResultSink.open({
    ...settings,
    onMonitor,
    onResult,
    onError: (error) =>
      emit({ type: 'node:error', node: 'sink', code: codeOf(error), message: (error as Error).message }),
  });
}
