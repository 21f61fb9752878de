/**
 * A frame that many WebSocket connections receive (a playground's live frames, its presenter and info messages:
 * live-frames.ts) is turned into wire bytes once, not once per connection (issue 9, presenter mode).
 *
 * A profile of 200 watchers of a batch showed what each watcher cost the server: not the JSON (encoded once
 * already) nor ws's framing, but the bytes written to each socket (`writev`, ~90% of the time spent sending).
 * So a shared frame is also compressed once, with permessage-deflate (RFC 7692) as browsers and `ws` negotiate it:
 * an `events` frame of ~55 KB deflates to ~5 KB in ~0.15 ms, once, and every connection that negotiated the
 * extension gets the same compressed bytes. Two things make the compressed bytes the same for every connection:
 * - the server compresses without context takeover (each message is a deflate stream of its own:
 *   `server_no_context_takeover`, which app.ts's WebSocket options always answer), and a server never masks;
 * - the window is the default 15 bits; a client that asked for a smaller server window (none of the browsers
 *   does) gets the uncompressed frame instead, which the extension allows for any message.
 * Messages sent to one connection only (hello, a backlog, errors) are never compressed (Outbox sends them with
 * `compress: false`): no per-connection zlib state, and the sender never holds a message back while deflating,
 * so the bytes written here cannot overtake one.
 *
 * Writing prepared bytes goes through ws's Sender (`sendFrame`, the method its own send ends in), which ws does not
 * publish; if this ws lacks it, or the sender is busy, the frame goes through `send` uncompressed instead.
 */
import zlib from 'node:zlib';
import type { PerMessageDeflateOptions, WebSocket } from 'ws';

/** Smaller frames are sent as they are (ws's own default threshold for compressing). */
export const DEFLATE_FROM_BYTES = 1024;
/** zlib level: ~11x on an events frame at ~0.15 ms; higher levels gain a few percent for twice the time. */
const DEFLATE_LEVEL = 3;
/** The default and largest window: the one a client that sets no `server_max_window_bits` accepts. */
const WINDOW_BITS = 15;
/** The empty stored block that ends a Z_SYNC_FLUSH; RFC 7692 7.2.1 says to take it off the message. */
const SYNC_FLUSH_TAIL = 4;

/** A text message as written on the wire: its frame header and payload, ready for any connection. */
interface WireFrame {
  readonly parts: readonly [header: Buffer, payload: Buffer];
  readonly bytes: number;
}

interface Prepared {
  plain: WireFrame;
  /** Compressed form, made on first use (null: not worth it, or not smaller). */
  deflated: WireFrame | null | undefined;
}

/**
 * One preparation per Buffer: a shared frame is one Buffer object handed to every connection. Text messages and
 * binary ones (task frames: shared/protocol/task-frame.ts) are kept apart: the opcode is in the prepared header.
 */
const prepared = { text: new WeakMap<Buffer, Prepared>(), binary: new WeakMap<Buffer, Prepared>() };

/**
 * The WebSocket server's permessage-deflate (app.ts). No context takeover on either side: the server's messages
 * can be compressed once for all connections, and it keeps no window between a client's messages. No window size
 * is required of the client: ws refuses the handshake (400) of a client whose offer does not meet a required one.
 * The client's messages are inflated by ws up to the stream's frame limit (maxPayload counts the inflated bytes).
 */
export const SHARED_DEFLATE_OPTIONS: PerMessageDeflateOptions = {
  serverNoContextTakeover: true,
  clientNoContextTakeover: true,
  threshold: DEFLATE_FROM_BYTES,
};

/** The part of ws's Sender used here (lib/sender.js). */
interface RawSender {
  _state: number;
  sendFrame(parts: Buffer[], callback?: (error?: Error) => void): void;
}
/** ws's Sender is idle (not deflating, not reading a Blob) in this state. */
const SENDER_IDLE = 0;

interface DeflateParams {
  server_no_context_takeover?: boolean;
  server_max_window_bits?: number;
}

/** Whether this connection can take a frame compressed once for every connection (negotiated as described above). */
export function takesSharedDeflate(socket: WebSocket): boolean {
  const extensions = (socket as unknown as { _extensions?: Record<string, { params?: DeflateParams } | undefined> })
    ._extensions;
  const params = extensions?.['permessage-deflate']?.params;
  if (!params?.server_no_context_takeover) return false;
  return params.server_max_window_bits === undefined || params.server_max_window_bits >= WINDOW_BITS;
}

/**
 * Writes a shared frame (the UTF-8 bytes of one text message, or with `binary` the bytes of a binary message) to
 * `socket`, compressed when the connection takes it. Answers how many bytes it queued (the Outbox's budget counts
 * these).
 */
export function sendShared(
  socket: WebSocket,
  text: Buffer,
  deflate: boolean,
  callback: (error?: Error) => void,
  binary = false,
): number {
  const sender = (socket as unknown as { _sender?: Partial<RawSender> | null })._sender;
  if (!sender || typeof sender.sendFrame !== 'function' || sender._state !== SENDER_IDLE) {
    socket.send(text, { binary, compress: false }, callback);
    return text.length;
  }
  const frame = wireFrame(text, deflate, binary);
  sender.sendFrame([...frame.parts], callback);
  return frame.bytes;
}

/** How many bytes `text` takes on the wire for a connection that does (or does not) take compressed frames. */
export function sharedBytes(text: Buffer, deflate: boolean, binary = false): number {
  return wireFrame(text, deflate, binary).bytes;
}

function wireFrame(text: Buffer, deflate: boolean, binary: boolean): WireFrame {
  const cache = binary ? prepared.binary : prepared.text;
  let entry = cache.get(text);
  if (!entry) {
    entry = { plain: frame(text, false, binary), deflated: undefined };
    cache.set(text, entry);
  }
  if (!deflate) return entry.plain;
  if (entry.deflated === undefined) entry.deflated = deflated(text, binary);
  return entry.deflated ?? entry.plain;
}

/**
 * Binary task frames are compressed too: a burst's frame of 400 task events, ~3.7 KB, deflates to ~1.5 KB in
 * ~65 us of CPU, once for every reader: not worth it for one page on loopback, worth it for a class (the bytes
 * written to each socket were most of what each reader cost: see above) and over a real network
 * (docs/benchmarks.md).
 */
function deflated(text: Buffer, binary: boolean): WireFrame | null {
  if (text.length < DEFLATE_FROM_BYTES) return null;
  const flushed = zlib.deflateRawSync(text, {
    level: DEFLATE_LEVEL,
    windowBits: WINDOW_BITS,
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
  const payload = flushed.subarray(0, flushed.length - SYNC_FLUSH_TAIL);
  return payload.length < text.length ? frame(payload, true, binary) : null;
}

/**
 * RFC 6455 5.2: FIN, text (or binary) opcode, RSV1 when compressed (RFC 7692), unmasked, the length in 7, 16 or
 * 64 bits.
 */
function frame(payload: Buffer, compressed: boolean, binary: boolean): WireFrame {
  const length = payload.length;
  const header = Buffer.allocUnsafe(length < 126 ? 2 : length < 65536 ? 4 : 10);
  header[0] = 0x80 | (compressed ? 0x40 : 0) | (binary ? 0x2 : 0x1);
  if (length < 126) header[1] = length;
  else if (length < 65536) {
    header[1] = 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  return { parts: [header, payload], bytes: header.length + length };
}
