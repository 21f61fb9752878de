/**
 * The graph engine on real sockets: each pattern of the series run through GraphRun, asserted from the events it
 * produced (as the page and the recorder would see them). The ZeroMQ facts behind each assertion are in
 * patterns.test.ts and docs/zmq-patterns.md. No test depends on the machine's speed: where timing decides what
 * ZeroMQ does (the slow joiner, an HWM), the assertions are the structural guarantees that hold at any speed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GraphError, GraphRun } from './graph-run.ts';
import { IpcClaims } from '../pipeline/endpoints.ts';
import { CodedError } from '../errors.ts';
import type { GraphSpec, PlaygroundEvent } from '../../shared/protocol/index.ts';
import { checkBooks, graphRunHarness, of, receivedBy } from '../../test/graph-run-harness.ts';

// These tests wait through runToEnd below, with its own bound; the harness's until/ended are not used here.
const runs = graphRunHarness({ ownerPrefix: 'gt', untilTimeoutMs: 20_000, endTimeoutMs: 20_000 });
const start = runs.start;

afterEach(() => runs.cleanup());

/** Runs a graph to its end (bounded) and checks the books add up ([G3]) and that one graph:ended ends it ([G1]). */
async function runToEnd(graph: GraphSpec, options: { allowIncompatible?: boolean; timeoutMs?: number } = {}) {
  const { run, events } = await start(graph, options);
  const summary = await Promise.race([
    run.done,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('the run did not end')), options.timeoutMs ?? 20_000),
    ),
  ]);
  checkBooks(summary);
  const ended = of(events, 'graph:ended');
  expect(ended).toHaveLength(1);
  expect(events.at(-1)!.type).toBe('graph:ended');
  return { run, events, summary, ended: ended[0]! };
}

const sentBy = (events: PlaygroundEvent[], node: string) => of(events, 'message:sent').filter((e) => e.node === node);

