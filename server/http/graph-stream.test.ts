/**
 * The graph playgrounds' WebSocket stream (issue 11), over a real ws client with visitors' session cookies: hello,
 * backlog and live events without polling, graph:updated when a run starts and ends, exact counters while message
 * events are sampled at a high rate, roles (a stranger is told nothing, a watcher reads), and commands other than
 * subscribe refused.
 */
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../app.ts';
import type { GraphSpec, GraphSummary, PlaygroundEvent } from '../../shared/protocol/index.ts';
import type { GraphPlaygroundInfo, GraphServerMessage } from '../../shared/protocol/graph-stream.ts';
import { Visitor, testPolicy } from '../../test/helpers.ts';
import { CLOSE_NOT_FOUND } from './stream.ts';

let app: FastifyInstance;
let policy: ReturnType<typeof testPolicy>;
let owner: Visitor;
let stranger: Visitor;
const sockets: WebSocket[] = [];

beforeEach(async () => {
  policy = testPolicy();
  app = await buildApp({ policy, staticDir: null, store: null });
  await app.ready();
  owner = new Visitor(app);
  stranger = new Visitor(app);
});
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  await app.close();
  policy.cleanup();
});

/** Every message a graph stream sent, decoded, and a bounded wait for one. */
class GraphProbe {
  readonly messages: GraphServerMessage[] = [];
  closeCode: number | null = null;
  #wake: (() => void)[] = [];

