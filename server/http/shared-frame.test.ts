/**
 * A frame many connections get is framed and compressed once (shared-frame.ts), on real WebSockets over loopback:
 * every client reads the same text whatever it negotiated, in the order the server sent it among the messages for
 * that connection alone, and a client that negotiated permessage-deflate takes far fewer bytes off the wire.
 */
import zlib from 'node:zlib';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, expect, it, vi } from 'vitest';
import WebSocket, { WebSocketServer, type ClientOptions } from 'ws';
import { decodeTaskFrame, encodeTaskFrame } from '../../shared/protocol/task-frame.ts';
import { DEFAULT_OUTBOX_LIMITS, Outbox } from './outbox.ts';
import { SHARED_DEFLATE_OPTIONS, sendShared, takesSharedDeflate } from './shared-frame.ts';

let server: WebSocketServer | null = null;
afterEach(async () => {
  vi.restoreAllMocks();
  for (const client of server?.clients ?? []) client.terminate();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = null;
});

interface Reader {
  outbox: Outbox;
  deflates: boolean;
  wire: Socket;
  texts: Promise<string[]>;
}

/** An events frame's JSON as the hub encodes it (~40 KB of task events, as compressible as the real ones). */
function eventsFrame(from: number): Buffer {
  const events = Array.from({ length: 300 }, (_, i) => ({
    type: 'task:received',
    task: from + i,
    worker: `worker-${(i % 2) + 1}`,
    body: `task ${from + i} xxxxxxxxxxxxxxxx`,
    run: 'run-HFa3X1QbQoUYq_t-fwyZvg',
    t: 371.7 + i / 100,
    seq: 82_000 + from + i,
  }));
  return Buffer.from(JSON.stringify({ type: 'events', events, dropped: 0, counters: { sent: from + 300 } }), 'utf8');
}

it('a shared frame is compressed once for every connection that negotiated it; every connection reads the same text in order', async () => {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: SHARED_DEFLATE_OPTIONS });
  await new Promise((resolve) => server!.once('listening', resolve));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const connections: { socket: WebSocket; request: IncomingMessage }[] = [];
  server.on('connection', (socket, request) => connections.push({ socket, request }));

  const MESSAGES = 4;
  // Three as browsers and ws connect (they offer permessage-deflate), one without it, one that asks the server for
  // a window smaller than the one the shared bytes were compressed with.
  const offers: ClientOptions['perMessageDeflate'][] = [true, true, true, false, { serverMaxWindowBits: 10 }];
  const clients = offers.map((perMessageDeflate) => new WebSocket(url, { perMessageDeflate }));
  const received = clients.map(
    (client) =>
      new Promise<string[]>((resolve, reject) => {
        const texts: string[] = [];
        client.on('error', reject);
        client.on('message', (data: Buffer, isBinary) => {
          expect(isBinary).toBe(false);
          texts.push(data.toString('utf8'));
          if (texts.length === MESSAGES) resolve(texts);
        });
      }),
  );
  await Promise.all(clients.map((client) => new Promise((resolve) => client.once('open', resolve))));
  await vi.waitFor(() => expect(connections).toHaveLength(clients.length));
  // Connections arrive in any order: each server side is matched with its client by the client's port.
  const readers: Reader[] = clients.map((client, i) => {
    const port = (client as unknown as { _socket: Socket })._socket.localPort;
    const { socket, request } = connections.find((c) => c.request.socket.remotePort === port)!;
    const outbox = new Outbox(socket, DEFAULT_OUTBOX_LIMITS, (why) => {
      throw new Error(`dropped: ${why}`);
    });
    return { outbox, deflates: takesSharedDeflate(socket), wire: request.socket, texts: received[i]! };
  });
  expect(readers.map((reader) => reader.deflates)).toEqual([true, true, true, false, false]);

  const deflate = vi.spyOn(zlib, 'deflateRawSync');
  const first = eventsFrame(0);
  const second = eventsFrame(300);
  const sent = ['{"type":"hello"}', first, '{"type":"error"}', second];
  for (const frame of sent) for (const { outbox } of readers) outbox.send(frame);
  // Each shared frame compressed once, not once per connection that takes it compressed.
  expect(deflate).toHaveBeenCalledTimes(2);

  const expected = sent.map((frame) => frame.toString());
  for (const { texts } of readers) expect(await texts).toEqual(expected);
  const wireBytes = readers.map(({ wire }) => wire.bytesWritten);
  const plainBytes = expected.reduce((sum, text) => sum + Buffer.byteLength(text), 0);
  for (const [i, { deflates }] of readers.entries()) {
    if (deflates) expect(wireBytes[i]).toBeLessThan(plainBytes / 4);
    else expect(wireBytes[i]).toBeGreaterThan(plainBytes);
  }
  for (const { outbox } of readers) outbox.close();
  for (const client of clients) client.close();
});

