/**
 * The class of the `watchers` bench case (bench/run.ts), in a worker thread of the bench's process: many watchers
 * of one playground, each a visitor of its own (its session cookie) that joined through the watch link and holds
 * a WebSocket on loopback. Two kinds of class (`--class`):
 *
 * - count (the default): each watcher is a raw TCP socket that makes the page's own upgrade request (its cookie,
 *   the page's Origin, and the permessage-deflate offer Chromium sends), so the server treats it exactly as it
 *   treats a browser and writes it the same compressed bytes. It then only reads frame headers off the TCP bytes:
 *   2-10 bytes each, the payload skipped by its length, frames and bytes counted; it neither inflates nor parses.
 *   What a browser does with a frame it does on its own machine; here it would compete with the server for the
 *   same two cores, so the class does the least that still proves delivery. Proof: the payloads of its last few
 *   frames are kept (references to the TCP chunks, no copy), and after the run each watcher inflates those (each
 *   shared frame is a deflate stream of its own: shared-frame.ts) to find the frame with run:ended; its position
 *   must equal the measuring client's (same frames, none missing), and every watcher's bytes up to it must agree.
 * - decode: each watcher is a `ws` client, as before: ws inflates every frame (zlib) and hands it over (without
 *   JSON parsing). Kept for reference: it shows what the clients' own decoding costs on this machine.
 *
 * Messages from the bench: {connect: {base, playground, token, count, mode}} answers {ready: count} once every
 * watcher has its hello and has subscribed; {close: {endsAt}} (endsAt: the measuring client's message count up to
 * and including the one with run:ended) waits until every watcher has that many messages, checks each, closes them
 * and answers {stats: {frames, bytes, closedEarly, checked, minBytesToEnd, maxBytesToEnd, failures}}.
 */
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import zlib from 'node:zlib';
import { parentPort } from 'node:worker_threads';
import WebSocket from 'ws';

export type ClassMode = 'count' | 'decode';

interface ConnectOrder {
  base: string;
  playground: string;
  token: string;
  count: number;
  mode: ClassMode;
}

/** What each watcher knows after the run: enough to prove it got every frame, whatever kind it is. */
interface Watcher {
  /** Messages received (text or binary, the last frame of each), hello included. */
  readonly messages: number;
  /** Bytes received: on the wire (count) or as ws handed them over, inflated (decode). */
  readonly bytes: number;
  /** Closed by the other side before the bench closed it. */
  readonly closedEarly: boolean;
  /** The position and bytes-so-far of the message holding run:ended, looked for among the last few; null if none. */
  findEnd(): { position: number; bytesToEnd: number } | null;
  close(): Promise<void>;
}

/** How many recent messages a watcher keeps (to find run:ended after the run: a playground:updated may follow it). */
const KEPT_MESSAGES = 8;
const RUN_ENDED = Buffer.from('"type":"run:ended"');
/** RFC 6455 1.3. */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** RFC 7692 7.2.2: the tail a sender takes off each compressed message, put back before inflating it. */
const DEFLATE_TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
/** Watchers connect this many at a time: the server's HTTP and handshake path is not what is measured. */
const CONNECT_BATCH = 20;
/** After the measuring client saw run:ended, how long the class may take to have it too. */
const END_WAIT_MS = 15_000;

interface KeptMessage {
  position: number;
  bytesSoFar: number;
  compressed: boolean;
  payload: Buffer[];
}

function holdsRunEnded(message: KeptMessage): boolean {
  const payload = Buffer.concat(message.payload);
  const text = message.compressed
    ? zlib.inflateRawSync(Buffer.concat([payload, DEFLATE_TAIL]), { finishFlush: zlib.constants.Z_SYNC_FLUSH })
    : payload;
  return text.includes(RUN_ENDED);
}

/** The newest kept message that holds run:ended (most likely among the last: searched from the end). */
function findEnd(kept: readonly KeptMessage[]): { position: number; bytesToEnd: number } | null {
  for (let i = kept.length - 1; i >= 0; i--) {
    const message = kept[i]!;
    if (holdsRunEnded(message)) return { position: message.position, bytesToEnd: message.bytesSoFar };
  }
  return null;
}

async function join({ base, playground, token }: ConnectOrder): Promise<string> {
  const cookie = `zpg_session=${randomBytes(32).toString('base64url')}`;
  const joined = await fetch(`${base}/api/playgrounds/${playground}/join`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  if (joined.status !== 200) throw new Error(`join answered ${joined.status}: ${await joined.text()}`);
  return cookie;
}

const SUBSCRIBE = Buffer.from(JSON.stringify({ type: 'subscribe' }));

/** A client's text frame (RFC 6455 5.2, 5.3): masked, as every client frame must be; `payload` under 126 bytes. */
function maskedFrame(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const frame = Buffer.alloc(6 + payload.length);
  frame[0] = 0x80 | opcode;
  frame[1] = 0x80 | payload.length;
  mask.copy(frame, 2);
  for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i]! ^ mask[i % 4]!;
  return frame;
}

