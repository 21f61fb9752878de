/**
 * Session 9's new routes as a stranger on a shared server would try them (issue 9's rule: one visitor cannot stall
 * the server or touch another's playground). Real server, real sockets, a SQLite file store as a server records by
 * default; every wait and loop is bounded.
 *
 * - GET /api/runs/:id/graph-state folds a recorded graph run from its stored events. A run still recorded keeps no
 *   states, and a kill/hang route can keep a run "running" as long as one likes (a hung node holds its end), so
 *   every request folded the whole run again on the event loop: one request of a 100,000-event run held every
 *   other visitor's requests (and the proxy's health check) for one to three seconds, and a visitor could ask as
 *   many at once as the rate limit let it.
 * - A node may be named "__proto__" (the schema's names allow it): the state's newest bodies and the comparison's
 *   books lost it, a plain object's "__proto__" being its prototype's setter.
 * - kill, hang and resume in a loop, on nodes that do not exist, odd names, other visitors' playgrounds.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from './app.ts';
import {
  GRAPH_STATE_TEXT_CHARS,
  emptyGraphRunState,
  foldGraphState,
  nodeBooks,
} from '../shared/protocol/graph-run-state.ts';
import { FOLDS_AT_ONCE, GraphRunStates } from './http/graph-run-state.ts';
import type { EventRange, JsonWindow } from './recorder/store-api.ts';
import type { GraphRunStateAt } from '../shared/protocol/graph-run-state.ts';
import type { GraphSpec, PlaygroundEvent, RecordedGraphRunDetail, RecordedRun } from '../shared/protocol/index.ts';
import type { GraphPlaygroundInfo } from './engine/graph-playground.ts';
import { starterSandbox } from '../shared/scenarios/sandbox.ts';
import { Visitor, testPolicy } from '../test/helpers.ts';

let app: FastifyInstance;
let policy: ReturnType<typeof testPolicy>;
let folder: string;
let owner: Visitor;

beforeEach(async () => {
  policy = testPolicy();
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-hostile-s9-'));
  app = await buildApp({
    policy,
    staticDir: null,
    store: path.join(folder, 'runs.db'),
    // The test's own polling is not a visitor's pace; the limits under test are the graph-state route's own.
    limits: { httpPerSecond: 100_000 },
  });
  await app.ready();
  owner = new Visitor(app);
});
afterEach(async () => {
  await app.close();
  policy.cleanup();
  fs.rmSync(folder, { recursive: true, force: true });
});

/** Polls `read` (bounded) until it answers something other than null. */
async function until<T>(read: () => Promise<T | null>, what: string, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function createGraph(visitor: Visitor, graph: GraphSpec): Promise<string> {
  const created = await visitor.inject({ method: 'POST', url: '/api/graphs', payload: { graph } });
  expect(created.statusCode, created.body).toBe(201);
  return created.json<GraphPlaygroundInfo>().id;
}

async function startRun(visitor: Visitor, id: string): Promise<string> {
  const started = await visitor.inject({ method: 'POST', url: `/api/graphs/${id}/runs` });
  expect(started.statusCode, started.body).toBe(201);
  return started.json<{ run: string }>().run;
}

/**
 * A run that stays "running": a PUSH deals `messages` to two PULLs, one of them hung from the start. The live one
 * takes nearly all of them; what waits in the hung one's queue keeps the run from completing, and a hung node
 * keeps it from ending by its drain. Resolves once at least `events` of its events are stored.
 */
async function longRunningRun(visitor: Visitor, messages: number, events: number): Promise<string> {
  const id = await createGraph(visitor, {
    title: 'a long run kept running',
    nodes: [
      {
        id: 'push',
        socket: 'PUSH',
        role: { kind: 'send', messages: { kind: 'template', template: 'task {n}', count: messages } },
      },
      { id: 'a', socket: 'PULL', role: { kind: 'receive' } },
      { id: 'hung', socket: 'PULL', role: { kind: 'receive' } },
    ],
    links: [
      { from: 'push', to: 'a', bind: 'from', transport: 'inproc' },
      { from: 'push', to: 'hung', bind: 'from', transport: 'inproc' },
    ],
  });
  const run = await startRun(visitor, id);
  const hung = await visitor.inject({ method: 'POST', url: `/api/graphs/${id}/nodes/hung/hang` });
  expect(hung.statusCode, hung.body).toBe(200);
  await until(async () => {
    const detail = (await visitor.inject(`/api/runs/${run}`)).json<RecordedRun>();
    return detail.eventCount >= events ? detail : null;
  }, `${events} stored events`);
  return run;
}

describe('GET /api/runs/:id/graph-state under a hostile visitor', () => {
  it('a fold of a long running run leaves the event loop to other requests between windows', async () => {
    const run = await longRunningRun(owner, 45_000, 80_000);
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    expect(address).toContain('127.0.0.1');

    // Health asked over and over while one fold runs: each answer's latency, until the fold is answered.
    let folded = false;
    const healthLatencies: number[] = [];
    const pinger = (async () => {
      for (let i = 0; i < 10_000 && !folded; i++) {
        const asked = performance.now();
        const health = await fetch(`${base}/api/health`);
        await health.arrayBuffer();
        if (!folded) healthLatencies.push(performance.now() - asked);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const start = performance.now();
    const state = await fetch(`${base}/api/runs/${run}/graph-state`, { headers: { cookie: owner.cookie! } });
    const body = (await state.json()) as GraphRunStateAt;
    const foldMs = performance.now() - start;
    folded = true;
    await pinger;
    expect(state.status).toBe(200);
    expect(body.count).toBeGreaterThanOrEqual(80_000);
    expect(body.runState).toBe('running');

    // Relative to the fold's own time (the machine's speed cancels out): before, health waited for the whole fold
    // (one answer, as late as the fold); now it is answered between windows of at most 5000 events.
    const worst = Math.max(...healthLatencies);
    expect(healthLatencies.length, `health answers during a ${Math.round(foldMs)} ms fold`).toBeGreaterThanOrEqual(3);
    expect(worst, `worst health latency during a ${Math.round(foldMs)} ms fold`).toBeLessThan(foldMs / 2);
  }, 150_000);

  it('one visitor cannot have more than a few folds waiting; strangers and odd ids get nothing', async () => {
    const run = await longRunningRun(owner, 10_000, 15_000);
    const ask = (visitor: Visitor, query = '') => visitor.inject(`/api/runs/${run}/graph-state${query}`);
    // Ten different moments at once: a few are folded, the rest refused with a reason, none is a 5xx.
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => ask(owner, `?count=${1000 + i}`)));
    const statuses = answers.map((answer) => answer.statusCode);
    expect(
      statuses.every((status) => status === 200 || status === 429),
      statuses.join(','),
    ).toBe(true);
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(2);
    const refused = answers.filter((answer) => answer.statusCode === 429);
    expect(refused.length, statuses.join(',')).toBeGreaterThan(0);
    expect(refused[0]!.json()).toMatchObject({ code: 'PG_ERR_LIMIT', text: { key: 'limit.graphStates' } });
    for (const answer of answers.filter((a) => a.statusCode === 200)) {
      const state = answer.json<GraphRunStateAt>();
      expect(state.count).toBe(1000 + answers.indexOf(answer));
    }
    // Once answered, the visitor may ask again.
    expect((await ask(owner, '?count=5')).statusCode).toBe(200);

    // A stranger gets nothing of it and is not told it exists, whatever it asks.
    const stranger = new Visitor(app);
    for (const query of ['', '?count=1', '?t=0', '?t=1e9', '?count=-1', '?count=NaN', '?t=0&count=1', '?x=1']) {
      const answer = await ask(stranger, query);
      expect([400, 404], `${query}: ${answer.body}`).toContain(answer.statusCode);
    }
    expect((await ask(stranger)).statusCode).toBe(404);
    for (const id of ['../../etc/passwd', '%00', 'x'.repeat(81), `${run}%2F..`, '__proto__', 'constructor']) {
      const answer = await stranger.inject(`/api/runs/${id}/graph-state`);
      expect([400, 404], `${id}: ${answer.body}`).toContain(answer.statusCode);
    }
  }, 150_000);
});

describe('GraphRunStates shares its work', () => {
  it('folds the same state asked at once once, and runs at most FOLDS_AT_ONCE folds at a time', async () => {
    const run = 'gr-x-r1';
    const events: PlaygroundEvent[] = Array.from({ length: 12_000 }, (_, i) => ({
      type: 'message:sent',
      seq: i + 1,
      run,
      t: i,
      node: 'push',
      message: i,
      body: `m${i}`,
      frames: 1,
    }));
    let windows = 0;
    let inWindow = 0;
    let mostAtOnce = 0;
    const source = {
      eventWindow: async (_id: string, range: EventRange): Promise<JsonWindow> => {
        windows++;
        inWindow++;
        mostAtOnce = Math.max(mostAtOnce, inWindow);
        // An asynchronous store (PostgreSQL's): the window arrives on a later turn.
        await new Promise((resolve) => setImmediate(resolve));
        inWindow--;
        const within = events.filter((e) => e.seq >= (range.fromSeq ?? 0) && e.t <= (range.toT ?? Infinity));
        const page = within.slice(0, range.limit);
        return { run, json: page.map((e) => JSON.stringify(e)), nextSeq: within[range.limit]?.seq ?? null };
      },
    };
    const detail = { id: run, status: 'running', lastSeq: 12_000, eventCount: 12_000 } as RecordedGraphRunDetail;
    const states = new GraphRunStates(source);
    const same = await Promise.all([1, 2, 3].map((i) => states.stateAt(detail, { count: 11_000 }, `v${i}`)));
    expect(same.map((state) => state.count)).toEqual([11_000, 11_000, 11_000]);
    expect(windows).toBe(3); // 5000 + 5000 + 1000: one fold's windows
    same[0]!.count = -1; // each caller has its own copy
    expect(same[1]!.count).toBe(11_000);

    windows = 0;
    const different = await Promise.all(
      [1, 2, 3, 4, 5].map((i) => states.stateAt(detail, { count: 9000 + i }, `v${i}`)),
    );
    expect(different.map((state) => state.count)).toEqual([9001, 9002, 9003, 9004, 9005]);
    expect(windows).toBe(10);
    expect(mostAtOnce).toBeLessThanOrEqual(FOLDS_AT_ONCE);
  });
});

describe("a graph run's state keeps texts short", () => {
  it('cuts a huge body, refusal detail and code (an import may hold any length; each checkpoint copies them)', () => {
    const run = 'gr-x-r1';
    const huge = 'b'.repeat(2 ** 20);
    const state = emptyGraphRunState(run);
    foldGraphState(state, {
      type: 'message:received',
      seq: 1,
      run,
      t: 0,
      node: 'a',
      message: 0,
      from: null,
      body: huge,
    });
    foldGraphState(state, {
      type: 'socket:refused',
      seq: 2,
      run,
      t: 0,
      node: 'a',
      peer: null,
      reason: 'efsm',
      code: huge,
      detail: huge,
    });
    expect(state.lastBodies['a']!.length).toBeLessThanOrEqual(GRAPH_STATE_TEXT_CHARS);
    expect(state.lastBodies['a']!.startsWith('bbbb')).toBe(true);
    expect(state.refusals[0]!.detail.length).toBeLessThanOrEqual(GRAPH_STATE_TEXT_CHARS);
    expect(state.refusals[0]!.code!.length).toBeLessThanOrEqual(GRAPH_STATE_TEXT_CHARS);
    expect(JSON.stringify(state).length).toBeLessThan(10_000);
  });
});

describe('a node named "__proto__"', () => {
  it("keeps its newest body in a graph run's state and its books in a comparison", () => {
    const run = 'gr-x-r1';
    const events: PlaygroundEvent[] = [
      { type: 'message:sent', seq: 1, run, t: 0, node: 'push', message: 0, body: 'first', frames: 1 },
      { type: 'message:received', seq: 2, run, t: 0, node: '__proto__', message: 0, from: 'push', body: 'first' },
      { type: 'message:received', seq: 3, run, t: 1, node: 'constructor', message: 0, from: 'push', body: 'other' },
    ];
    const state = emptyGraphRunState(run);
    for (const event of events) foldGraphState(state, event);
    expect(Object.getPrototypeOf(state.lastBodies)).toBe(Object.prototype);
    expect(Object.keys(state.lastBodies).sort()).toEqual(['__proto__', 'constructor']);
    expect(Object.hasOwn(state.lastBodies, '__proto__') && state.lastBodies['__proto__']).toBe('first');
    // Through JSON (the route's answer) and folded on (the page's replay goes on from the server's state).
    const answered = JSON.parse(JSON.stringify(state)) as GraphRunStateAt;
    foldGraphState(answered, { ...(events[1] as PlaygroundEvent), seq: 4, body: 'second' } as PlaygroundEvent);
    expect(Object.hasOwn(answered.lastBodies, '__proto__') && answered.lastBodies['__proto__']).toBe('second');
    expect(Object.keys(nodeBooks(state.counters))).toEqual(['push', '__proto__', 'constructor']);
    expect(Object.hasOwn(nodeBooks(state.counters), '__proto__')).toBe(true);
  });
});

describe('kill, hang and resume as a stranger and in a loop', () => {
  it('refuses strangers, odd names and dead nodes without a 5xx; a loop of signals keeps the server bounded', async () => {
    const id = await createGraph(owner, {
      title: 'hang and resume in a loop',
      nodes: [
        {
          id: 'push',
          socket: 'PUSH',
          role: { kind: 'send', intervalMs: 20, messages: { kind: 'template', template: 't{n}', count: 1000 } },
        },
        { id: 'a', socket: 'PULL', role: { kind: 'receive' } },
        { id: 'b', socket: 'PULL', role: { kind: 'receive' } },
      ],
      links: [
        { from: 'push', to: 'a', bind: 'from', transport: 'inproc' },
        { from: 'push', to: 'b', bind: 'from', transport: 'inproc' },
      ],
    });
    await startRun(owner, id);
    const signal = (visitor: Visitor, node: string, what: string, playground = id) =>
      visitor.inject({ method: 'POST', url: `/api/graphs/${playground}/nodes/${node}/${what}` });

    const stranger = new Visitor(app);
    for (const what of ['kill', 'hang', 'resume']) expect((await signal(stranger, 'a', what)).statusCode).toBe(404);
    const odd = [
      '..%2F..%2Fa',
      '%00',
      'a%20b',
      'x'.repeat(65),
      '__proto__',
      'constructor',
      'hasOwnProperty',
      '.',
      '..',
    ];
    for (const node of odd) {
      const answer = await signal(owner, node, 'kill');
      expect([400, 404], `${node}: ${answer.body}`).toContain(answer.statusCode);
    }
    for (const playground of ['nope', 'a.gr-nope', '..', '%2e%2e', 'x'.repeat(65)]) {
      const answer = await signal(owner, 'a', 'kill', playground);
      expect([400, 404], `${playground}: ${answer.body}`).toContain(answer.statusCode);
    }

    // Bodies the routes do not take: a deep one, a cross-site text/plain one (no preflight), a huge id.
    const deep = await owner.inject({
      method: 'POST',
      url: `/api/graphs/${id}/nodes/a/hang`,
      headers: { 'content-type': 'application/json' },
      payload: `{"x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
    });
    expect(deep.statusCode, deep.body).toBe(400);
    const crossSite = await owner.inject({
      method: 'POST',
      url: `/api/graphs/${id}/nodes/a/kill`,
      headers: { 'content-type': 'text/plain' },
      payload: 'x',
    });
    expect([400, 403, 415], crossSite.body).toContain(crossSite.statusCode);
    const huge = await signal(owner, 'a', 'kill', 'x'.repeat(100_000));
    expect([400, 404, 414], huge.body).toContain(huge.statusCode);

    // Hang and resume 300 times (bounded by count and time): every answer a 200 or a reasoned refusal.
    const rssBefore = process.memoryUsage().rss;
    const deadline = Date.now() + 30_000;
    for (let i = 0; i < 300 && Date.now() < deadline; i++) {
      const hung = await signal(owner, 'b', 'hang');
      expect(hung.statusCode, hung.body).toBe(200);
      const resumed = await signal(owner, 'b', 'resume');
      expect(resumed.statusCode, resumed.body).toBe(200);
    }
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 2 ** 20);

    // Killed: every further signal is a 400 with a reason, never a 5xx; twice killed is not killed again.
    expect((await signal(owner, 'b', 'kill')).statusCode).toBe(200);
    for (const what of ['kill', 'hang', 'resume', 'kill']) {
      const answer = await signal(owner, 'b', what);
      expect(answer.statusCode, answer.body).toBe(400);
      expect(answer.json()).toMatchObject({ text: { key: 'graph.nodeKilled' } });
    }
    const stopped = await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs/stop` });
    expect(stopped.statusCode, stopped.body).toBe(200);
    // After the run: nothing to signal.
    expect((await signal(owner, 'a', 'hang')).statusCode).toBe(409);
  }, 90_000);
});

describe('an imported graph run naming more nodes than a run can have', () => {
  it('is refused whole: its fold would keep a state per node and copy it every 5000 events', async () => {
    // A real run of part 1, exported.
    const created = await owner.inject({ method: 'POST', url: '/api/graphs', payload: { scenario: 'series-1' } });
    const id = created.json<GraphPlaygroundInfo>().id;
    const run = await startRun(owner, id);
    await until(async () => {
      const detail = (await owner.inject(`/api/runs/${run}`)).json<RecordedRun>();
      return detail.status === 'ended' ? detail : null;
    }, 'the run of part 1 stored as ended');
    const exported = await owner.inject(`/api/runs/${run}/export.json`);
    expect(exported.statusCode, exported.body).toBe(200);

    /** The export with `extra` receipts appended, each by a node of its own name, as an incomplete run. */
    const withNames = (extra: number): string => {
      const file = exported.json<{
        run: { id: string; status: string; eventCount: number; lastSeq: number; graphSummary: unknown };
        events: PlaygroundEvent[];
      }>();
      const events = file.events.filter((event) => event.type !== 'graph:ended');
      let seq = events.at(-1)!.seq;
      const t = events.at(-1)!.t;
      for (let i = 0; i < extra; i++)
        events.push({
          type: 'message:received',
          seq: ++seq,
          run: file.run.id,
          t,
          node: `n${i}`,
          message: 0,
          from: 'client',
          body: 'x',
        });
      Object.assign(file.run, { status: 'incomplete', eventCount: events.length, lastSeq: seq, graphSummary: null });
      return JSON.stringify({ ...file, events });
    };
    const importFile = (body: string) =>
      owner.inject({
        method: 'POST',
        url: '/api/runs/import',
        headers: { 'content-type': 'application/json' },
        payload: body,
      });

    // 60 more names than the graph's: as many as a run can have (64 sockets, live subscribers included) is taken.
    const fits = await importFile(withNames(60));
    expect(fits.statusCode, fits.body).toBe(201);
    // 2000 names: refused whole, saying why.
    const before = (await owner.inject('/api/runs')).json<{ total: number }>().total;
    const refused = await importFile(withNames(2000));
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json()).toMatchObject({ code: 'PG_ERR_IMPORT', text: { key: 'import.graphTooManyNodes' } });
    expect((await owner.inject('/api/runs')).json<{ total: number }>().total).toBe(before);
  }, 90_000);
});

describe("the free sandbox's caps, through the API", () => {
  it("hold every text a node sends, the announcement a stop sends too (docs/api.md: 'texts of 64 characters')", async () => {
    const starter = starterSandbox();
    const [first] = starter.nodes;
    const graph: GraphSpec = {
      ...starter,
      nodes: [
        { ...first!, stop: { afterMessages: 1, announce: { body: 'k'.repeat(200), through: 'news' } } },
        { id: 'news', socket: 'PUB', role: { kind: 'passive' } },
      ],
    };
    const refused = await owner.inject({ method: 'POST', url: '/api/graphs', payload: { graph, sandbox: true } });
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json()).toMatchObject({
      code: 'PG_ERR_VALIDATION',
      text: { key: 'graph.sandboxChars', params: { param: 'stop.announce.body', got: 200 } },
    });
  });
});

