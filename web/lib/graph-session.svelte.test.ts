/**
 * GraphSession against a fake server (issue 11): opens the visitor's playground of a scenario (reusing one it
 * has), subscribes from the last seq after every hello, draws a dot per delivery and a mark per drop, takes the
 * frame's exact counters, skips what a reconnect's backlog repeats, and replaces the graph to add a subscriber.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { GraphSpec, PlaygroundEvent } from '../../shared/protocol/index.ts';
import {
  emptyGraphCounters,
  type GraphCounters,
  type GraphPlaygroundInfo,
  type GraphServerMessage,
} from '../../shared/protocol/graph-stream.ts';
import { FLIGHT_MS, GraphSession } from './graph-session.svelte.ts';
import { ApiError } from './api.ts';
import type { SocketLike } from './stream-client.svelte.ts';
import { happenedSentence, nodeLine, replyLostText, runStateText } from './graph-text.ts';
import { translatorFor } from './i18n/translate.ts';

class ScriptedSocket implements SocketLike {
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  readonly sent: unknown[] = [];
  constructor(readonly url: string) {}
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(): void {}
  deliver(message: GraphServerMessage): void {
    this.onmessage?.({ data: JSON.stringify(message) } as MessageEvent);
  }
}

const graph: GraphSpec = {
  title: 'narrator',
  nodes: [
    { id: 'narrator', socket: 'PUB', role: { kind: 'send', messages: { kind: 'list', items: ['brasil gol'] } } },
    { id: 'fan-1', socket: 'SUB', subscribe: ['argentina'], role: { kind: 'receive' } },
    { id: 'fan-2', socket: 'SUB', subscribe: ['brasil'], role: { kind: 'receive' } },
  ],
  links: [
    { from: 'narrator', to: 'fan-1', bind: 'from', transport: 'ipc' },
    { from: 'narrator', to: 'fan-2', bind: 'from', transport: 'ipc' },
  ],
};

const info = (overrides: Partial<GraphPlaygroundInfo> = {}): GraphPlaygroundInfo => ({
  id: 'gr-1',
  kind: 'graph',
  scenario: 'series-4',
  title: graph.title,
  graph,
  notes: [],
  allowIncompatible: false,
  activeRun: null,
  lastRun: null,
  lastSeq: 0,
  capabilities: { pgm: false },
  ...overrides,
});

const base = { run: 'gr-1-r1', t: 0 };
const started: PlaygroundEvent = {
  ...base,
  seq: 1,
  type: 'graph:started',
  scenario: 'series-4',
  graph,
  capabilities: {},
};
const sent: PlaygroundEvent = {
  ...base,
  seq: 2,
  type: 'message:sent',
  node: 'narrator',
  message: 1,
  body: 'brasil gol',
  frames: 1,
};
const filtered: PlaygroundEvent = {
  ...base,
  seq: 3,
  type: 'message:dropped',
  message: 1,
  node: 'narrator',
  peer: 'fan-1',
  reason: 'filtered',
};
const received: PlaygroundEvent = {
  ...base,
  seq: 4,
  type: 'message:received',
  node: 'fan-2',
  message: 1,
  from: 'narrator',
  body: 'brasil gol',
};

function counters(): GraphCounters {
  const c = emptyGraphCounters('gr-1-r1');
  c.sent = 1;
  c.received = 1;
  c.dropped = 1;
  c.nodes = {
    narrator: { sent: 1, received: 0, droppedHere: { filtered: 1 }, missed: {}, refused: {} },
    'fan-1': { sent: 0, received: 0, droppedHere: {}, missed: { filtered: 1 }, refused: {} },
    'fan-2': { sent: 0, received: 1, droppedHere: {}, missed: {}, refused: {} },
  };
  return c;
}

describe('GraphSession', () => {
  let sockets: ScriptedSocket[];
  let requests: { method: string; path: string; body?: unknown }[];
  let mine: GraphPlaygroundInfo[];
  let now: number;
  let session: GraphSession;

  beforeEach(() => {
    vi.useFakeTimers();
    sockets = [];
    requests = [];
    mine = [];
    now = 1000;
    session = new GraphSession({
      request: async (method, path, body) => {
        requests.push({ method, path, body });
        if (path === '/api/graph-scenarios')
          return [{ id: 'series-4', title: 'Part 4', description: 'PUB/SUB', notes: [] }];
        if (method === 'GET' && path === '/api/graphs') return mine;
        if (method === 'POST' && path === '/api/graphs') return info();
        if (method === 'PUT') return info();
        // The server's answer to a subscriber added or a node removed: its graph (here: part 4 with fan-3, or without).
        if (method === 'POST' && path.endsWith('/subscribers')) {
          const { id, publisher, subscribe } = body as { id: string; publisher: string; subscribe: string[] };
          const graph = info().graph;
          return info({
            graph: {
              ...graph,
              nodes: [...graph.nodes, { id, socket: 'SUB', subscribe, role: { kind: 'receive' } }],
              links: [...graph.links, { from: publisher, to: id, bind: 'from', transport: 'ipc' }],
            },
          });
        }
        if (method === 'DELETE') return info();
        return { run: 'gr-1-r2' };
      },
      createSocket: (url) => {
        const socket = new ScriptedSocket(url);
        sockets.push(socket);
        return socket;
      },
      streamUrl: (id) => `ws://test/api/graphs/${id}/stream`,
      now: () => now,
    });
  });
  afterEach(() => {
    session.close();
    vi.useRealTimers();
  });

  it('creates a playground of the scenario when the visitor has none, and reuses one it has', async () => {
    await session.open('series-4');
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/graph-scenarios',
      'GET /api/graphs',
      'POST /api/graphs',
    ]);
    expect(requests[2]!.body).toEqual({ scenario: 'series-4' });
    expect(sockets[0]!.url).toBe('ws://test/api/graphs/gr-1/stream');

    const again = new GraphSession({
      ...optionsOf(),
      request: async (method, path) => (path === '/api/graphs' ? [info({ id: 'gr-9' })] : []),
    });
    await again.open('series-4');
    expect(again.info?.id).toBe('gr-9');
    again.close();

    function optionsOf() {
      return { createSocket: (url: string) => new ScriptedSocket(url), streamUrl: (id: string) => `ws://test/${id}` };
    }
  });

  it('a create the server refuses shows the refusal and leaves the connection closed, not connecting for ever', async () => {
    const refusal = { key: 'limit.playgroundsPerVisitor', params: { max: 5 } } as const;
    const refused = new GraphSession({
      request: async (method, path) => {
        if (method === 'POST') throw new ApiError('PG_ERR_LIMIT', 'all in use', 429, refusal);
        return path === '/api/graphs' ? [] : [];
      },
      createSocket: (url) => new ScriptedSocket(url),
      streamUrl: (id) => `ws://test/${id}`,
    });
    await refused.open('series-6');
    expect(refused.error).toEqual({ code: 'PG_ERR_LIMIT', message: 'all in use', text: refusal });
    expect(refused.connection).toBe('closed');
    expect(refused.info).toBeNull();
  });

  it('a requester left waiting for a reply lost with a killed node: the run bar and the live region say so (en, es)', async () => {
    await session.open('series-4');
    const frame = (events: PlaygroundEvent[]) => session.applyEvents(events, 0, counters());
    frame([
      started,
      { ...base, seq: 2, type: 'node:process', node: 'server', action: 'killed', program: 'server' },
      { ...base, seq: 3, type: 'node:stopped', node: 'server', reason: 'killed' },
    ]);
    session.takeNews();
    frame([
      { ...base, seq: 4, type: 'node:stopped', node: 'client', reason: 'reply-lost', lostWith: 'server' },
      { ...base, seq: 5, type: 'node:stopped', node: 'other', reason: 'reply-lost' },
      { ...base, seq: 6, type: 'node:stopped', node: 'bystander', reason: 'run-ended' },
      { ...base, seq: 7, type: 'graph:ended', reason: 'completed', summary: summaryOf() },
    ]);
    expect(session.repliesLost).toEqual({ client: 'server', other: null });
    const en = translatorFor('en');
    const es = translatorFor('es');
    // Not "ran its course": nothing more could happen.
    expect(runStateText(session, en)).toBe('ended: nothing more could happen');
    expect(runStateText(session, es)).toBe('terminada: ya no podía pasar nada más');
    expect(replyLostText('client', 'server', en)).toBe(
      'client was left waiting for a reply that will never come: its request was lost with the killed server.',
    );
    expect(replyLostText('client', 'server', es)).toBe(
      'client se quedó esperando una respuesta que nunca llegará: su petición se perdió con server, que fue matado.',
    );
    const news = session.takeNews();
    expect(happenedSentence(news, en)).toContain(
      'client was left waiting for a reply that will never come: its request was lost with the killed server. ' +
        'other was left waiting for a reply that will never come: its request was lost with a killed node. ' +
        'Run gr-1-r1 ended: nothing more could happen.',
    );
    expect(happenedSentence(news, es)).toContain('Terminó la ejecución gr-1-r1: ya no podía pasar nada más.');

    // The next run starts clean; one that ends with every reply in says it ran its course.
    frame([{ ...started, seq: 8, run: 'gr-1-r2' }]);
    expect(session.repliesLost).toEqual({});
    frame([{ ...base, run: 'gr-1-r2', seq: 9, type: 'graph:ended', reason: 'completed', summary: summaryOf() }]);
    expect(runStateText(session, en)).toBe('ended: ran its course');

    function summaryOf() {
      return {
        sent: 1,
        copies: 1,
        delivered: 0,
        dropped: 1,
        droppedBy: { unhandled: 1 },
        unattributed: 0,
        inFlight: 0,
        nodes: {},
        refusals: 0,
        durationMs: 10,
      };
    }
  });

  it('subscribes after hello, draws a dot per delivery and a mark per drop, and shows the exact counters', async () => {
    await session.open('series-4');
    const socket = sockets[0]!;
    socket.deliver({ type: 'hello', protocolVersion: 1, graph: info() });
    expect(socket.sent).toEqual([{ type: 'subscribe', sinceSeq: 0 }]);
    expect(session.connection).toBe('connected');

    socket.deliver({ type: 'events', events: [started, sent, filtered, received], dropped: 0, counters: counters() });
    expect(session.runState).toBe('running');
    expect(session.flights.map((f) => [f.from, f.to, f.body])).toEqual([['narrator', 'fan-2', 'brasil gol']]);
    expect(session.drops.map((d) => [d.node, d.peer, d.reason])).toEqual([['narrator', 'fan-1', 'filtered']]);
    expect(session.counters.nodes['fan-1']!.missed).toEqual({ filtered: 1 });

    const en = translatorFor('en');
    expect(nodeLine(graph.nodes[1]!, session.counters.nodes['fan-1'], en)).toBe(
      'fan-1 (SUB, receives, subscribes to “argentina”): sent 0, received 0; never got: 1 filtered by the publisher',
    );
    expect(happenedSentence(session.takeNews(), en)).toBe(
      'fan-2 received “brasil gol” from narrator. A copy for fan-1: filtered by the publisher. Run gr-1-r1 started.',
    );
    expect(session.takeNews()).toEqual([]);

    // Dots land and are forgotten.
    now += FLIGHT_MS + 1;
    session.prune();
    expect(session.flights).toEqual([]);

    // A reconnect resumes from the last seq; what its backlog repeats is skipped, and a sampled frame is counted.
    socket.onclose?.({ code: 1006 } as CloseEvent);
    expect(session.connection).toBe('reconnecting');
    await vi.runOnlyPendingTimersAsync();
    const second = sockets[1]!;
    second.deliver({ type: 'hello', protocolVersion: 1, graph: info({ lastSeq: 4, activeRun: 'gr-1-r1' }) });
    expect(second.sent).toEqual([{ type: 'subscribe', sinceSeq: 4 }]);
    second.deliver({ type: 'events', events: [received], dropped: 7, counters: counters() });
    expect(session.flights).toEqual([]);
    expect(session.sampledOut).toBe(7);
  });

  it("adds a subscriber with another filter, changes one's prefixes and removes one through the server (also while a run flows)", async () => {
    await session.open('series-4');
    await session.addSubscriber('narrator', 'fan-3', ['brasil', 'italia']);
    const add = requests.find((r) => r.method === 'POST' && r.path.endsWith('/subscribers'))!;
    expect(add.path).toBe('/api/graphs/gr-1/subscribers');
    expect(add.body).toEqual({ id: 'fan-3', publisher: 'narrator', subscribe: ['brasil', 'italia'] });
    expect(session.graph?.nodes).toHaveLength(4);
    expect(session.graph?.nodes.at(-1)).toMatchObject({ id: 'fan-3', socket: 'SUB' });

    await session.removeNode('fan-3');
    const remove = requests.find((r) => r.method === 'DELETE')!;
    expect(remove.path).toBe('/api/graphs/gr-1/nodes/fan-3');
    expect(session.graph?.nodes).toHaveLength(3);

    await session.setSubscriptions('fan-1', ['']);
    const put = requests.find((r) => r.method === 'PUT')!;
    expect(put.path).toBe('/api/graphs/gr-1/nodes/fan-1/subscriptions');
    expect(put.body).toEqual({ subscribe: [''] });
  });
});