describe('REQ/REP through the engine', () => {
  it('[G2] the series\' part 1: strict alternation, each request and reply attributed both ways, "q" stops the server', async () => {
    const { events, summary, ended } = await runToEnd({
      title: 'adding server',
      nodes: [
        {
          id: 'client',
          socket: 'REQ',
          role: {
            kind: 'request',
            messages: { kind: 'template', template: '{int:1-1000}:{int:1-1000}', count: 50, seed: 7 },
            last: 'q',
          },
        },
        { id: 'server', socket: 'REP', role: { kind: 'reply', transform: 'sum' }, stop: { onMessage: 'q' } },
      ],
      links: [{ from: 'client', to: 'server', bind: 'to', transport: 'tcp' }],
    });
    expect(ended.reason).toBe('completed');
    // The client's own events alternate: sent, received, sent, received ... then the unanswered "q".
    const clientTrail = events
      .filter((e) => (e.type === 'message:sent' || e.type === 'message:received') && e.node === 'client')
      .map((e) => e.type);
    expect(clientTrail).toEqual([
      ...Array.from({ length: 50 }, () => ['message:sent', 'message:received']).flat(),
      'message:sent',
    ]);
    const serverTrail = events
      .filter((e) => (e.type === 'message:sent' || e.type === 'message:received') && e.node === 'server')
      .map((e) => e.type);
    expect(serverTrail).toEqual([
      ...Array.from({ length: 50 }, () => ['message:received', 'message:sent']).flat(),
      'message:received',
    ]);
    // Every request is attributed where it arrived, every reply answers it and goes back to the client.
    const requests = sentBy(events, 'client');
    const atServer = receivedBy(events, 'server');
    const replies = sentBy(events, 'server');
    const atClient = receivedBy(events, 'client');
    for (let i = 0; i < 50; i++) {
      expect(atServer[i]).toMatchObject({ message: requests[i]!.message, from: 'client', body: requests[i]!.body });
      const [a, b] = requests[i]!.body.split(':').map(Number);
      expect(replies[i]).toMatchObject({ cause: requests[i]!.message, to: 'client', body: String(a! + b!) });
      expect(atClient[i]).toMatchObject({ message: replies[i]!.message, from: 'server' });
    }
    expect(atServer.at(-1)).toMatchObject({ body: 'q', from: 'client' });
    expect(of(events, 'node:stopped')).toContainEqual(
      expect.objectContaining({ node: 'server', reason: 'stop-message' }),
    );
    expect(summary).toMatchObject({ sent: 101, copies: 101, delivered: 101, dropped: 0, inFlight: 0, refusals: 0 });
  });

  it('[G4] a REQ that sends again before its reply is refused with EFSM, and stops there', async () => {
    const { events, summary } = await runToEnd({
      title: 'eager client',
      nodes: [
        {
          id: 'client',
          socket: 'REQ',
          role: { kind: 'request', messages: { kind: 'list', items: ['a', 'b', 'c'] }, waitReply: false },
        },
        { id: 'server', socket: 'REP', role: { kind: 'reply', transform: 'echo' } },
      ],
      links: [{ from: 'client', to: 'server', bind: 'to', transport: 'ipc' }],
      drainMs: 300,
    });
    expect(sentBy(events, 'client').map((e) => e.body)).toEqual(['a']);
    expect(of(events, 'socket:refused')).toEqual([
      expect.objectContaining({ node: 'client', reason: 'efsm', code: 'EFSM' }),
    ]);
    expect(of(events, 'node:stopped')).toContainEqual(expect.objectContaining({ node: 'client', reason: 'error' }));
    // The server did answer "a"; the client never read it (a program stopped by the error would not either).
    expect(receivedBy(events, 'server').map((e) => e.body)).toEqual(['a']);
    expect(summary.refusals).toBe(1);
  });

  it("the series' part 3: one REQ connected to three REP spreads 100 requests 34/33/33, in connect order, over tcp, ipc and inproc", async () => {
    const { events, summary } = await runToEnd({
      title: 'cluster',
      nodes: [
        {
          id: 'client',
          socket: 'REQ',
          role: { kind: 'request', messages: { kind: 'template', template: 'mensaje {i}', count: 100 } },
        },
        { id: 's5000', socket: 'REP', role: { kind: 'reply', transform: 'echo' } },
        { id: 's6000', socket: 'REP', role: { kind: 'reply', transform: 'echo' } },
        { id: 's7000', socket: 'REP', role: { kind: 'reply', transform: 'echo' } },
      ],
      links: [
        { from: 'client', to: 's5000', bind: 'to', transport: 'tcp' },
        { from: 'client', to: 's6000', bind: 'to', transport: 'ipc' },
        { from: 'client', to: 's7000', bind: 'to', transport: 'inproc' },
      ],
      drainMs: 300,
    });
    const bodies = (node: string) => receivedBy(events, node).map((e) => e.body);
    const expected = (server: number) =>
      Array.from({ length: 100 }, (_, i) => i)
        .filter((i) => i % 3 === server)
        .map((i) => `mensaje ${i}`);
    expect(bodies('s5000')).toEqual(expected(0));
    expect(bodies('s6000')).toEqual(expected(1));
    expect(bodies('s7000')).toEqual(expected(2));
    expect(summary.nodes).toMatchObject({
      s5000: { received: 34 },
      s6000: { received: 33 },
      s7000: { received: 33 },
      client: { sent: 100, received: 100 },
    });
    expect(summary).toMatchObject({ delivered: 200, dropped: 0 });
  });
});

