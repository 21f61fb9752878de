/**
 * WebSocket stream of one playground: `hello`, then (after `subscribe`) the backlog and live event batches (built
 * and encoded once per playground for every connection that is caught up: live-frames.ts).
 * Also accepts the same commands as the HTTP API, for scripts that only hold a socket.
 */
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import {
  PROTOCOL_VERSION,
  assertNever,
  decodeCommand,
  english,
  type ClientCommand,
  type ServerMessage,
  type ServerText,
} from '../../shared/protocol/index.ts';
import type { PlaygroundRegistry } from '../pipeline/registry.ts';
import type { Playground } from '../pipeline/playground.ts';
import { LiveFrames, StreamConnection } from './live-frames.ts';
import { toErrorBody } from './errors.ts';
import { DEFAULT_OUTBOX_LIMITS, Outbox, type OutboxLimits } from './outbox.ts';
import { CommandGate, frameText, type StreamLimitOptions } from './command-gate.ts';

/**
 * Above this many unsent bytes on a socket, the connection leaves the shared frames and task events are sampled
 * harder for it (see EventBatcher and live-frames.ts).
 */
const CONGESTED_BYTES = 4 * 1024 * 1024;

/**
 * Largest frame the server takes in: above it ws closes the connection (1009). Between MAX_COMMAND_BYTES and this,
 * a frame is answered with message.tooLarge and the connection stays, as docs/api.md says.
 */
export const MAX_FRAME_BYTES = 1024 * 1024;
/** Close code sent when the playground does not exist (4000-4999 are free for applications). */
export const CLOSE_NOT_FOUND = 4404;

export interface StreamOptions extends StreamLimitOptions {
  registry: PlaygroundRegistry;
}

export async function streamRoute(
  app: FastifyInstance,
  { registry, outbox: outboxLimits, commands }: StreamOptions,
): Promise<void> {
  const limits: OutboxLimits = { ...DEFAULT_OUTBOX_LIMITS, ...outboxLimits };
  /** One hub of live frames per playground that has connections: each frame is encoded once for all of them. */
  const hubs = new Map<Playground, LiveFrames>();
  const hubOf = (playground: Playground): LiveFrames => {
    let hub = hubs.get(playground);
    if (!hub) {
      const made = new LiveFrames(playground, () => {
        if (hubs.get(playground) === made) hubs.delete(playground);
      });
      hubs.set(playground, made);
      hub = made;
    }
    return hub;
  };
  // The command rate per connection and per visitor, a flood closed (command-gate.ts).
  const commandGate = new CommandGate(commands);
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
    const outbox = new Outbox(socket, limits, (why) =>
      request.log.warn({ playground: playground.id }, `Dropped a slow reader of the stream: ${why}`),
    );
    const sendMessage = (message: ServerMessage): void => outbox.send(JSON.stringify(message));
    const unwatch = playground.watch();
    // Its backlog, then live frames: its own while it is behind, the playground's shared ones once caught up.
    const frames = new StreamConnection(hubOf(playground), playground, outbox, { congestedBytes: CONGESTED_BYTES });

    const gate = commandGate.connection({
      send: (frame) => outbox.send(frame),
      closeForFlood: (refused) => {
        const why = `Closed a stream that sent more than ${refused} commands over its limit in a second`;
        request.log.warn({ playground: playground.id }, why);
        socket.close(1008, 'too many commands');
      },
    });
    /** Invalid UTF-8 is a client's bug, not the server's: said once per connection in the log, as a warning. */
    let warnedUtf8 = false;

    const handle = (command: ClientCommand): void => {
      // Checked per command, not once: a watcher may only subscribe (PG_ERR_FORBIDDEN for anything else).
      if (command.type !== 'subscribe') registry.forVisitor(playground.id, request.visitor, 'driver');
      playground.lastActivity = Date.now();
      switch (command.type) {
        case 'subscribe':
          frames.subscribe(command.sinceSeq ?? 0, command.binary);
          return;
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
        case 'presenter:set':
          playground.setPresenter(command.presenter); // the hub tells every connection, this one included
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
        sendMessage(command === undefined ? { type: 'error', ...body } : { type: 'error', ...body, command });
      } catch (failure) {
        request.log.error({ err: failure }, 'Could not answer a WebSocket command');
      }
    };

    const badMessage = (reason: ServerText): void =>
      sendMessage({ type: 'error', code: 'PG_ERR_BAD_MESSAGE', message: english(reason), text: reason });

    socket.on('message', (data, isBinary) => {
      // Whatever a client sends, nothing may escape this listener: an uncaught exception here ends the server
      // for every visitor. It becomes an error frame (and a log line when it is ours).
      let command: string | undefined;
      // Before anything else, decoding included: a flood costs one comparison per frame.
      if (!gate.admit(request.visitor)) return;
      try {
        const frame = frameText(data, isBinary);
        if (!frame.ok) {
          if (frame.notUtf8 && !warnedUtf8) {
            const warning =
              'A WebSocket client sent a text frame that is not UTF-8 (answered with an error; said once per connection)';
            request.log.warn({ playground: playground.id }, warning);
          }
          warnedUtf8 ||= frame.notUtf8;
          badMessage(frame.reason);
          return;
        }
        const decoded = decodeCommand(frame.text);
        if (!decoded.ok) {
          sendMessage({ type: 'error', code: decoded.code, message: decoded.message, text: decoded.text });
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
      frames.close();
      outbox.close();
      playground.lastActivity = Date.now();
    });
    sendMessage({ type: 'hello', protocolVersion: PROTOCOL_VERSION, playground: playground.info() });
    // What the watchers follow, at once: a page that joins mid-lesson shows the presenter's moment (SPEC [S6]).
    outbox.send(hubOf(playground).presenterBytes());
  });
}

function send(socket: WebSocket, message: ServerMessage): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
}