it('falls back to ws.send, uncompressed and in order, when ws has no sender to write through or it is busy', () => {
  const text = eventsFrame(0);
  for (const sender of [null, { _state: 1, sendFrame: vi.fn() }, { _state: 0 }]) {
    const sent: unknown[][] = [];
    const socket = { _sender: sender, send: (...args: unknown[]) => sent.push(args) } as unknown as WebSocket;
    const done = () => {};
    expect(sendShared(socket, text, true, done)).toBe(text.length);
    expect(sent).toEqual([[text, { binary: false, compress: false }, done]]);
    if (sender && 'sendFrame' in sender) expect(sender.sendFrame).not.toHaveBeenCalled();
  }
});

it('[W5] a binary task frame goes out as a binary message, compressed once for those who negotiated it, in order among text ones', async () => {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: SHARED_DEFLATE_OPTIONS });
  await new Promise((resolve) => server!.once('listening', resolve));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const connections: { socket: WebSocket; request: IncomingMessage }[] = [];
  server.on('connection', (socket, request) => connections.push({ socket, request }));
  const clients = [true, false].map((perMessageDeflate) => new WebSocket(url, { perMessageDeflate }));
  const received = clients.map(
    (client) =>
      new Promise<{ isBinary: boolean; data: Buffer }[]>((resolve, reject) => {
        const messages: { isBinary: boolean; data: Buffer }[] = [];
        client.on('error', reject);
        client.on('message', (data: Buffer, isBinary) => {
          messages.push({ isBinary, data });
          if (messages.length === 3) resolve(messages);
        });
      }),
  );
  await Promise.all(clients.map((client) => new Promise((resolve) => client.once('open', resolve))));
  await vi.waitFor(() => expect(connections).toHaveLength(clients.length));
  const outboxes = clients.map((client) => {
    const port = (client as unknown as { _socket: Socket })._socket.localPort;
    const { socket, request } = connections.find((c) => c.request.socket.remotePort === port)!;
    return {
      outbox: new Outbox(socket, DEFAULT_OUTBOX_LIMITS, (why) => {
        throw new Error(`dropped: ${why}`);
      }),
      wire: request.socket,
    };
  });
  const events = Array.from({ length: 300 }, (_, i) => ({
    type: 'task:done' as const,
    task: i,
    worker: `worker-${(i % 2) + 1}`,
    run: 'run-1',
    t: i / 10,
    seq: 1 + i,
  }));
  const counters = { run: 'run-1', sent: 300, received: {}, done: {}, collected: 0, lost: 0 };
  const bytes = encodeTaskFrame({ type: 'events', events, dropped: 0, counters })!;
  const binary = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const deflate = vi.spyOn(zlib, 'deflateRawSync');
  for (const { outbox } of outboxes) {
    outbox.send('{"type":"hello"}');
    outbox.sendBinary(binary);
    outbox.send('{"type":"error"}');
  }
  expect(deflate).toHaveBeenCalledTimes(1);
  for (const [i, messages] of received.entries()) {
    const got = await messages;
    expect(got.map((message) => message.isBinary)).toEqual([false, true, false]);
    expect(Buffer.compare(got[1]!.data, binary)).toBe(0);
    const decoded = decodeTaskFrame(got[1]!.data);
    expect(decoded.ok && decoded.value.tasks.count).toBe(300);
    // Compressed for the client that negotiated it: far fewer bytes on the wire than the frame.
    if (i === 0) expect(outboxes[0]!.wire.bytesWritten).toBeLessThan(binary.length / 3);
    else expect(outboxes[1]!.wire.bytesWritten).toBeGreaterThan(binary.length);
  }
  for (const { outbox } of outboxes) outbox.close();
  for (const client of clients) client.close();
});