describe('PAIR through the engine', () => {
  it("[G4] the series' part 2: a second PAIR client is refused without a word; its message is dropped, the first is served", async () => {
    const { events, summary } = await runToEnd({
      title: 'echo pair',
      nodes: [
        { id: 'server', socket: 'PAIR', role: { kind: 'receive', replyBack: true } },
        {
          id: 'client-1',
          socket: 'PAIR',
          role: { kind: 'send', messages: { kind: 'template', template: 'mensaje {i}', count: 20 }, awaitEcho: true },
        },
        {
          id: 'client-2',
          socket: 'PAIR',
          role: { kind: 'send', messages: { kind: 'template', template: 'otro {i}', count: 3 }, awaitEcho: true },
          startAfter: 'client-1',
        },
      ],
      links: [
        { from: 'client-1', to: 'server', bind: 'to', transport: 'tcp' },
        { from: 'client-2', to: 'server', bind: 'to', transport: 'tcp' },
      ],
      drainMs: 500,
    });
    expect(of(events, 'socket:refused')).toEqual([
      expect.objectContaining({ node: 'server', peer: 'client-2', reason: 'pair-exclusive' }),
    ]);
    // client-2 sent its first message and waits for an echo that never comes ("blocks for ever").
    expect(sentBy(events, 'client-2').map((e) => e.body)).toEqual(['otro 0']);
    expect(receivedBy(events, 'client-2')).toEqual([]);
    expect(of(events, 'message:dropped')).toEqual([
      expect.objectContaining({ message: sentBy(events, 'client-2')[0]!.message, reason: 'refused', peer: 'server' }),
    ]);
    // The server never failed: it echoed all of client-1's messages, and only those.
    expect(receivedBy(events, 'server').map((e) => e.body)).toEqual(
      Array.from({ length: 20 }, (_, i) => `mensaje ${i}`),
    );
    expect(receivedBy(events, 'client-1')).toHaveLength(20);
    expect(receivedBy(events, 'server').every((e) => e.from === 'client-1')).toBe(true);
    expect(summary).toMatchObject({ delivered: 40, dropped: 1, refusals: 1 });
  });
});

