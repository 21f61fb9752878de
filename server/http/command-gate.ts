/**
 * What both WebSocket streams (the pipeline's, stream.ts, and the graph's, graph-stream.ts) do with a frame before
 * it is a command: the command rate per connection and per visitor, with a flood closed, and the frame's size and
 * encoding checked.
 */
import { isUtf8 } from 'node:buffer';
import type { RawData } from 'ws';
import { MAX_COMMAND_BYTES, english, text, type ServerMessage, type ServerText } from '../../shared/protocol/index.ts';
import { DEFAULT_LIMITS, TokenBucket, VisitorBuckets } from '../limits.ts';
import type { OutboxLimits } from './outbox.ts';

/**
 * A connection that goes on sending after this many refused commands in one second (times its rate) is not a page
 * that misjudged: it is closed with 1008 (policy violation), so that a flood costs its author a new handshake,
 * which the HTTP limit counts, instead of costing the server an answer per frame.
 */
export const FLOOD_CLOSE_FACTOR = 10;

export interface CommandRate {
  perSecond: number;
  burst: number;
}

/** The limits both stream routes take (tests set small ones). */
export interface StreamLimitOptions {
  /** What one connection may have waiting unsent (outbox.ts). */
  outbox?: Partial<OutboxLimits>;
  /** Commands per second and burst, per connection and per visitor (server/limits.ts). */
  commands?: CommandRate;
}

/** A connection as the gate sees it: where refusals go, and how it is closed. */
export interface GatedConnection {
  /** Sends an encoded frame (through the connection's outbox). */
  send: (frame: string) => void;
  /** Closes the connection for a flood; `refused` is how many commands were over the limit in that second. */
  closeForFlood: (refused: number) => void;
}

/** The command rate of one stream route: one per connection, and one shared by every connection of a visitor. */
export class CommandGate {
  readonly rate: CommandRate;
  // Shared by every connection of a visitor: opening more sockets does not buy more commands.
  readonly #visitors: VisitorBuckets;
  /** The same answer to every command over the limit, made once: refusing must cost less than obeying. */
  readonly #limitFrame: string;

  constructor(rate?: CommandRate) {
    this.rate = rate ?? { perSecond: DEFAULT_LIMITS.commandsPerSecond, burst: DEFAULT_LIMITS.commandBurst };
    this.#visitors = new VisitorBuckets(this.rate.perSecond, this.rate.burst);
    const limitText = text('limit.commands', { rate: this.rate.perSecond, burst: this.rate.burst });
    const message = english(limitText);
    this.#limitFrame = JSON.stringify({
      type: 'error',
      code: 'PG_ERR_LIMIT',
      message,
      text: limitText,
    } satisfies ServerMessage);
  }

  /**
   * The gate of one connection: admit(visitor) says whether a frame may be read as a command. Before anything else,
   * decoding included: a flood costs one comparison per frame.
   */
  connection(connection: GatedConnection): { admit: (visitor: string) => boolean } {
    const bucket = new TokenBucket(this.rate.perSecond, this.rate.burst);
    let refusedSince = Date.now();
    let refused = 0;
    let floodClosed = false;
    return {
      admit: (visitor) => {
        if (floodClosed) return false;
        if (bucket.take() && this.#visitors.take(visitor)) return true;
        const now = Date.now();
        if (now - refusedSince >= 1000) {
          refusedSince = now;
          refused = 0;
        }
        if (++refused <= FLOOD_CLOSE_FACTOR * this.rate.perSecond) {
          connection.send(this.#limitFrame);
          return false;
        }
        floodClosed = true;
        connection.closeForFlood(refused);
        return false;
      },
    };
  }
}

/**
 * A frame's text, or why it is refused (too large, not UTF-8). A binary frame reads as empty text, which the
 * command decoder refuses with its own reason.
 */
export function frameText(
  data: RawData,
  isBinary: boolean,
): { ok: true; text: string } | { ok: false; reason: ServerText; notUtf8: boolean } {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]);
  if (isBinary) return { ok: true, text: '' };
  if (bytes.length > MAX_COMMAND_BYTES) {
    return {
      ok: false,
      reason: text('message.tooLarge', { size: bytes.length, limit: MAX_COMMAND_BYTES }),
      notUtf8: false,
    };
  }
  if (!isUtf8(bytes)) return { ok: false, reason: text('message.notUtf8'), notUtf8: true };
  return { ok: true, text: bytes.toString('utf8') };
}
