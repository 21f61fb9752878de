/**
 * Experiments behind killing and hanging a node of a running graph (issue 11: "kill, hang or resume a process node
 * ... while messages flow"; docs/zmq-patterns.md, "Killing and hanging a node"). What a peer sees when the socket
 * at the other end dies abruptly (closed with linger 0, what a killed program's sockets do from the network's
 * point of view): a REQ whose REP dies holding its request, a REQ whose REP dies between requests, a bound PUSH
 * whose connected PULL dies, a connecting PUSH whose bound PULL dies. zeromq.js 6.8.0, libzmq 4.3.5, loopback tcp.
 * Every wait is for a monitor event or a message, bounded; a "never" is checked over a window after the event
 * that would have made it happen, so a slow machine can only make such a check pass late, never fail.
 */
import { describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import { socketsClosedAfterEachTest } from '../../test/zmq-sockets.ts';

/** Every socket a test opens, closed after it. */
const open = socketsClosedAfterEachTest();

/** Resolves with the next `type` event of a socket's monitor (attach before it can happen); bounded. */
function nextEvent(socket: zmq.Socket, type: zmq.EventType, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} within ${timeoutMs} ms`)), timeoutMs);
    socket.events.on(type, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** `count` handshakes on a socket's monitor (attach before connecting); bounded. */
function handshakes(socket: zmq.Socket, count: number, timeoutMs = 10_000): Promise<void> {
  let seen = 0;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${seen} of ${count} handshakes in ${timeoutMs} ms`)), timeoutMs);
    socket.events.on('handshake', () => {
      if (++seen === count) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
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

/** Three REP servers bound on loopback tcp and a REQ connected to them in order, every handshake done. */
async function reqToThreeRep(): Promise<{ req: zmq.Request; reps: zmq.Reply[] }> {
  const reps = [open(new zmq.Reply()), open(new zmq.Reply()), open(new zmq.Reply())];
  for (const rep of reps) await rep.bind('tcp://127.0.0.1:*');
  const req = open(new zmq.Request());
  const joined = handshakes(req, 3);
  for (const rep of reps) req.connect(rep.lastEndpoint!);
  await joined;
  return { req, reps };
}

/** One round trip served by `rep` (which must be the one the REQ's rotation picks). */
async function roundTrip(req: zmq.Request, rep: zmq.Reply, body: string): Promise<void> {
  await req.send(body);
  const [request] = await rep.receive();
  expect(request!.toString()).toBe(body);
  await rep.send(`re: ${body}`);
  expect((await req.receive())[0]!.toString()).toBe(`re: ${body}`);
}

describe('a node killed under its peers (docs/zmq-patterns.md)', () => {
  it('a REQ whose REP dies holding its request never gets a reply, cannot send again (EFSM), and its other REPs get nothing more', async () => {
    const { req, reps } = await reqToThreeRep();
    const [first, second, third] = reps as [zmq.Reply, zmq.Reply, zmq.Reply];
    await roundTrip(req, first, 'r0');
    // The second request goes to the second REP, which dies with it in hand.
    await req.send('r1');
    expect((await second.receive())[0]!.toString()).toBe('r1');
    const gone = nextEvent(req, 'disconnect');
    second.close();
    await gone;
    // No reply comes (the window starts once the REQ has seen the REP go); a second send is refused.
    expect(await receiveWithin(req, 300)).toBeNull();
    expect(req.writable).toBe(false);
    req.sendTimeout = 0;
    await expect(req.send('r2')).rejects.toMatchObject({ code: 'EFSM' });
    expect(await receiveWithin(first, 100)).toBeNull();
    expect(await receiveWithin(third, 100)).toBeNull();
  });

  it("a REQ whose REP died between requests parks the request of that REP's turn on its dead pipe, and is stuck there", async () => {
    const { req, reps } = await reqToThreeRep();
    const [first, second, third] = reps as [zmq.Reply, zmq.Reply, zmq.Reply];
    await roundTrip(req, first, 'r0');
    const address = second.lastEndpoint!;
    const gone = nextEvent(req, 'disconnect');
    second.close();
    await gone;
    // The rotation still counts the dead REP (a connecting socket keeps its pipe, libzmq's default immediate=0):
    // the next request waits there for it, and neither live REP ever sees it.
    await req.send('r1');
    expect(await receiveWithin(third, 300)).toBeNull();
    expect(await receiveWithin(first, 100)).toBeNull();
    expect(await receiveWithin(req, 100)).toBeNull();
    // A REP bound again at the dead one's address gets the parked request: it was waiting in the REQ's pipe.
    const reborn = open(new zmq.Reply());
    await reborn.bind(address);
    expect((await reborn.receive())[0]!.toString()).toBe('r1');
  });

  it('a bound PUSH whose connected PULL dies loses what was queued for it and deals the rest to the others', async () => {
    const push = open(new zmq.Push());
    await push.bind('tcp://127.0.0.1:*');
    const joined = handshakes(push, 3);
    const pulls = [open(new zmq.Pull()), open(new zmq.Pull()), open(new zmq.Pull())];
    for (const pull of pulls) pull.connect(push.lastEndpoint!);
    await joined;
    const [first, doomed, third] = pulls as [zmq.Pull, zmq.Pull, zmq.Pull];
    for (let i = 0; i < 30; i++) await push.send(`a${i}`);
    // The doomed PULL takes one task, then dies with the rest of its share queued.
    expect((await doomed.receive())[0]!.toString()).toMatch(/^a\d+$/);
    const gone = nextEvent(push, 'disconnect');
    doomed.close();
    await gone;
    for (let i = 0; i < 30; i++) await push.send(`b${i}`);
    // Read until the 50 expected have come (bounded), then make sure nothing more follows: a quiet window as the
    // end of the stream would stop early on a loaded machine, where a message can take longer than the window.
    const all: string[] = [];
    const deadline = Date.now() + 15_000;
    while (all.length < 50 && Date.now() < deadline) {
      for (const pull of [first, third]) {
        const body = await receiveWithin(pull, 50);
        if (body !== null) all.push(body);
      }
    }
    expect(await receiveWithin(first, 200)).toBeNull();
    expect(await receiveWithin(third, 200)).toBeNull();
    // Their shares of the first 30 (10 each), and every one of the 30 sent after the death: the dead one's 10 of
    // the first batch are gone with it, and nothing after it was dealt to it.
    expect(all.filter((body) => body.startsWith('a'))).toHaveLength(20);
    expect(all.filter((body) => body.startsWith('b'))).toHaveLength(30);
  });

  it('a connecting PUSH whose bound PULL dies keeps dealing to its dead pipe: those messages wait there', async () => {
    const pulls = [open(new zmq.Pull()), open(new zmq.Pull())];
    for (const pull of pulls) await pull.bind('tcp://127.0.0.1:*');
    const push = open(new zmq.Push());
    const joined = handshakes(push, 2);
    for (const pull of pulls) push.connect(pull.lastEndpoint!);
    await joined;
    const [live, doomed] = pulls as [zmq.Pull, zmq.Pull];
    const address = doomed.lastEndpoint!;
    const gone = nextEvent(push, 'disconnect');
    doomed.close();
    await gone;
    for (let i = 0; i < 20; i++) await push.send(`m${i}`);
    const got: string[] = [];
    const deadline = Date.now() + 15_000;
    while (got.length < 10 && Date.now() < deadline) {
      const body = await receiveWithin(live, 100);
      if (body !== null) got.push(body);
    }
    // Half went to the live PULL, and no more; the other half waits in the pipe to the dead one, and reaches it if
    // it comes back.
    expect(got).toHaveLength(10);
    expect(await receiveWithin(live, 300)).toBeNull();
    const reborn = open(new zmq.Pull());
    await reborn.bind(address);
    const parked: string[] = [];
    while (parked.length < 10) parked.push((await reborn.receive())[0]!.toString());
    expect([...got, ...parked].sort()).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`).sort());
  });
});
