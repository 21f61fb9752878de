/**
 * Experiments behind moving a node of a running graph to another transport (issue 11: "move it to another
 * transport ... while messages flow"; docs/zmq-patterns.md, "Moving a node to another transport"). What a move is
 * made of on real sockets: the binder binds the new endpoint, the connecter connect()s it, then disconnect()s the
 * old one, and the binder unbind()s the old one once nobody uses it. What happens to messages queued on the old
 * connection, what the monitors say, and whether an inproc name can be unbound and bound again.
 * zeromq.js 6.8.0, libzmq 4.3.5. Every wait is for a message or a monitor event, bounded; a "nothing" is checked
 * over a window after the messages that would have come first, so a slow machine cannot make it fail.
 */
import { afterEach, describe, expect, it } from 'vitest';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import * as zmq from 'zeromq';

const opened: zmq.Socket[] = [];
const files: string[] = [];
afterEach(() => {
  for (const socket of opened.splice(0)) if (!socket.closed) socket.close();
  for (const file of files.splice(0)) fs.rmSync(file, { force: true });
});

function open<S extends zmq.Socket>(socket: S): S {
  socket.linger = 0;
  opened.push(socket);
  return socket;
}

function ipcPath(): string {
  const file = path.join(os.tmpdir(), `zpg-move-${process.pid}-${files.length}.ipc`);
  files.push(file);
  return `ipc://${file}`;
}

/** Every monitor event of `socket`, as `type address`, from now on. */
function recordEvents(socket: zmq.Socket): string[] {
  const seen: string[] = [];
  const types: zmq.EventType[] = ['handshake', 'disconnect', 'close', 'connect', 'accept', 'bind', 'unbind' as never];
  for (const type of types) {
    try {
      socket.events.on(type, (event: object) =>
        seen.push(`${type} ${'address' in event ? String(event.address) : ''}`),
      );
    } catch {
      // an event type this zeromq.js does not know
    }
  }
  return seen;
}

/** Resolves once `predicate` holds, checked every 10 ms; bounded. */
async function until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The next message within `timeoutMs`, or null. */
async function receiveWithin(socket: zmq.Readable & zmq.Socket, timeoutMs: number): Promise<string | null> {
  socket.receiveTimeout = timeoutMs;
  try {
    const frames = await socket.receive();
    return frames.at(-1)!.toString();
  } catch (error) {
    if ((error as { code?: string }).code === 'EAGAIN') return null;
    throw error;
  } finally {
    if (!socket.closed) socket.receiveTimeout = -1;
  }
}