describe("a graph run's messages are held to the server's run payload cap", () => {
  it('refuses a publisher whose copies would exceed it, at creation, in an edit and for a new subscriber', async () => {
    /** A PUB sending `count` texts of 250 characters to `subscribers` SUBs that keep up to 1,000,000 each. */
    const fanOut = (count: number, subscribers: number): GraphSpec => ({
      title: 'a publisher and its subscribers',
      nodes: [
        {
          id: 'pub',
          socket: 'PUB',
          sendHighWaterMark: 1_000_000,
          role: { kind: 'send', messages: { kind: 'template', template: `${'x'.repeat(250)}{n}`, count } },
        },
        ...Array.from({ length: subscribers }, (_, i) => ({
          id: `s${i}`,
          socket: 'SUB' as const,
          subscribe: [''],
          receiveHighWaterMark: 1_000_000,
          role: { kind: 'receive' as const, workMs: 60_000 },
        })),
      ],
      links: Array.from({ length: subscribers }, (_, i) => ({
        from: 'pub',
        to: `s${i}`,
        bind: 'from' as const,
        transport: 'inproc' as const,
      })),
    });
    // 100,000 x 258 bytes x 8 copies: about 197 MiB, over the default 64 MiB (it grew the server by 560 MiB).
    const refused = await owner.inject({ method: 'POST', url: '/api/graphs', payload: { graph: fanOut(100_000, 8) } });
    expect(refused.statusCode, refused.body).toBe(429);
    expect(refused.json()).toMatchObject({ code: 'PG_ERR_LIMIT', text: { key: 'limit.graphRunBytes' } });

    // 100,000 x 258 bytes x 2 copies (49 MiB) is taken; a third subscriber, between runs or live, is not.
    const id = await createGraph(owner, fanOut(100_000, 2));
    const third = { id: 's2', publisher: 'pub', subscribe: [''] };
    const added = await owner.inject({ method: 'POST', url: `/api/graphs/${id}/subscribers`, payload: third });
    expect(added.statusCode, added.body).toBe(429);
    const replaced = await owner.inject({ method: 'PUT', url: `/api/graphs/${id}/graph`, payload: fanOut(100_000, 3) });
    expect(replaced.statusCode, replaced.body).toBe(429);
    expect((await owner.inject(`/api/graphs/${id}`)).json<GraphPlaygroundInfo>().graph.nodes).toHaveLength(3);
  });
});

