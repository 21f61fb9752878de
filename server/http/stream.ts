/**
 * WebSocket stream of one playground: `hello`, then (after `subscribe`) the backlog and live event batches.
 * Also accepts the same commands as the HTTP API, for scripts that only hold a socket.
 */
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import {
  PROTOCOL_VERSION,
  assertNever,
  decodeCommand,
  type ClientCommand,
  type ServerMessage,
} from '../../shared/protocol/index.ts';
import type { PlaygroundRegistry } from '../pipeline/registry.ts';
import type { Playground } from '../pipeline/playground.ts';
import { EventBatcher } from './event-batcher.ts';
import { toErrorBody } from './errors.ts';

/** Above this many unsent bytes on a socket, task events are sampled harder (see EventBatcher). */
const CONGESTED_BYTES = 4 * 1024 * 1024;
/** Close code sent when the playground does not exist (4000-4999 are free for applications). */
export const CLOSE_NOT_FOUND = 4404;

export async function streamRoute(app: FastifyInstance, { registry }: { registry: PlaygroundRegistry }): Promise<void> {
  app.get<{ Params: { id: string } }>('/api/playgrounds/:id/stream', { websocket: true }, (socket, request) => {
    // NOTE: handlers are attached synchronously; messages arriving during async work would otherwise be lost.
    let playground: Playground;
    try {
      // Watching needs a role (owner, driver or watcher); without one the playground "does not exist".
      playground = registry.forVisitor(request.params.id, request.visitor, 'watcher');
    } catch (error) {
      send(socket, { type: 'error', ...toErrorBody(error).body });
      socket.close(CLOSE_NOT_FOUND, 'playground not found');
      return;
    }
    const batcher = new EventBatcher({
      send: (frame) => {
        if (socket.readyState === socket.OPEN) socket.send(frame);
      },
      counters: () => playground.counters(),
      isCongested: () => socket.bufferedAmount > CONGESTED_BYTES,
    });
    let unsubscribe: (() => void) | null = null;
    const unwatch = playground.watch();
    const stopInfo = playground.onInfoChanged((info) => {
      batcher.flush(); // keep order: events logged before the change go out first
      send(socket, { type: 'playground:updated', playground: info });
    });

    const handle = (command: ClientCommand): void => {
      // Checked per command, not once: a watcher may only subscribe (PG_ERR_FORBIDDEN for anything else).
      if (command.type !== 'subscribe') registry.forVisitor(playground.id, request.visitor, 'driver');
      playground.lastActivity = Date.now();
      switch (command.type) {
        case 'subscribe': {
          unsubscribe?.();
          batcher.sendAll(playground.log.since(command.sinceSeq ?? 0));
          unsubscribe = playground.log.subscribe((event) => batcher.push(event));
          return;
        }
        case 'run:start':
          playground.startRun(command.params);
          return;
        case 'run:stop':
          playground.stopRun();
          return;
        case 'params:update':
          playground.updateParams(command.params);
          return;
        case 'worker:add':
          playground.addWorker(command.worker);
          return;
        case 'worker:update':
          playground.updateWorker(command.worker, command.patch);
          return;
        case 'worker:remove':
          playground.removeWorker(command.worker).catch((error: unknown) => reportError(error, command.type));
          return;
        case 'worker:signal':
          playground.signalWorker(command.worker, command.signal);
          return;
        case 'sink:update':
          playground.updateSink(command.patch);
          return;
        case 'options:update':
          playground.updateOptions(command.patch);
          return;
        default:
          assertNever(command);
      }
    };

    /** Never throws: it runs in catch blocks and promise handlers, where a throw would end the process. */
    const reportError = (error: unknown, command?: string): void => {
      try {
        const { body } = toErrorBody(error);
        if (body.code === 'PG_ERR_INTERNAL') request.log.error(error);
        send(socket, command === undefined ? { type: 'error', ...body } : { type: 'error', ...body, command });
      } catch (failure) {
        request.log.error({ err: failure }, 'Could not answer a WebSocket command');
      }
    };

    socket.on('message', (data, isBinary) => {
      // Whatever a client sends, nothing may escape this listener: an uncaught exception here ends the server
      // for every visitor. It becomes an error frame (and a log line when it is ours).
      let command: string | undefined;
      try {
        const text = isBinary ? '' : data.toString();
        const decoded = decodeCommand(text);
        if (!decoded.ok) {
          send(socket, { type: 'error', code: decoded.code, message: decoded.message, text: decoded.text });
          return;
        }
        command = decoded.value.type;
        handle(decoded.value);
      } catch (error) {
        reportError(error, command);
      }
    });
    socket.on('close', () => {
      unwatch();
      unsubscribe?.();
      stopInfo();
      batcher.close();
      playground.lastActivity = Date.now();
    });
    send(socket, { type: 'hello', protocolVersion: PROTOCOL_VERSION, playground: playground.info() });
  });
}

function send(socket: WebSocket, message: ServerMessage): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
}