describe('PUB/SUB through the engine', () => {
  const countries = 'holanda|brasil|alemania|portugal|argentina|italia|rusia|venezuela';

  it('the series\' part 4: one delivery per matching subscriber, "filtered by the publisher" for the others, the start lost to the slow joiner only', async () => {
    const { events, summary } = await runToEnd({
      title: 'narrator',
      nodes: [
        {
          id: 'narrator',
          socket: 'PUB',
          role: {
            kind: 'send',
            messages: {
              kind: 'template',
              template: `{pick:${countries}} {pick:gol|corner|falta}`,
              count: 80,
              seed: 2012,
            },
            intervalMs: 5,
          },
        },
        { id: 'fan-1', socket: 'SUB', role: { kind: 'receive' }, subscribe: ['argentina', 'venezuela'] },
        { id: 'fan-2', socket: 'SUB', role: { kind: 'receive' }, subscribe: ['brasil', 'alemania'] },
        { id: 'everything', socket: 'SUB', role: { kind: 'receive' }, subscribe: [''] },
        { id: 'nothing', socket: 'SUB', role: { kind: 'receive' } },
      ],
      links: ['fan-1', 'fan-2', 'everything', 'nothing'].map((sub) => ({
        from: 'narrator',
        to: sub,
        bind: 'from' as const,
        transport: 'tcp' as const,
      })),
      drainMs: 500,
    });
    const sent = sentBy(events, 'narrator');
    expect(sent).toHaveLength(80);
    const prefixes: Record<string, string[]> = {
      'fan-1': ['argentina', 'venezuela'],
      'fan-2': ['brasil', 'alemania'],
      everything: [''],
      nothing: [],
    };
    const drops = of(events, 'message:dropped');
    for (const [sub, wanted] of Object.entries(prefixes)) {
      const matching = sent.filter((m) => wanted.some((p) => m.body.startsWith(p)));
      const got = receivedBy(events, sub);
      // Only what matches, each at most once, in order, attributed to the narrator.
      expect(got.filter((e) => e.from !== 'narrator' || !wanted.some((p) => e.body.startsWith(p)))).toEqual([]);
      const ids = got.map((e) => e.message!);
      expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
      // Once its subscription was in, nothing matching was lost: what it got is every match from its first on.
      if (ids.length > 0) expect(ids).toEqual(matching.filter((m) => m.message >= ids[0]!).map((m) => m.message));
      // Every non-matching message is one "filtered" drop at the publisher for this subscriber.
      const filtered = drops.filter((d) => d.peer === sub && d.reason === 'filtered').map((d) => d.message);
      expect(filtered).toEqual(sent.filter((m) => !matching.includes(m)).map((m) => m.message));
      // The matching ones it missed were all before its first delivery: the slow joiner, nothing else.
      const missed = drops.filter((d) => d.peer === sub && d.reason !== 'filtered');
      for (const drop of missed) expect(drop).toMatchObject({ reason: 'not-subscribed', node: 'narrator' });
      expect(missed.length + got.length).toBe(matching.length);
    }
    expect(receivedBy(events, 'nothing')).toEqual([]);
    expect(receivedBy(events, 'everything').length).toBeGreaterThan(0);
    expect(summary.copies).toBe(80 * 4);
    expect(summary.droppedBy.hwm ?? 0).toBe(0);
  });

  it('a subscriber that joins late misses everything published before it connected', async () => {
    const { events } = await runToEnd({
      title: 'late joiner',
      nodes: [
        {
          id: 'pub',
          socket: 'PUB',
          role: { kind: 'send', messages: { kind: 'template', template: 'update {i}', count: 100 }, intervalMs: 10 },
        },
        { id: 'early', socket: 'SUB', role: { kind: 'receive' }, subscribe: [''] },
        // Starts once "early" has its first update, and a little later still: updates went out before it connected.
        {
          id: 'late',
          socket: 'SUB',
          role: { kind: 'receive' },
          subscribe: [''],
          startAfter: 'early',
          startDelayMs: 100,
        },
      ],
      links: [
        { from: 'pub', to: 'early', bind: 'from', transport: 'ipc' },
        { from: 'pub', to: 'late', bind: 'from', transport: 'ipc' },
      ],
      drainMs: 500,
    });
    const connectedAt = of(events, 'node:connecting').find((e) => e.node === 'late')!.seq;
    const before = sentBy(events, 'pub')
      .filter((e) => e.seq < connectedAt)
      .map((e) => e.message);
    expect(before.length).toBeGreaterThan(0);
    const lateDrops = of(events, 'message:dropped')
      .filter((d) => d.peer === 'late')
      .map((d) => ({ message: d.message, reason: d.reason }));
    for (const message of before) expect(lateDrops).toContainEqual({ message, reason: 'not-subscribed' });
    const lateGot = receivedBy(events, 'late').map((e) => e.message!);
    expect(lateGot.length).toBeGreaterThan(0);
    expect(Math.min(...lateGot)).toBeGreaterThan(Math.max(...before));
  });

  it('a PUB drops for a slow subscriber at its HWM and never waits; a PUSH in its place waits and loses nothing', async () => {
    const pub = await runToEnd({
      title: 'slow subscriber',
      nodes: [
        {
          id: 'pub',
          socket: 'PUB',
          sendHighWaterMark: 2,
          role: { kind: 'send', messages: { kind: 'template', template: 'm{i}', count: 40 }, waitForPeers: 1 },
        },
        { id: 'slow', socket: 'SUB', receiveHighWaterMark: 2, subscribe: [''], role: { kind: 'receive', workMs: 20 } },
      ],
      links: [{ from: 'pub', to: 'slow', bind: 'from', transport: 'inproc' }],
      drainMs: 300,
    });
    const got = receivedBy(pub.events, 'slow');
    expect(sentBy(pub.events, 'pub')).toHaveLength(40);
    expect(got.length).toBeLessThan(40);
    expect(pub.summary.droppedBy.hwm).toBeGreaterThan(0);
    // What it got came in order, each once; every other copy was dropped at the publisher (at the HWM, or before
    // the subscription was in), none lost anywhere else.
    const ids = got.map((e) => e.message!);
    expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
    expect(got.length + (pub.summary.droppedBy.hwm ?? 0) + (pub.summary.droppedBy['not-subscribed'] ?? 0)).toBe(40);
    expect(of(pub.events, 'message:dropped').every((d) => d.node === 'pub' && d.peer === 'slow')).toBe(true);

    const push = await runToEnd({
      title: 'slow worker',
      nodes: [
        {
          id: 'push',
          socket: 'PUSH',
          sendHighWaterMark: 2,
          role: { kind: 'send', messages: { kind: 'template', template: 'm{i}', count: 12 } },
        },
        { id: 'slow', socket: 'PULL', receiveHighWaterMark: 2, role: { kind: 'receive', workMs: 20 } },
      ],
      links: [{ from: 'push', to: 'slow', bind: 'from', transport: 'inproc' }],
      drainMs: 300,
    });
    expect(receivedBy(push.events, 'slow').map((e) => e.body)).toEqual(Array.from({ length: 12 }, (_, i) => `m${i}`));
    expect(push.summary).toMatchObject({ delivered: 12, dropped: 0 });
  });
});