  attach(socket: WebSocket): void {
    socket.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()) as GraphServerMessage);
      for (const wake of this.#wake.splice(0)) wake();
    });
    socket.on('close', (code) => {
      this.closeCode = code;
      for (const wake of this.#wake.splice(0)) wake();
    });
  }

  events(): PlaygroundEvent[] {
    return this.messages.flatMap((m) => (m.type === 'events' ? m.events : []));
  }

  async until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`${what}: not within ${timeoutMs} ms; got ${this.messages.map((m) => m.type).join(', ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

async function open(visitor: Visitor, id: string): Promise<{ socket: WebSocket; probe: GraphProbe }> {
  const probe = new GraphProbe();
  const socket = await visitor.injectWS(`/api/graphs/${id}/stream`, { onInit: (ws) => probe.attach(ws) });
  sockets.push(socket);
  return { socket, probe };
}

async function create(visitor: Visitor, body: object): Promise<GraphPlaygroundInfo> {
  const response = await visitor.inject({ method: 'POST', url: '/api/graphs', payload: body });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<GraphPlaygroundInfo>();
}

async function startRun(visitor: Visitor, id: string): Promise<string> {
  const response = await visitor.inject({ method: 'POST', url: `/api/graphs/${id}/runs` });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<{ run: string }>().run;
}

const cluster: GraphSpec = {
  title: 'one REQ, three REP',
  nodes: [
    {
      id: 'client',
      socket: 'REQ',
      role: { kind: 'request', messages: { kind: 'template', template: 'mensaje {i}', count: 30 } },
    },
    { id: 'a', socket: 'REP', role: { kind: 'reply', transform: 'echo' } },
    { id: 'b', socket: 'REP', role: { kind: 'reply', transform: 'echo' } },
    { id: 'c', socket: 'REP', role: { kind: 'reply', transform: 'echo' } },
  ],
  links: [
    { from: 'client', to: 'a', bind: 'to', transport: 'tcp' },
    { from: 'client', to: 'b', bind: 'to', transport: 'ipc' },
    { from: 'client', to: 'c', bind: 'to', transport: 'inproc' },
  ],
  drainMs: 200,
};

const lastCounters = (probe: GraphProbe) => probe.messages.findLast((m) => m.type === 'events')!;
const endedSummary = (probe: GraphProbe): GraphSummary | undefined => {
  const ended = probe.events().find((e) => e.type === 'graph:ended');
  return ended?.type === 'graph:ended' ? ended.summary : undefined;
};

describe('the graph stream', () => {
  it('says hello, then streams a run live (no polling): started, every request and reply, ended, with exact counters', async () => {
    const info = await create(owner, { graph: cluster });
    const { socket, probe } = await open(owner, info.id);
    await probe.until(() => probe.messages.some((m) => m.type === 'hello'), 'hello');
    const hello = probe.messages[0]!;
    expect(hello).toMatchObject({ type: 'hello', graph: { id: info.id, kind: 'graph', activeRun: null } });
    socket.send(JSON.stringify({ type: 'subscribe', sinceSeq: 0 }));

    const run = await startRun(owner, info.id);
    await probe.until(() => endedSummary(probe) !== undefined, 'graph:ended');
    await probe.until(
      () =>
        probe.messages.some(
          (m) => m.type === 'graph:updated' && m.graph.activeRun === null && m.graph.lastRun?.summary,
        ),
      'graph:updated after the end',
    );
    expect(probe.messages.some((m) => m.type === 'graph:updated' && m.graph.activeRun === run)).toBe(true);

    const events = probe.events();
    expect(events[0]).toMatchObject({ type: 'graph:started', run });
    // seq strictly increasing, none repeated: live frames follow each other without gaps at this rate.
    expect(events.map((e) => e.seq)).toEqual(events.map((e) => e.seq).sort((x, y) => x - y));
    const received = events.filter((e) => e.type === 'message:received');
    // 30 requests and 30 replies, each attributed by its receiver: 10 requests to each REP.
    expect(received).toHaveLength(60);
    for (const server of ['a', 'b', 'c'])
      expect(received.filter((e) => e.node === server && e.from === 'client')).toHaveLength(10);
    expect(received.filter((e) => e.node === 'client')).toHaveLength(30);
    const counters = lastCounters(probe);
    expect(counters.type === 'events' && counters.counters).toMatchObject({
      run,
      sent: 60,
      received: 60,
      nodes: {
        client: { sent: 30, received: 30 },
        a: { received: 10, sent: 10 },
        b: { received: 10 },
        c: { received: 10 },
      },
    });
  });

  it('samples message events at a high rate while the counters stay exact', async () => {
    const flood: GraphSpec = {
      title: 'a fast publisher',
      nodes: [
        {
          id: 'pub',
          socket: 'PUB',
          role: { kind: 'send', messages: { kind: 'template', template: 'tick {n}', count: 20_000 }, waitForPeers: 1 },
        },
        { id: 'sub', socket: 'SUB', subscribe: [''], role: { kind: 'receive' } },
      ],
      links: [{ from: 'pub', to: 'sub', bind: 'from', transport: 'inproc' }],
      drainMs: 300,
    };
    const info = await create(owner, { graph: flood });
    const { socket, probe } = await open(owner, info.id);
    await probe.until(() => probe.messages.some((m) => m.type === 'hello'), 'hello');
    socket.send(JSON.stringify({ type: 'subscribe' }));
    await startRun(owner, info.id);
    await probe.until(() => endedSummary(probe) !== undefined, 'graph:ended', 30_000);

    const summary = endedSummary(probe)!;
    const frames = probe.messages.filter((m) => m.type === 'events');
    const dropped = frames.reduce((sum, m) => sum + (m.type === 'events' ? m.dropped : 0), 0);
    const shown = probe
      .events()
      .filter((e) => e.type === 'message:sent' || e.type === 'message:received' || e.type === 'message:dropped').length;
    expect(dropped, 'some message events are sampled out').toBeGreaterThan(0);
    // Every message event is either in a frame or counted as left out.
    expect(shown + dropped).toBe(summary.sent + summary.delivered + summary.dropped);
    const last = lastCounters(probe);
    expect(last.type === 'events' && last.counters.nodes.sub!.received).toBe(summary.nodes.sub!.received);
    expect(last.type === 'events' && last.counters.nodes.pub!.sent).toBe(20_000);
    expect(summary.nodes.sub!.received).toBeGreaterThan(0);
  });

  it('tells a stranger nothing (4404), lets a watcher read the backlog, and refuses every command but subscribe', async () => {
    const info = await create(owner, { graph: cluster });
    const strangers = await open(stranger, info.id);
    await strangers.probe.until(() => strangers.probe.closeCode !== null, 'the stranger closed');
    expect(strangers.probe.closeCode).toBe(CLOSE_NOT_FOUND);
    expect(strangers.probe.messages).toEqual([expect.objectContaining({ type: 'error', code: 'PG_ERR_NOT_FOUND' })]);

    const run = await startRun(owner, info.id);
    const links = (await owner.inject(`/api/graphs/${info.id}/links`)).json<{ watchToken: string }>();
    const watcher = new Visitor(app);
    const joined = await watcher.inject({
      method: 'POST',
      url: `/api/graphs/${info.id}/join`,
      payload: { token: links.watchToken },
    });
    expect(joined.json()).toMatchObject({ role: 'watcher' });
    const watching = await open(watcher, info.id);
    await watching.probe.until(() => watching.probe.messages.some((m) => m.type === 'hello'), 'hello');
    watching.socket.send(JSON.stringify({ type: 'run:stop' }));
    await watching.probe.until(() => watching.probe.messages.some((m) => m.type === 'error'), 'an error');
    expect(watching.probe.messages.find((m) => m.type === 'error')).toMatchObject({
      code: 'PG_ERR_UNKNOWN_COMMAND',
      command: 'run:stop',
    });
    watching.socket.send('{"type":"subscribe","sinceSeq":0}');
    await watching.probe.until(() => endedSummary(watching.probe) !== undefined, 'the watcher sees the end');
    expect(watching.probe.events()[0]).toMatchObject({ type: 'graph:started', run });
  });
});