describe('moving a connection to another transport (zeromq.js 6.8.0, libzmq 4.3.5)', () => {
  it('a SUB that connects the new endpoint and disconnects the old loses what was queued on the old connection, then receives on the new one once its subscription arrived', async () => {
    const pub = open(new zmq.Publisher());
    const sub = open(new zmq.Subscriber());
    const pubEvents = recordEvents(pub);
    const subEvents = recordEvents(sub);
    await pub.bind('tcp://127.0.0.1:*');
    const tcp = pub.lastEndpoint!;
    sub.subscribe('');
    sub.connect(tcp);
    // Slow joiner: publish until the subscription is in (the first copy arrives), then count from there.
    let warm: string | null = null;
    for (let i = 0; warm === null && i < 500; i++) {
      await pub.send(`warm ${i}`);
      warm = await receiveWithin(sub, 20);
    }
    expect(warm).not.toBeNull();
    while ((await receiveWithin(sub, 50)) !== null); // whatever warm-up copies are still on the way
    // Five messages queued towards the SUB on the tcp connection, not read.
    for (let i = 0; i < 5; i++) await pub.send(`old ${i}`);
    await until(() => subEvents.some((e) => e.startsWith('handshake')), 'the sub handshake');
    // Give them time to reach the SUB's side of the pipe (a window: they can only be there earlier).
    await new Promise((resolve) => setTimeout(resolve, 200));
    const ipc = ipcPath();
    await pub.bind(ipc);
    sub.connect(ipc);
    sub.disconnect(tcp);
    // The subscription travels again on the new pipe: publish until a copy arrives there.
    const got: string[] = [];
    for (let i = 0; got.length === 0 && i < 500; i++) {
      await pub.send(`new ${i}`);
      const body = await receiveWithin(sub, 20);
      if (body !== null) got.push(body);
    }
    for (let body = await receiveWithin(sub, 200); body !== null; body = await receiveWithin(sub, 200)) got.push(body);
    // Nothing queued on the old connection is ever read: the pipe's queue went with the disconnect.
    expect(got.filter((body) => body.startsWith('old'))).toEqual([]);
    expect(got.length).toBeGreaterThan(0);
    expect(got.every((body) => body.startsWith('new'))).toBe(true);
    // The disconnect()ing side reports nothing on its own monitor for that endpoint; the binder sees the peer go
    // (once the SUB processed its commands: its receives above).
    await until(() => pubEvents.some((e) => e === `disconnect ${tcp}`), 'the publisher sees the tcp peer leave');
    expect(subEvents.filter((e) => e.startsWith('disconnect'))).toEqual([]);
    expect(subEvents.filter((e) => e.startsWith('handshake'))).toEqual([`handshake ${tcp}`, `handshake ${ipc}`]);
  });

  it('a PULL moved from tcp to ipc: its disconnect() acts once it next processes commands (a receive), then the bound PUSH deals every message to the new connection', async () => {
    const push = open(new zmq.Push());
    const pull = open(new zmq.Pull());
    const pushEvents = recordEvents(push);
    await push.bind('tcp://127.0.0.1:*');
    const tcp = push.lastEndpoint!;
    pull.connect(tcp);
    await push.send('a');
    expect(await receiveWithin(pull, 5000)).toBe('a');
    const ipc = ipcPath();
    await push.bind(ipc);
    pull.connect(ipc);
    pull.disconnect(tcp);
    // disconnect() acts when the socket next processes its commands: an idle PULL (no receive pending) keeps the
    // tcp connection open, and the PUSH sees nothing.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(pushEvents).not.toContain(`disconnect ${tcp}`);
    // A receive on it (as a role loop always has pending) lets it act: the PUSH sees the tcp peer leave.
    const first = receiveWithin(pull, 5000);
    await until(() => pushEvents.includes(`disconnect ${tcp}`), 'the push sees the tcp peer leave');
    // The one live pipe is the ipc one: every message goes there.
    for (const body of ['b', 'c', 'd']) await push.send(body);
    const got = [await first, await receiveWithin(pull, 5000), await receiveWithin(pull, 5000)];
    expect(got).toEqual(['b', 'c', 'd']);
  });

  it('unbind() drops the peers that came through that endpoint and keeps the others; the ipc file stays on disk', async () => {
    const push = open(new zmq.Push());
    const pushEvents = recordEvents(push);
    await push.bind('tcp://127.0.0.1:*');
    const tcp = push.lastEndpoint!;
    const ipc = ipcPath();
    await push.bind(ipc);
    const overTcp = open(new zmq.Pull());
    const overIpc = open(new zmq.Pull());
    overTcp.connect(tcp);
    overIpc.connect(ipc);
    await until(() => pushEvents.filter((e) => e.startsWith('handshake')).length === 2, 'two handshakes');
    await push.unbind(tcp);
    // The listener closes ('close' on the bound endpoint); the peer that came through it is dropped from the
    // rotation without a 'disconnect' on the binder's monitor: a run must count that peer gone itself.
    await until(() => pushEvents.includes(`close ${tcp}`), 'the tcp listener closed by the unbind');
    for (const body of ['x', 'y']) await push.send(body);
    expect([await receiveWithin(overIpc, 5000), await receiveWithin(overIpc, 5000)]).toEqual(['x', 'y']);
    expect(await receiveWithin(overTcp, 300)).toBeNull();
    expect(pushEvents).not.toContain(`disconnect ${tcp}`);
    await push.unbind(ipc);
    expect(fs.existsSync(ipc.slice('ipc://'.length))).toBe(true);
    // unbind of an endpoint no longer bound rejects ENOENT (a run must not unbind twice).
    await expect(push.unbind(ipc)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('an inproc name can be unbound and bound again; disconnect() of an inproc endpoint ends that pipe', async () => {
    const name = `inproc://zpg-move-${process.pid}`;
    const push = open(new zmq.Push());
    await push.bind(name);
    const pull = open(new zmq.Pull());
    pull.connect(name);
    await push.send('1');
    expect(await receiveWithin(pull, 5000)).toBe('1');
    pull.disconnect(name);
    await push.unbind(name);
    await push.bind(name); // no EADDRINUSE: the name is free again
    pull.connect(name);
    await push.send('2');
    expect(await receiveWithin(pull, 5000)).toBe('2');
  });

  it('while an asynchronous bind() or unbind() is under way, a send on that socket throws EBUSY; unbindSync() binds (zeromq.js wires it to bindSync)', async () => {
    const push = open(new zmq.Push());
    await push.bind('tcp://127.0.0.1:*');
    const tcp = push.lastEndpoint!;
    const binding = push.bind(ipcPath());
    expect(() => push.send('x')).toThrow(expect.objectContaining({ code: 'EBUSY' }));
    await binding;
    const unbinding = push.unbind(tcp);
    expect(() => push.send('x')).toThrow(expect.objectContaining({ code: 'EBUSY' }));
    await unbinding;
    // unbindSync of a bound tcp endpoint: a second bind of the same port, refused as one.
    await push.bind('tcp://127.0.0.1:*');
    const again = push.lastEndpoint!;
    expect(() => push.unbindSync(again)).toThrow(expect.objectContaining({ code: 'EADDRINUSE' }));
    // bindSync holds the event loop instead: no window where a send would throw.
    push.bindSync(ipcPath());
    push.sendTimeout = 0;
    await expect(push.send('x')).rejects.toMatchObject({ code: 'EAGAIN' }); // no peer: not EBUSY
  });

  it('a pending receive() whose wake-up a socket call took sleeps through a stream; with a receive timeout it takes the message when the timer fires', async () => {
    /** A PULL with a receive pending when a message comes and a socket call takes its wake-up: what it gives. */
    const afterLostWakeUp = async (receiveTimeoutMs: number, windowMs: number) => {
      const push = open(new zmq.Push());
      const pull = open(new zmq.Pull());
      await push.bind('tcp://127.0.0.1:*');
      pull.connect(push.lastEndpoint!);
      await push.send('warm');
      expect(await receiveWithin(pull, 5000)).toBe('warm');
      pull.receiveTimeout = receiveTimeoutMs;
      const pending = pull.receive().then((frames) => frames.at(-1)!.toString());
      await push.send('x');
      // A call that processes libzmq's commands (reading ZMQ_EVENTS here; zmq_bind, zmq_connect, zmq_unbind and
      // disconnect's zmq_term_endpoint do too) takes the descriptor's signal before the event loop polls it.
      // Synchronous, so the loop never sees it: once readable, the message is in the pipe and the signal gone.
      const deadline = Date.now() + 10_000;
      while (!pull.readable) if (Date.now() > deadline) throw new Error('the message never arrived');
      // A stream goes past it: a pipe already marked readable signals nothing for the messages behind.
      for (let i = 0; i < 50; i++) await push.send(`stream ${i}`);
      return await Promise.race([pending, new Promise<null>((resolve) => setTimeout(() => resolve(null), windowMs))]);
    };
    // No timeout: a second after the 51 messages it has not woken (a sleeper wakes at the socket's next command).
    expect(await afterLostWakeUp(-1, 1000)).toBeNull();
    // A 100 ms receive timeout: when it fires zeromq.js reads the socket, finds the message, and resolves with it.
    expect(await afterLostWakeUp(100, 5000)).toBe('x');
  });

  it('disconnect() of an endpoint the socket never connected throws ENOENT synchronously', () => {
    const pull = open(new zmq.Pull());
    expect(() => pull.disconnect('tcp://127.0.0.1:1')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});