describe('ROUTER, DEALER and the broker through the engine', () => {
  it('a ROUTER shows the identity frame it prepends: a routingId, or the 5 bytes libzmq made up', async () => {
    const { events, summary } = await runToEnd({
      title: 'router',
      nodes: [
        { id: 'server', socket: 'ROUTER', role: { kind: 'reply', transform: 'uppercase' } },
        {
          id: 'alice',
          socket: 'DEALER',
          routingId: 'alice',
          role: { kind: 'request', messages: { kind: 'list', items: ['hola', 'adios'] } },
        },
        { id: 'anonymous', socket: 'REQ', role: { kind: 'request', messages: { kind: 'list', items: ['hello'] } } },
      ],
      links: [
        { from: 'alice', to: 'server', bind: 'to', transport: 'tcp' },
        { from: 'anonymous', to: 'server', bind: 'to', transport: 'tcp' },
      ],
      drainMs: 300,
    });
    const atServer = receivedBy(events, 'server');
    expect(atServer.filter((e) => e.from === 'alice').map((e) => [e.identity, e.body])).toEqual([
      ['alice', 'hola'],
      ['alice', 'adios'],
    ]);
    const anonymous = atServer.find((e) => e.from === 'anonymous')!;
    expect(anonymous.identity).toMatch(/^0x00[0-9a-f]{8}$/);
    expect(receivedBy(events, 'alice').map((e) => e.body)).toEqual(['HOLA', 'ADIOS']);
    expect(receivedBy(events, 'anonymous').map((e) => [e.body, e.from])).toEqual([['HELLO', 'server']]);
    expect(sentBy(events, 'server').map((e) => e.to)).toEqual(expect.arrayContaining(['alice', 'alice', 'anonymous']));
    expect(summary).toMatchObject({ delivered: 6, dropped: 0 });
  });

  it('a ROUTER/DEALER broker passes every request to a REP worker and every reply back to the client that asked', async () => {
    const { events, summary } = await runToEnd({
      title: 'broker',
      nodes: [
        {
          id: 'client-a',
          socket: 'REQ',
          role: { kind: 'request', messages: { kind: 'template', template: 'a{i}', count: 6 } },
        },
        {
          id: 'client-b',
          socket: 'REQ',
          role: { kind: 'request', messages: { kind: 'template', template: 'b{i}', count: 6 } },
        },
        { id: 'frontend', socket: 'ROUTER', role: { kind: 'proxy', backend: 'backend' } },
        { id: 'backend', socket: 'DEALER', role: { kind: 'passive' } },
        { id: 'worker-1', socket: 'REP', role: { kind: 'reply', transform: 'uppercase' } },
        { id: 'worker-2', socket: 'REP', role: { kind: 'reply', transform: 'uppercase' } },
        { id: 'worker-3', socket: 'REP', role: { kind: 'reply', transform: 'uppercase' } },
      ],
      links: [
        { from: 'client-a', to: 'frontend', bind: 'to', transport: 'tcp' },
        { from: 'client-b', to: 'frontend', bind: 'to', transport: 'tcp' },
        // The backend connects to its workers, so each has a pipe from the start and the DEALER deals evenly.
        { from: 'backend', to: 'worker-1', bind: 'to', transport: 'tcp' },
        { from: 'backend', to: 'worker-2', bind: 'to', transport: 'ipc' },
        { from: 'backend', to: 'worker-3', bind: 'to', transport: 'inproc' },
      ],
      drainMs: 300,
    });
    expect(receivedBy(events, 'client-a').map((e) => e.body)).toEqual(Array.from({ length: 6 }, (_, i) => `A${i}`));
    expect(receivedBy(events, 'client-b').map((e) => e.body)).toEqual(Array.from({ length: 6 }, (_, i) => `B${i}`));
    expect(receivedBy(events, 'client-a').every((e) => e.from === 'frontend')).toBe(true);
    expect(['worker-1', 'worker-2', 'worker-3'].map((w) => receivedBy(events, w).length)).toEqual([4, 4, 4]);
    for (const w of ['worker-1', 'worker-2', 'worker-3'])
      expect(receivedBy(events, w).every((e) => e.from === 'backend')).toBe(true);
    // Each hop is a message: request at the frontend, on to a worker, the reply to the backend, back to the client.
    expect(summary).toMatchObject({ sent: 48, delivered: 48, dropped: 0 });
    const forwarded = sentBy(events, 'backend');
    expect(forwarded.every((e) => e.cause !== undefined)).toBe(true);
    expect(
      sentBy(events, 'frontend')
        .map((e) => e.to)
        .sort(),
    ).toEqual([...Array(6).fill('client-a'), ...Array(6).fill('client-b')]);
  });
});