/**
 * A watcher that counts frames on a raw socket. The handshake is the page's (Chromium's extension offer:
 * `permessage-deflate; client_max_window_bits`); the answer's accept key and its extension are checked, and the
 * server must grant permessage-deflate without context takeover, or the class would not be read as browsers read.
 */
async function countingWatcher(order: ConnectOrder, cookie: string): Promise<Watcher> {
  const url = new URL(order.base);
  const key = randomBytes(16).toString('base64');
  const socket = net.connect({ host: url.hostname, port: Number(url.port) });
  socket.setNoDelay(true);
  const request =
    `GET /api/playgrounds/${order.playground}/stream HTTP/1.1\r\n` +
    `Host: ${url.host}\r\n` +
    'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
    `Sec-WebSocket-Key: ${key}\r\n` +
    'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n' +
    `Origin: ${url.origin}\r\nCookie: ${cookie}\r\n\r\n`;
  socket.write(request);

  let messages = 0;
  let bytes = 0;
  let closedEarly = false;
  let closing = false;
  const kept: KeptMessage[] = [];
  // The frame being read: its header (gathered across chunks if split), then its payload's remaining length.
  let header: Buffer = Buffer.alloc(0);
  let remaining = 0;
  let fin = false;
  let opcode = 0;
  let compressed = false;
  /** Payload slices of the message being read (kept only for data frames; control frames' for a ping's pong). */
  let payload: Buffer[] = [];
  let handshake: Buffer | null = Buffer.alloc(0);

  let settleHello: { resolve: () => void; reject: (error: Error) => void } | null = null;
  const hello = new Promise<void>((resolve, reject) => (settleHello = { resolve, reject }));
  const fail = (error: Error) => {
    settleHello?.reject(error);
    settleHello = null;
    socket.destroy();
  };

  const frameDone = () => {
    if (opcode === 0x8) {
      if (!closing) closedEarly = true;
      socket.end();
    } else if (opcode === 0x9) {
      socket.write(maskedFrame(0xa, Buffer.concat(payload)));
    } else if (opcode <= 0x2 && fin) {
      messages++;
      kept.push({ position: messages, bytesSoFar: bytes, compressed, payload });
      if (kept.length > KEPT_MESSAGES) kept.shift();
      if (messages === 1) {
        // The first message is hello: subscribe as the page does.
        socket.write(maskedFrame(0x1, SUBSCRIBE));
        settleHello?.resolve();
        settleHello = null;
      }
    }
    payload = [];
  };

  /** Reads frames off `chunk`: headers parsed, payloads only sliced (no copy) and counted. */
  const readFrames = (chunk: Buffer) => {
    let at = 0;
    while (at < chunk.length) {
      if (remaining > 0) {
        const take = Math.min(remaining, chunk.length - at);
        payload.push(chunk.subarray(at, at + take));
        at += take;
        bytes += take;
        remaining -= take;
        if (remaining === 0) frameDone();
        continue;
      }
      // A header: 2 bytes, then 2 or 8 of extended length (a server's frames are never masked). One split
      // between two chunks is kept (copied) in `header` until the rest arrives.
      const head =
        header.length === 0 ? chunk.subarray(at, at + 10) : Buffer.concat([header, chunk.subarray(at, at + 10)]);
      const short = head.length < 2 ? -1 : head[1]! & 0x7f;
      const size = short === 126 ? 4 : short === 127 ? 10 : 2;
      if (short < 0 || head.length < size) {
        header = Buffer.from(head);
        at = chunk.length;
        continue;
      }
      at += size - header.length;
      header = head;
      if (header[1]! & 0x80) return fail(new Error('the server sent a masked frame'));
      fin = (header[0]! & 0x80) !== 0;
      const frameOpcode = header[0]! & 0x0f;
      if (frameOpcode !== 0) {
        opcode = frameOpcode;
        compressed = (header[0]! & 0x40) !== 0;
      }
      remaining = short === 126 ? header.readUInt16BE(2) : short === 127 ? Number(header.readBigUInt64BE(2)) : short;
      bytes += size;
      header = Buffer.alloc(0);
      if (remaining === 0) frameDone();
    }
  };

  socket.on('data', (chunk: Buffer) => {
    if (handshake === null) return readFrames(chunk);
    handshake = Buffer.concat([handshake, chunk]);
    const end = handshake.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = handshake.subarray(0, end).toString('latin1').split('\r\n');
    const rest = handshake.subarray(end + 4);
    handshake = null;
    const fields = new Map(
      head.slice(1).map((line) => {
        const colon = line.indexOf(':');
        return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()] as const;
      }),
    );
    const accept = createHash('sha1')
      .update(key + WEBSOCKET_GUID)
      .digest('base64');
    if (!/^HTTP\/1\.1 101 /.test(head[0] ?? '')) return fail(new Error(`the upgrade was answered ${head[0]}`));
    if (fields.get('sec-websocket-accept') !== accept) return fail(new Error('wrong Sec-WebSocket-Accept'));
    const extension = fields.get('sec-websocket-extensions') ?? '';
    if (!extension.startsWith('permessage-deflate') || !extension.includes('server_no_context_takeover'))
      return fail(new Error(`the server answered the deflate offer with "${extension}"`));
    if (rest.length > 0) readFrames(rest);
  });
  socket.on('error', (error) => fail(error));
  socket.on('close', () => {
    if (!closing) closedEarly = true;
    fail(new Error('closed before hello'));
  });
  await hello;

  return {
    get messages() {
      return messages;
    },
    get bytes() {
      return bytes;
    },
    get closedEarly() {
      return closedEarly;
    },
    findEnd: () => findEnd(kept),
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        if (socket.destroyed) return resolve();
        socket.once('close', () => resolve());
        // A close frame (code 1000), then the server closes the TCP connection; cut it if it does not.
        socket.write(maskedFrame(0x8, Buffer.from([0x03, 0xe8])));
        setTimeout(() => socket.destroy(), 2000).unref();
      }),
  };
}

