/**
 * Experiments behind adding a node to a running graph when the node it links to only connects (issue 11: "add or
 * remove a node ... while messages flow"; docs/zmq-patterns.md, "Adding a node while messages flow"): the new node
 * binds an endpoint of its own, and the running socket connect()s it, in the middle of its traffic. Does the running
 * socket take the new peer into its rotation at once, and in what order? zeromq.js 6.8.0, libzmq 4.3.5. Every wait
 * is for a message, bounded.
 */
import { describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import { socketsClosedAfterEachTest } from '../../test/zmq-sockets.ts';

/** Every socket a test opens, closed after it. */
const open = socketsClosedAfterEachTest();

/** Answers every request with its own name, and records what it got, until closed. */
function serve(rep: zmq.Reply, name: string, got: string[]): void {
  void (async () => {
    for (;;) {
      let frames: Buffer[];
      try {
        frames = await rep.receive();
      } catch {
        return; // closed
      }
      got.push(frames[0]!.toString());
      await rep.send(name).catch(() => {});
    }
  })();
}

/** One round trip, bounded: a REQ that waits longer than this has lost its request. */
async function roundTrip(req: zmq.Request, body: string): Promise<string> {
  req.receiveTimeout = 5000;
  await req.send(body);
  const [reply] = await req.receive();
  return reply!.toString();
}

describe('a running socket connects to a node added while messages flow (zeromq.js 6.8.0, libzmq 4.3.5)', () => {
  it('a REQ that connects a fourth REP between two round trips deals its next requests over all four, the new one included', async () => {
    const req = open(new zmq.Request());
    const got: string[][] = [[], [], [], []];
    const reps = [0, 1, 2].map(() => open(new zmq.Reply()));
    for (const [i, rep] of reps.entries()) {
      await rep.bind('tcp://127.0.0.1:*');
      serve(rep, `rep-${i}`, got[i]!);
      req.connect(rep.lastEndpoint!);
    }
    const before: string[] = [];
    for (let i = 0; i < 12; i++) before.push(await roundTrip(req, `m${i}`));
    expect(before.filter((name) => name === 'rep-0')).toHaveLength(4);
    // Between two round trips (the REQ waits for nothing): a new REP binds a fresh endpoint, the REQ connects it.
    const added = open(new zmq.Reply());
    await added.bind('tcp://127.0.0.1:*');
    serve(added, 'rep-3', got[3]!);
    req.connect(added.lastEndpoint!);
    const after: string[] = [];
    for (let i = 12; i < 32; i++) after.push(await roundTrip(req, `m${i}`));
    // The pipe exists from connect() (immediate is off): it joins the rotation at once, and the rotation stays
    // strict: 20 requests, 5 to each of the four.
    for (const name of ['rep-0', 'rep-1', 'rep-2', 'rep-3'])
      expect(
        after.filter((reply) => reply === name),
        name,
      ).toHaveLength(5);
    // The new REP's first request is among the next four: it never waits for a full rotation of the old ones.
    expect(after.slice(0, 4)).toContain('rep-3');
  });

  it('a PUSH that connects a new PULL while it sends deals it its round-robin share from then on', async () => {
    const push = open(new zmq.Push());
    const pulls = [open(new zmq.Pull()), open(new zmq.Pull())];
    await pulls[0]!.bind('tcp://127.0.0.1:*');
    push.connect(pulls[0]!.lastEndpoint!);
    for (let i = 0; i < 5; i++) await push.send(`t${i}`);
    await pulls[1]!.bind('tcp://127.0.0.1:*');
    push.connect(pulls[1]!.lastEndpoint!);
    for (let i = 5; i < 25; i++) await push.send(`t${i}`);
    const take = async (pull: zmq.Pull, count: number) => {
      pull.receiveTimeout = 5000;
      const bodies: string[] = [];
      for (let i = 0; i < count; i++) bodies.push((await pull.receive())[0]!.toString());
      return bodies;
    };
    // The first five went to the only peer; the next twenty alternate (the new pipe queued its share until its
    // handshake, as a REQ's does).
    const second = await take(pulls[1]!, 10);
    const first = await take(pulls[0]!, 15);
    expect(first.slice(0, 5)).toEqual(['t0', 't1', 't2', 't3', 't4']);
    expect(second).toHaveLength(10);
    expect([...first, ...second].sort()).toEqual(Array.from({ length: 25 }, (_, i) => `t${i}`).sort());
  });
});