describe('what ZeroMQ refuses, through the engine', () => {
  it('[G3][G4] a PUSH linked to a SUB over tcp is refused before any handshake; its message is dropped as refused', async () => {
    const { events, summary } = await runToEnd(
      {
        title: 'incompatible',
        nodes: [
          { id: 'push', socket: 'PUSH', role: { kind: 'send', messages: { kind: 'list', items: ['hi'] } } },
          { id: 'sub', socket: 'SUB', subscribe: [''], role: { kind: 'receive' } },
        ],
        links: [{ from: 'push', to: 'sub', bind: 'to', transport: 'tcp' }],
        drainMs: 300,
      },
      { allowIncompatible: true },
    );
    expect(of(events, 'socket:refused')).toEqual([
      expect.objectContaining({ node: 'push', peer: 'sub', reason: 'incompatible' }),
    ]);
    expect(of(events, 'socket:event').filter((e) => e.kind === 'handshake')).toEqual([]);
    expect(receivedBy(events, 'sub')).toEqual([]);
    expect(of(events, 'message:dropped')).toEqual([expect.objectContaining({ reason: 'refused' })]);
    expect(summary).toMatchObject({ sent: 1, delivered: 0, dropped: 1, refusals: 1 });
  });

  it('refuses an incompatible link over inproc before any socket exists (libzmq would not check it there)', () => {
    const graph: GraphSpec = {
      title: 'incompatible inproc',
      nodes: [
        { id: 'push', socket: 'PUSH', role: { kind: 'send', messages: { kind: 'list', items: ['hi'] } } },
        { id: 'sub', socket: 'SUB', role: { kind: 'receive' } },
      ],
      links: [{ from: 'push', to: 'sub', bind: 'to', transport: 'inproc' }],
    };
    const make = () =>
      new GraphRun({
        runId: 'r',
        scenario: 't',
        graph,
        policy: runs.policy(),
        claims: new IpcClaims(),
        owner: 'gx',
        emit: () => {},
        allowIncompatible: true,
      });
    expect(make).toThrow(GraphError);
    expect(make).toThrow(/over inproc libzmq would not even check/);
  });

  it('checks every endpoint as the pipeline does: loopback tcp only, ipc inside the runtime folder, no control characters', async () => {
    const graphWith = (address: string, transport: 'tcp' | 'ipc'): GraphSpec => ({
      title: 'endpoint',
      nodes: [
        { id: 'a', socket: 'PUSH', role: { kind: 'send', messages: { kind: 'list', items: ['x'] } } },
        { id: 'b', socket: 'PULL', role: { kind: 'receive' } },
      ],
      links: [{ from: 'a', to: 'b', bind: 'from', transport, address }],
    });
    for (const [address, transport] of [
      ['tcp://0.0.0.0:5555', 'tcp'],
      ['tcp://127.0.0.1:70000', 'tcp'],
      ['ipc:///etc/zmq-demo', 'ipc'],
      ['ipc:///tmp/x\u0000y', 'ipc'],
    ] as const) {
      const attempt = start(graphWith(address, transport));
      await expect(attempt, address).rejects.toBeInstanceOf(CodedError);
      await expect(attempt, address).rejects.toMatchObject({ code: 'PG_ERR_ENDPOINT' });
    }
  });
});
