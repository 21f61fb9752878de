/**
 * WebSocket stream of one graph playground (issue 11): `hello`, then (after `subscribe`) the backlog and live
 * event batches, and `graph:updated` when a run starts or ends or the graph is replaced. The protocol is in
 * shared/protocol/graph-stream.ts; docs/api.md describes it.
 *
 * The same guards as the pipeline's stream (stream.ts): a role is needed to watch (without one the playground
 * "does not exist", 4404), one Outbox per connection (a reader that stops reading is dropped, the backlog goes out
 * as the reader takes it), one EventBatcher (a frame per ~33 ms; message events sampled at high rates while the
 * frame's counters stay exact), and the command rate per connection and per visitor, with a flood closed (1008).
 * Running and changing the graph go through the HTTP API: the only command here is `subscribe`.
 */
import type { FastifyInstance } from 'fastify';
import { PROTOCOL_VERSION, decodeCommand, english, text, type ServerText } from '../../shared/protocol/index.ts';
import {
  GRAPH_SAMPLED_TYPES,
  type GraphCounters,
  type GraphPlaygroundInfo,
  type GraphServerMessage,
} from '../../shared/protocol/graph-stream.ts';
import type { GraphPlayground, GraphRegistry } from '../engine/graph-playground.ts';
import { EventBatcher } from './event-batcher.ts';
import { toErrorBody } from './errors.ts';
import { DEFAULT_OUTBOX_LIMITS, Outbox, type OutboxLimits } from './outbox.ts';
import { CLOSE_NOT_FOUND } from './stream.ts';
import { CommandGate, frameText, type StreamLimitOptions } from './command-gate.ts';

const CONGESTED_BYTES = 4 * 1024 * 1024;
const BACKLOG_FRAME_EVENTS = 500;

export interface GraphStreamOptions extends StreamLimitOptions {
  graphs: GraphRegistry;
}

export async function graphStreamRoute(
  app: FastifyInstance,
  { graphs, outbox: outboxLimits, commands }: GraphStreamOptions,
): Promise<void> {
  const limits: OutboxLimits = { ...DEFAULT_OUTBOX_LIMITS, ...outboxLimits };
  const commandGate = new CommandGate(commands);

  app.get<{ Params: { id: string } }>('/api/graphs/:id/stream', { websocket: true }, (socket, request) => {
    const send = (message: GraphServerMessage): void => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
    };
    let playground: GraphPlayground;
    try {
      playground = graphs.forVisitor(request.params.id, request.visitor, 'watcher');
    } catch (error) {
      send({ type: 'error', ...toErrorBody(error).body });
      socket.close(CLOSE_NOT_FOUND, 'playground not found');
      return;
    }
    const outbox = new Outbox(socket, limits, (why) =>
      request.log.warn({ playground: playground.id }, `Dropped a slow reader of the graph stream: ${why}`),
    );
    const sendMessage = (message: GraphServerMessage): void => outbox.send(JSON.stringify(message));
    const batcher = new EventBatcher<GraphCounters>({
      send: (frame) => outbox.send(frame),
      counters: () => playground.counters(),
      isCongested: () => outbox.queuedBytes > CONGESTED_BYTES,
      sampledTypes: GRAPH_SAMPLED_TYPES,
    });
    let unsubscribe: (() => void) | null = null;
    let heldInfo: GraphPlaygroundInfo | null = null;
    const stopInfo = playground.onInfoChanged((info) => {
      if (outbox.sendingBacklog) {
        heldInfo = info;
        return;
      }
      batcher.flush(); // events logged before the change go out first
      sendMessage({ type: 'graph:updated', graph: info });
    });

    const subscribe = (sinceSeq: number): void => {
      unsubscribe?.();
      batcher.clear();
      batcher.pause();
      // One synchronous step: no event missed or repeated between the backlog and the live ones.
      const backlog = playground.log.since(sinceSeq);
      unsubscribe = playground.log.subscribe((event) => batcher.push(event));
      let next = 0;
      outbox.sendBacklog(
        () => {
          if (next >= backlog.length) return null;
          const events = backlog.slice(next, next + BACKLOG_FRAME_EVENTS);
          next += events.length;
          return JSON.stringify({
            type: 'events',
            events,
            dropped: 0,
            counters: playground.counters(),
          } satisfies GraphServerMessage);
        },
        () => {
          batcher.resume();
          if (heldInfo) sendMessage({ type: 'graph:updated', graph: heldInfo });
          heldInfo = null;
        },
      );
    };

    const gate = commandGate.connection({
      send: (frame) => outbox.send(frame),
      closeForFlood: (refused) => {
        request.log.warn(
          { playground: playground.id },
          `Closed a graph stream that sent more than ${refused} commands over its limit in a second`,
        );
        socket.close(1008, 'too many commands');
      },
    });
    const badMessage = (reason: ServerText): void =>
      sendMessage({ type: 'error', code: 'PG_ERR_BAD_MESSAGE', message: english(reason), text: reason });

    socket.on('message', (data, isBinary) => {
      // Nothing may escape this listener: an uncaught exception here would end the server for every visitor.
      if (!gate.admit(request.visitor)) return;
      try {
        const frame = frameText(data, isBinary);
        if (!frame.ok) {
          badMessage(frame.reason);
          return;
        }
        // The pipeline stream's decoder (size, depth and shape checked); of its commands only subscribe is ours.
        const decoded = decodeCommand(frame.text);
        if (!decoded.ok) {
          sendMessage({ type: 'error', code: decoded.code, message: decoded.message, text: decoded.text });
          return;
        }
        if (decoded.value.type !== 'subscribe') {
          const reason = text('message.unknownType', { what: 'command', type: decoded.value.type, known: 'subscribe' });
          sendMessage({
            type: 'error',
            code: 'PG_ERR_UNKNOWN_COMMAND',
            message: english(reason),
            text: reason,
            command: decoded.value.type,
          });
          return;
        }
        const sinceSeq = decoded.value.sinceSeq ?? 0;
        // Checked per command: a role taken back (the playground deleted) ends the watching.
        graphs.forVisitor(playground.id, request.visitor, 'watcher');
        playground.lastActivity = Date.now();
        subscribe(sinceSeq);
      } catch (error) {
        try {
          const { body } = toErrorBody(error);
          if (body.code === 'PG_ERR_INTERNAL') request.log.error(error);
          sendMessage({ type: 'error', ...body, command: 'subscribe' });
        } catch (failure) {
          request.log.error({ err: failure }, 'Could not answer a graph stream command');
        }
      }
    });
    socket.on('close', () => {
      unsubscribe?.();
      stopInfo();
      batcher.close();
      outbox.close();
      playground.lastActivity = Date.now();
    });
    sendMessage({ type: 'hello', protocolVersion: PROTOCOL_VERSION, graph: playground.info() });
  });
}