describe('a graph run kept going by a visitor who left', () => {
  it('is stopped with its playground once nobody used or watched it for the idle time', async () => {
    const id = await createGraph(owner, {
      title: 'a hung reader',
      nodes: [
        {
          id: 'push',
          socket: 'PUSH',
          role: { kind: 'send', messages: { kind: 'template', template: 't{n}', count: 50 } },
        },
        { id: 'pull', socket: 'PULL', role: { kind: 'receive' } },
      ],
      links: [{ from: 'push', to: 'pull', bind: 'from', transport: 'inproc' }],
    });
    await startRun(owner, id);
    // Hung, the reader holds the run's end as long as nobody resumes, kills or stops it.
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/nodes/pull/hang` })).statusCode).toBe(200);
    const graphs = (
      app as unknown as {
        graphs: { closeIdle(idleMs: number, now?: number): Promise<void>; list(): { lastActivity: number }[] };
      }
    ).graphs;
    // A signal is a use: a playground last used half an hour ago and signalled now is kept.
    graphs.list()[0]!.lastActivity = Date.now() - 31 * 60_000;
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/nodes/pull/resume` })).statusCode).toBe(200);
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/nodes/pull/hang` })).statusCode).toBe(200);
    // Still in use a moment ago: kept.
    await graphs.closeIdle(30 * 60_000);
    expect((await owner.inject(`/api/graphs/${id}`)).json<GraphPlaygroundInfo>().activeRun).toEqual(expect.any(String));
    // Half an hour later while a stream watches it (a class watching a hung node): kept.
    let greeted!: () => void;
    const hello = new Promise<void>((resolve) => (greeted = resolve));
    const stream = await owner.injectWS(`/api/graphs/${id}/stream`, {
      onInit: (socket) => socket.once('message', () => greeted()),
    });
    await hello;
    await graphs.closeIdle(30 * 60_000, Date.now() + 31 * 60_000);
    expect((await owner.inject(`/api/graphs/${id}`)).json<GraphPlaygroundInfo>().activeRun).toEqual(expect.any(String));
    // Half an hour later, with no request and no stream: closed, its run stopped, its place under the cap free.
    stream.terminate();
    await until(
      async () => {
        await graphs.closeIdle(30 * 60_000, Date.now() + 31 * 60_000);
        return (await owner.inject(`/api/graphs/${id}`)).statusCode === 404 ? true : null;
      },
      'the playground closed once its stream went',
      10_000,
    );
    expect((await owner.inject('/api/graphs')).json<unknown[]>()).toHaveLength(0);
  });
});