/** A watcher that is a `ws` client: every frame inflated by ws and handed over (not JSON-parsed). */
async function decodingWatcher(order: ConnectOrder, cookie: string): Promise<Watcher> {
  const socket = new WebSocket(`${order.base.replace('http', 'ws')}/api/playgrounds/${order.playground}/stream`, {
    headers: { cookie },
    skipUTF8Validation: true,
  });
  let messages = 0;
  let bytes = 0;
  let closedEarly = false;
  let closing = false;
  const kept: KeptMessage[] = [];
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.on('message', (data: Buffer) => {
      messages++;
      bytes += data.length;
      kept.push({ position: messages, bytesSoFar: bytes, compressed: false, payload: [data] });
      if (kept.length > KEPT_MESSAGES) kept.shift();
      if (messages === 1) {
        // The first message is hello: subscribe as the page does.
        socket.send(SUBSCRIBE, { binary: false });
        resolve();
      }
    });
  });
  socket.on('close', () => {
    if (!closing) closedEarly = true;
  });
  return {
    get messages() {
      return messages;
    },
    get bytes() {
      return bytes;
    },
    get closedEarly() {
      return closedEarly;
    },
    findEnd: () => findEnd(kept),
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        if (socket.readyState === WebSocket.CLOSED) return resolve();
        socket.once('close', () => resolve());
        socket.close();
        setTimeout(() => {
          socket.terminate();
          resolve();
        }, 2000).unref();
      }),
  };
}

async function watcher(order: ConnectOrder): Promise<Watcher> {
  const cookie = await join(order);
  return order.mode === 'count' ? countingWatcher(order, cookie) : decodingWatcher(order, cookie);
}

/** Resolves once every watcher has `count` messages, or after END_WAIT_MS (the checks then say who lacks them). */
async function allHave(watchers: readonly Watcher[], count: number): Promise<void> {
  const until = Date.now() + END_WAIT_MS;
  while (Date.now() < until && watchers.some((w) => w.messages < count && !w.closedEarly))
    await new Promise((resolve) => setTimeout(resolve, 20));
}

const port = parentPort!;
let watchers: Watcher[] = [];

port.on('message', async (order: { connect?: ConnectOrder; close?: { endsAt: number } }) => {
  try {
    if (order.connect) {
      const made: Watcher[] = [];
      for (let i = 0; i < order.connect.count; i += CONNECT_BATCH) {
        const batch = Array.from({ length: Math.min(CONNECT_BATCH, order.connect.count - i) }, () =>
          watcher(order.connect!),
        );
        made.push(...(await Promise.all(batch)));
      }
      watchers = made;
      port.postMessage({ ready: made.length });
    } else if (order.close) {
      const closing = watchers;
      watchers = [];
      const { endsAt } = order.close;
      await allHave(closing, endsAt);
      const failures: string[] = [];
      const bytesToEnd: number[] = [];
      closing.forEach((w, index) => {
        const end = w.findEnd();
        if (w.closedEarly) failures.push(`watcher ${index} was closed by the server during the run`);
        else if (!end)
          failures.push(
            `watcher ${index} has no run:ended among its last ${KEPT_MESSAGES} messages (it has ${w.messages}, run:ended was message ${endsAt})`,
          );
        else if (end.position !== endsAt)
          failures.push(`watcher ${index} got run:ended as message ${end.position}, the measuring client as ${endsAt}`);
        else bytesToEnd.push(end.bytesToEnd);
      });
      const stats = {
        frames: closing.reduce((sum, w) => sum + w.messages, 0),
        bytes: closing.reduce((sum, w) => sum + w.bytes, 0),
        closedEarly: closing.filter((w) => w.closedEarly).length,
        checked: bytesToEnd.length,
        minBytesToEnd: Math.min(...bytesToEnd),
        maxBytesToEnd: Math.max(...bytesToEnd),
        failures: failures.slice(0, 5).concat(failures.length > 5 ? [`and ${failures.length - 5} more`] : []),
      };
      await Promise.all(closing.map((w) => w.close()));
      port.postMessage({ stats });
    }
  } catch (error) {
    port.postMessage({ error: String(error) });
  }
});
