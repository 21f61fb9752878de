/**
 * A fuzz test of every HTTP route and every stream command (issue 9), against the real server in its own process
 * on loopback: while the owner's batch of a few thousand tasks runs, three visitors (a stranger, a watcher of the
 * owner's playground, and the owner itself on its other playground) send a bounded number of random and mutated
 * requests: every route of the route table (read from the app's own `printRoutes()`, so a new route is fuzzed
 * without being listed here) with random methods, ids (the sender's own, another's, garbage), query strings,
 * bodies (mutated valid bodies, random JSON, huge strings, deep nesting, invalid JSON and UTF-8) and content types,
 * and WebSocket frames (every command type with mutated fields, garbage, binary, oversized, invalid UTF-8).
 *
 * It holds when: no answer is a 5xx and none is missing, no stream says PG_ERR_INTERNAL or closes with 1011, the
 * process never exits, the health check answers throughout, the stranger never sees or reaches the owner's
 * playground or run, and the owner's run ends with exact counts (every task collected, the accounting identity
 * of shared/protocol/schema.ts). Rate limits are raised so the requests reach the routes (a 429 would pass too).
 *
 * Everything drawn comes from one seeded generator: the seed is printed, and `FUZZ_SEED=<seed>` replays it.
 * Seeds that once found a defect are kept in FIXED_SEEDS and run every time.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.ts';
import {
  ApplyLessonBody,
  ClientCommand,
  CreatePlaygroundBody,
  NewWorker,
  RunParamsPatch,
  SinkPatch,
  SocketOptionsPatch,
  StartRunBody,
  WorkerPatch,
  WorkerSignal,
  type PlaygroundInfo,
  type RunSummary,
  type ServerMessage,
} from '../shared/protocol/index.ts';
import { LESSONS } from '../shared/lessons/index.ts';
import { allEvents, decodeTaskFrame } from '../shared/protocol/task-frame.ts';
import { ApiClient, startServer, type LiveServer } from '../test/live-server.ts';

/** Seeds that found a defect once (see the commit that added each); run before the random one. */
const FIXED_SEEDS: readonly number[] = [];
/** Requests and frames per seed, all senders together. */
const OPERATIONS = Number(process.env.FUZZ_OPERATIONS ?? 1500);
/** The fuzzing of one seed stops here even if operations are left (a very slow machine); bounded either way. */
const FUZZ_DEADLINE_MS = 60_000;
/** Requests in flight at once. */
const CONCURRENCY = 6;
/** An answer slower than this is a hung request. */
const ANSWER_TIMEOUT_MS = 20_000;
/** The owner's batch: long enough to be running while the fuzz goes on. */
const MAIN_TASKS = 3000;

// ----- a seeded generator (mulberry32) ----------------------------------------------------------------------------

class Rand {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  string(length: number, alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:'): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.next() * alphabet.length)];
    return out;
  }
}

// ----- values: valid ones from the protocol's schemas, then mutated --------------------------------------------

/** What a schema node may hold (TypeBox schemas are JSON Schema). */
interface SchemaNode {
  type?: string;
  const?: unknown;
  anyOf?: SchemaNode[];
  properties?: Record<string, SchemaNode>;
  required?: string[];
  patternProperties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
}

const LESSON_IDS = LESSONS.map((lesson) => lesson.id);
/**
 * Endpoint addresses to try (set per test: they name its runtime folder and the owner's playground): free ones,
 * and the owner's own ipc files, which no other playground may bind (a hijack of issue 9.3 and 9.4).
 */
let ADDRESSES: string[] = [];
const WEIRD_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '../../etc/passwd',
  '%00',
  '%2e%2e%2f',
  '\u202e\u0301',
  '😀'.repeat(40),
  '<script>alert(1)</script>',
  "'; DROP TABLE runs; --",
  '__proto__',
  'constructor',
  'tcp://0.0.0.0:80',
  'ipc:///etc/passwd',
  'ipc:///tmp/\u0000x',
  'inproc://' + 'x'.repeat(300),
  'tcp://127.0.0.1:*',
  'tcp://[::1]:5555',
  '\ud800',
];
const WEIRD_NUMBERS = [-1, 0, 1, 1.5, -0, 2 ** 31, 2 ** 53 + 1, 1e308, -1e308, 0.0001, 65_536, 1_000_001, 60_001];

/** A value the schema accepts (a few bounded on purpose: no million-task batch, no minute-long work). */
function validValue(rand: Rand, schema: SchemaNode, name = ''): unknown {
  if (schema.const !== undefined) return schema.const;
  if (schema.anyOf) return validValue(rand, rand.pick(schema.anyOf), name);
  switch (schema.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(schema.properties ?? {})) {
        if (schema.required?.includes(key) || rand.chance(0.5)) out[key] = validValue(rand, child, key);
      }
      for (const child of Object.values(schema.patternProperties ?? {})) {
        for (let i = rand.int(0, 2); i > 0; i--) out[rand.string(rand.int(1, 8))] = validValue(rand, child);
      }
      return out;
    }
    case 'array':
      return Array.from({ length: rand.int(0, 3) }, () => validValue(rand, schema.items ?? {}));
    case 'boolean':
      return rand.chance(0.5);
    case 'null':
      return null;
    case 'integer':
    case 'number': {
      const min = schema.minimum ?? 0;
      // The resource caps have their own tests: here a batch stays small and work stays short.
      const bound =
        name === 'tasks' ? 2000 : name === 'min' || name === 'max' ? 50 : Math.min(schema.maximum ?? 1000, min + 1000);
      const max = Math.min(schema.maximum ?? bound, bound);
      const value = rand.chance(0.15) ? min : rand.int(min, max);
      return schema.type === 'number' && rand.chance(0.2) ? value + 0.5 : value;
    }
    case 'string': {
      if (name === 'lesson') return rand.chance(0.8) ? rand.pick(LESSON_IDS) : rand.string(rand.int(1, 20));
      if (name === 'scenario') return rand.pick(['tutorial', 'pipeline', 'pipeline', rand.string(rand.int(1, 12))]);
      if (name === 'address' && ADDRESSES.length > 0) return rand.pick(ADDRESSES);
      const min = schema.minLength ?? 0;
      return rand.string(rand.int(Math.max(min, 1), Math.min(schema.maxLength ?? 24, 24)));
    }
    default:
      return randomJson(rand, 2);
  }
}

/** Any JSON value, nesting at most `depth` levels. */
function randomJson(rand: Rand, depth: number): unknown {
  const kind = rand.int(0, depth > 0 ? 7 : 5);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return rand.chance(0.5);
    case 2:
      return rand.pick(WEIRD_NUMBERS);
    case 3:
      return rand.int(-1000, 100_000);
    case 4:
      return rand.pick(WEIRD_STRINGS);
    case 5:
      return rand.string(rand.int(0, 40));
    case 6:
      return Array.from({ length: rand.int(0, 4) }, () => randomJson(rand, depth - 1));
    default: {
      const out: Record<string, unknown> = {};
      for (let i = rand.int(0, 4); i > 0; i--) {
        out[
          rand.pick([
            'type',
            'params',
            'worker',
            'patch',
            'id',
            'name',
            'enabled',
            'tasks',
            rand.string(rand.int(1, 10)),
          ])
        ] = randomJson(rand, depth - 1);
      }
      return out;
    }
  }
}

/** The value with one thing changed: a field replaced, removed or added, a number out of range. */
function mutate(rand: Rand, value: unknown, depth = 0): unknown {
  if (typeof value !== 'object' || value === null || depth > 4 || rand.chance(0.15)) {
    return rand.chance(0.5) ? rand.pick(WEIRD_NUMBERS) : randomJson(rand, 2);
  }
  if (Array.isArray(value)) {
    const copy = [...value];
    if (copy.length > 0 && rand.chance(0.7))
      copy[rand.int(0, copy.length - 1)] = mutate(rand, copy[rand.int(0, copy.length - 1)], depth + 1);
    else copy.push(randomJson(rand, 2));
    return copy;
  }
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  const action = rand.int(0, 3);
  if (keys.length > 0 && action <= 1) {
    const key = rand.pick(keys);
    copy[key] = mutate(rand, copy[key], depth + 1);
  } else if (keys.length > 0 && action === 2) {
    delete copy[rand.pick(keys)];
  } else {
    copy[rand.pick(['extra', '__proto__', 'constructor', 'type', rand.string(6)])] = randomJson(rand, 2);
  }
  return copy;
}

/** A JSON text `depth` levels deep (the stack-overflow inputs of issue 9.1). */
function deepJson(rand: Rand, depth: number): string {
  return rand.chance(0.5)
    ? `${'['.repeat(depth)}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Bytes that are not UTF-8, inside what looks like JSON. */
const INVALID_UTF8 = Buffer.from([
  0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d,
]);

/** A body for a route: mostly its own schema's values, mutated or not; sometimes anything at all. */
function bodyFor(rand: Rand, schema: SchemaNode | undefined, exportDoc: unknown): Buffer | string | undefined {
  const roll = rand.next();
  if (roll < 0.08) return undefined;
  if (roll < 0.12) return INVALID_UTF8;
  if (roll < 0.16) return deepJson(rand, rand.pick([63, 65, 200, 5000, 20_000]));
  if (roll < 0.19) return JSON.stringify({ name: 'x'.repeat(rand.pick([70_000, 300_000])) });
  if (roll < 0.23) return rand.pick(['{', '{"a":', 'nul', '[1,]', '"unterminated', '{}}', '\u0000', 'NaN', '1e999']);
  if (roll < 0.3) return JSON.stringify(randomJson(rand, 3));
  if (exportDoc && rand.chance(0.15)) return JSON.stringify(rand.chance(0.3) ? exportDoc : mutate(rand, exportDoc));
  if (!schema) return JSON.stringify(randomJson(rand, 3));
  const valid = validValue(rand, schema);
  return JSON.stringify(rand.chance(0.4) ? valid : mutate(rand, valid));
}

// ----- the route table ---------------------------------------------------------------------------------------

interface Route {
  path: string;
  methods: string[];
}

/** Every route of the app, from Fastify's own printout ("│   ├── /runs (POST, GET, HEAD)" under its parents). */
async function routeTable(): Promise<Route[]> {
  const app = await buildApp({ staticDir: null, store: ':memory:' });
  await app.ready();
  const printed = app.printRoutes({ commonPrefix: false });
  await app.close();
  const routes: Route[] = [];
  const stack: string[] = [];
  for (const line of printed.split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    stack.length = depth;
    stack.push(match[2]!);
    if (match[3]) routes.push({ path: stack.join(''), methods: match[3].split(',').map((m) => m.trim()) });
  }
  return routes;
}

/** Body schemas of the routes that take one; a route missing here still gets random bodies. */
const BODY_SCHEMAS: Record<string, SchemaNode> = {
  'POST /api/playgrounds': CreatePlaygroundBody,
  'POST /api/playgrounds/:id/lesson': ApplyLessonBody,
  'POST /api/playgrounds/:id/join': {
    type: 'object',
    properties: { token: { type: 'string', maxLength: 40 } },
    required: ['token'],
  },
  'PATCH /api/playgrounds/:id/params': RunParamsPatch,
  'POST /api/playgrounds/:id/runs': StartRunBody,
  'POST /api/playgrounds/:id/workers': NewWorker,
  'PATCH /api/playgrounds/:id/workers/:worker': WorkerPatch,
  'POST /api/playgrounds/:id/workers/:worker/signal': {
    type: 'object',
    properties: { signal: WorkerSignal },
    required: ['signal'],
  },
  'PATCH /api/playgrounds/:id/endpoints/:name': {
    type: 'object',
    properties: { address: { type: 'string' } },
    required: ['address'],
  },
  'PATCH /api/playgrounds/:id/sink': SinkPatch,
  'PATCH /api/playgrounds/:id/options': SocketOptionsPatch,
  'PATCH /api/runs/:id': {
    type: 'object',
    properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, public: { type: 'boolean' } },
  },
} as unknown as Record<string, SchemaNode>;

const QUERY_KEYS = ['limit', 'before', 'fromSeq', 'toSeq', 'fromT', 'toT', 'kind', 't', 'sinceSeq', 'p'];
const QUERY_VALUES = [
  '0',
  '1',
  '5000',
  '5001',
  '-1',
  '1e3',
  '0.5',
  'NaN',
  '',
  'all',
  'topology',
  '99999999999999999999',
  'x',
  '%00',
  '1.0000000001',
];

// ----- the senders -----------------------------------------------------------------------------------------------

type ActorName = 'owner' | 'stranger' | 'watcher';

interface Actor {
  name: ActorName;
  client: ApiClient;
  /** Ids this sender may use as its own or another's (never, for the owner, its running playground). */
  playgrounds: string[];
  runs: string[];
  /** The playground its stream is opened on. */
  streamOn: string;
}

interface Answer {
  status: number;
  body: string;
}

/**
 * One raw HTTP request (any method, any bytes, any content type) on a connection of its own, bounded by
 * ANSWER_TIMEOUT_MS. Its own connection: a reused keep-alive socket the server has just closed (after a 413, a
 * 414) resets on the client's side, which says nothing about the server. A body always goes with its
 * Content-Length: Node's client frames none for a GET, HEAD or DELETE otherwise, and the server would rightly read
 * the bytes as the next request.
 */
function send(
  base: string,
  method: string,
  target: string,
  headers: Record<string, string>,
  body?: Buffer | string,
): Promise<Answer | Error> {
  return new Promise((resolve) => {
    const url = new URL(target, base);
    const framed = body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
    const request = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method,
        headers: framed,
        agent: false,
        timeout: ANSWER_TIMEOUT_MS,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => {
          if (chunks.length < 64) chunks.push(chunk); // enough to check what it says; the rest is drained
        });
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', (error) => resolve(error));
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms`)));
    request.on('error', (error) => resolve(error));
    request.end(body);
  });
}

/** A path for a route template with each parameter drawn from the sender's ids, another's, or garbage. */
function fillPath(rand: Rand, template: string, actor: Actor, others: { playground: string; run: string }): string {
  return template.replace(/:([A-Za-z]+)/g, (_whole, name: string) => {
    const isRun = name === 'run' || (name === 'id' && template.startsWith('/api/runs/'));
    const roll = rand.next();
    let value: string;
    if (roll < 0.2) value = rand.pick([...WEIRD_STRINGS, 'x'.repeat(rand.pick([65, 81, 200, 3000]))]);
    else if (name === 'worker')
      value = rand.pick(['worker-1', 'worker-2', 'worker-3', 'worker-4', 'worker-tcp', 'worker-ipc', rand.string(8)]);
    else if (name === 'name') value = rand.pick(['tcp', 'ipc', 'inproc', rand.string(5)]);
    else if (isRun)
      value =
        rand.chance(0.3) && actor.name !== 'owner'
          ? others.run
          : rand.pick(actor.runs.length > 0 ? actor.runs : [rand.string(26)]);
    else if (name === 'id')
      value = rand.chance(0.3) && actor.name !== 'owner' ? others.playground : rand.pick(actor.playgrounds);
    else value = rand.string(rand.int(1, 30));
    return safeEncode(rand, value);
  });
}

/** A path with the sender's own ids (and real worker and endpoint names): what its own page would request. */
function ownPath(rand: Rand, template: string, actor: Actor): string {
  return template.replace(/:([A-Za-z]+)/g, (_whole, name: string) => {
    if (name === 'worker') return rand.pick(['worker-1', 'worker-2', 'worker-3', 'worker-4', 'worker-5']);
    if (name === 'name') return rand.pick(['tcp', 'ipc', 'inproc']);
    const isRun = name === 'run' || (name === 'id' && template.startsWith('/api/runs/'));
    return encodeURIComponent(rand.pick(isRun ? actor.runs : actor.playgrounds));
  });
}

/** encodeURIComponent, except for a lone surrogate (which it cannot encode): then plain garbage. */
function safeEncode(rand: Rand, value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return rand.string(8);
  }
}

function queryFor(rand: Rand): string {
  if (rand.chance(0.6)) return '';
  const parts: string[] = [];
  for (let i = rand.int(1, 4); i > 0; i--)
    parts.push(`${rand.pick(QUERY_KEYS)}=${safeEncode(rand, rand.pick(QUERY_VALUES))}`);
  return `?${parts.join('&')}`;
}

const CONTENT_TYPES = [
  ...Array.from({ length: 24 }, () => 'application/json'),
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/json; charset=utf-16',
  'application/vnd.api+json',
  '',
];

/** One stream frame: a command of any type (valid, mutated), or something that is not a command at all. */
function frameFor(rand: Rand): { data: string | Buffer; binary: boolean } {
  const roll = rand.next();
  if (roll < 0.05) return { data: Buffer.from(rand.string(rand.int(0, 64))), binary: true };
  if (roll < 0.08) return { data: INVALID_UTF8, binary: false };
  if (roll < 0.11)
    return { data: `{"type":"run:start","params":${deepJson(rand, rand.pick([65, 5000, 20_000]))}}`, binary: false };
  if (roll < 0.13)
    return { data: JSON.stringify({ type: 'params:update', params: { x: 'y'.repeat(70_000) } }), binary: false };
  if (roll < 0.135) return { data: 'z'.repeat(1024 * 1024 + 1), binary: rand.chance(0.5) }; // past what ws takes in: 1009
  if (roll < 0.18)
    return {
      data: rand.pick(['', '{', 'null', '[]', '42', '"subscribe"', '{"type":null}', '{"type":"nope"}']),
      binary: false,
    };
  const variant = rand.pick((ClientCommand as unknown as SchemaNode).anyOf!);
  const valid = validValue(rand, variant);
  return { data: JSON.stringify(rand.chance(0.4) ? valid : mutate(rand, valid)), binary: false };
}

// ----- the test ----------------------------------------------------------------------------------------------------

describe('fuzz: every route and command, while another visitor runs a batch (issue 9)', () => {
  let server: LiveServer;
  let runtimeDir: string;
  let routes: Route[];

  beforeAll(async () => {
    routes = await routeTable();
    runtimeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-fuzz-'));
    server = await startServer(runtimeDir, 30_000, [
      // Raised so that requests reach the routes; 429s would pass as well.
      '--http-per-second',
      '100000',
      '--commands-per-second',
      '100000',
      '--command-burst',
      '100000',
      '--max-playgrounds-per-visitor',
      '20',
      // Process workers (a forked Node each) are fuzzed too, a few at a time.
      '--max-process-workers',
      '2',
      '--max-server-process-workers',
      '3',
    ]);
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    if (runtimeDir) fs.rmSync(runtimeDir, { recursive: true, force: true });
  });

  it('the route table is read from the app', () => {
    const paths = routes.map((route) => route.path);
    for (const known of [
      '/api/health',
      '/api/playgrounds/:id/workers/:worker/signal',
      '/api/runs/import',
      '/api/runs/:id/counters',
    ]) {
      expect(paths).toContain(known);
    }
  });

  const seeds = [...FIXED_SEEDS, Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31))];
  for (const seed of seeds) {
    it(
      `seed ${seed}: no 5xx, no crash, the stranger reaches nothing, the owner's run ends with exact counts`,
      { timeout: 240_000 },
      async () => {
        console.log(`fuzz seed ${seed} (replay: FUZZ_SEED=${seed} npx vitest run server/fuzz.test.ts)`);
        await fuzzOnce(seed);
      },
    );
  }

  async function fuzzOnce(seed: number): Promise<void> {
    const rand = new Rand(seed);
    const base = server.base;
    const failures: string[] = [];
    const fail = (what: string) => {
      if (failures.length < 40) failures.push(what);
    };

    // The owner's playground, with a batch that runs while the fuzz goes on, and a stream that sees it end.
    const owner = new ApiClient(base);
    const created = await owner.request<PlaygroundInfo>('POST', '/api/playgrounds', { scenario: 'pipeline' });
    expect(created.status, created.text).toBe(201);
    const main = created.body.id;
    expect(
      (
        await owner.request('PATCH', `/api/playgrounds/${main}/params`, {
          tasks: MAIN_TASKS,
          intervalMs: 0,
          drainMs: 60_000,
        })
      ).status,
    ).toBe(200);
    expect((await owner.request('PATCH', `/api/playgrounds/${main}/sink`, { enabled: true })).status).toBe(200);
    for (const worker of created.body.workers) {
      expect(
        (await owner.request('PATCH', `/api/playgrounds/${main}/workers/${worker.id}`, { workMs: { min: 6, max: 6 } }))
          .status,
      ).toBe(200);
    }
    const before = (await owner.request<PlaygroundInfo>('GET', `/api/playgrounds/${main}`)).body;
    const ownerStream = await owner.stream(main);
    ownerStream.socket.send(JSON.stringify({ type: 'subscribe', sinceSeq: before.lastSeq }));
    const links = (await owner.request<{ watchToken: string }>('GET', `/api/playgrounds/${main}/links`)).body;

    // Each sender's own playground, with one short recorded run (ids of its own to use).
    const ownPlayground = async (client: ApiClient, scenario: string) => {
      const answer = await client.request<PlaygroundInfo>('POST', '/api/playgrounds', {
        scenario,
        params: { intervalMs: 0, drainMs: 300, ...(scenario === 'pipeline' ? { tasks: 5 } : {}) },
      });
      expect(answer.status, answer.text).toBe(201);
      const { run } = (await client.request<{ run: string }>('POST', `/api/playgrounds/${answer.body.id}/runs`)).body;
      await client.runEnded(answer.body.id, run);
      return { playground: answer.body.id, run };
    };
    const ownerSpare = await ownPlayground(owner, 'pipeline');
    const stranger = new ApiClient(base);
    const strangerOwn = await ownPlayground(stranger, 'tutorial');
    const watcher = new ApiClient(base);
    expect((await watcher.request('POST', `/api/playgrounds/${main}/join`, { token: links.watchToken })).status).toBe(
      200,
    );
    const watcherOwn = await ownPlayground(watcher, 'pipeline');
    // A real export, to mutate into imports.
    await expect
      .poll(async () => (await owner.request<{ status: string }>('GET', `/api/runs/${ownerSpare.run}`)).body.status, {
        timeout: 10_000,
      })
      .toBe('ended');
    const exportDoc = (await owner.request('GET', `/api/runs/${ownerSpare.run}/export.json`)).body;

    // Go: the owner's batch starts, then the fuzz.
    const started = await owner.request<{ run: string }>('POST', `/api/playgrounds/${main}/runs`);
    expect(started.status, started.text).toBe(201);
    const mainRun = started.body.run;
    const others = { playground: main, run: mainRun };
    ADDRESSES = [
      `tcp://127.0.0.1:${rand.int(20_000, 60_000)}`,
      'tcp://127.0.0.1:*',
      `ipc://${runtimeDir}/fuzz-${seed}.ipc`,
      `ipc://${runtimeDir}/${main}-vent.ipc`,
      `ipc://${runtimeDir}/${main}-sink.ipc`,
      `ipc://${runtimeDir}/${main}-fuzz.ipc`,
      `ipc://${runtimeDir}/${'d'.repeat(120)}.ipc`,
      `inproc://fuzz-${seed}`,
      `inproc://${main}-vent`,
      'tcp://0.0.0.0:5555',
      'tcp://127.0.0.1:80',
    ];
    const actors: Actor[] = [
      {
        name: 'owner',
        client: owner,
        playgrounds: [ownerSpare.playground],
        runs: [ownerSpare.run],
        streamOn: ownerSpare.playground,
      },
      {
        name: 'stranger',
        client: stranger,
        playgrounds: [strangerOwn.playground],
        runs: [strangerOwn.run],
        streamOn: strangerOwn.playground,
      },
      {
        name: 'watcher',
        client: watcher,
        playgrounds: [watcherOwn.playground, main],
        runs: [watcherOwn.run, mainRun],
        streamOn: main,
      },
    ];
    /**
     * Whether a text names the owner's playground or run (the stranger must never be told of one). The playground
     * as a whole JSON string: the stranger's own addresses may contain its id (an inproc name it chose).
     */
    const revealsOwner = (text: string) => text.includes(`"${main}"`) || text.includes(mainRun);

    // Streams: one per sender, opened again when the server closes one.
    const sockets = new Map<ActorName, WebSocket>();
    const closeCodes: number[] = [];
    /** Streams on which the fuzz sent a frame naming `binary` (a subscribe asking for binary task frames, or a mutant). */
    const askedBinary = new WeakSet<WebSocket>();
    const openStream = (actor: Actor, on = actor.streamOn): WebSocket => {
      const socket = new WebSocket(`${base.replace(/^http/, 'ws')}/api/playgrounds/${encodeURIComponent(on)}/stream`, {
        headers: { origin: base, cookie: actor.client.cookieHeader },
        maxPayload: 64 * 1024 * 1024,
      });
      socket.on('error', () => {}); // a refused or dropped socket shows in its close code
      socket.on('message', (data, isBinary) => {
        let text: string;
        let message: ServerMessage;
        if (isBinary) {
          // A binary task frame ([W5]) is the answer to a subscribe with `binary` that the fuzz itself drew on this
          // socket; never to a socket that did not ask. It must decode, and is checked below as the JSON it stands for.
          if (!askedBinary.has(socket)) {
            fail(`${actor.name}: a binary stream frame on a stream that never asked for one`);
            return;
          }
          const bytes = data instanceof Buffer ? data : Buffer.concat(data as Buffer[]);
          const decoded = decodeTaskFrame(bytes);
          if (!decoded.ok) {
            fail(`${actor.name}: a binary stream frame that does not decode: ${decoded.error}`);
            return;
          }
          const { events, tasks, dropped, counters } = decoded.value;
          message = { type: 'events', events: allEvents(events, tasks), dropped, counters } as ServerMessage;
          text = JSON.stringify(message);
        } else {
          text = data.toString();
          try {
            message = JSON.parse(text) as ServerMessage;
          } catch {
            fail(`${actor.name}: a stream frame that is not JSON: ${text.slice(0, 100)}`);
            return;
          }
        }
        if (message.type === 'error' && message.code === 'PG_ERR_INTERNAL')
          fail(`${actor.name}: stream error ${text.slice(0, 300)}`);
        if (actor.name === 'stranger' && message.type !== 'error' && revealsOwner(text))
          fail(`stranger: a stream frame about the owner's playground: ${text.slice(0, 200)}`);
      });
      socket.on('close', (code) => {
        closeCodes.push(code);
        if (code === 1011) fail(`${actor.name}: stream closed with 1011 (internal error)`);
      });
      return socket;
    };
    for (const actor of actors) sockets.set(actor.name, openStream(actor));

    let nextIndex = 0;
    const statuses = new Map<number, number>();
    const networkErrors = new Map<string, number>();
    /** With FUZZ_VERBOSE=1: what each route answered (to see which paths the draws reach). */
    const byRoute = new Map<string, Record<number, number>>();
    let sent = 0;
    const deadline = Date.now() + FUZZ_DEADLINE_MS;

    /** One operation, drawn entirely from the generator before anything is sent. */
    const operation = async (): Promise<void> => {
      const actor = rand.pick([actors[0]!, actors[1]!, actors[1]!, actors[2]!]);
      if (rand.chance(0.25)) {
        // A stream frame; now and then the stranger tries the owner's stream instead.
        const frame = frameFor(rand);
        const tryOwners = actor.name === 'stranger' && rand.chance(0.1);
        let socket = sockets.get(actor.name)!;
        if (tryOwners || socket.readyState === WebSocket.CLOSED || socket.readyState === WebSocket.CLOSING) {
          socket = openStream(actor, tryOwners ? main : actor.streamOn);
          if (!tryOwners) sockets.set(actor.name, socket);
        }
        if (socket.readyState === WebSocket.CONNECTING)
          await new Promise((resolve) => socket.once('open', resolve).once('close', resolve));
        if (socket.readyState === WebSocket.OPEN) {
          if (String(frame.data).includes('binary')) askedBinary.add(socket);
          socket.send(frame.data, { binary: frame.binary });
        }
        if (tryOwners) {
          const code = await new Promise<number>((resolve) =>
            socket.readyState === WebSocket.CLOSED ? resolve(-1) : socket.once('close', resolve),
          );
          if (code !== 4404 && code !== -1)
            fail(`stranger: its stream of the owner's playground closed with ${code}, not 4404`);
        }
        return;
      }
      // Well-formed: what a page would send (its own ids, a body its schema accepts), so that runs start, workers
      // come and go, process workers get signals and endpoints move; the rest is chaos.
      const isWellFormed = rand.chance(0.4);
      const route = rand.pick(routes);
      const method =
        isWellFormed || rand.chance(0.8)
          ? rand.pick(route.methods)
          : rand.pick(['GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'OPTIONS', 'HEAD', 'FOO']);
      const target = isWellFormed
        ? ownPath(rand, route.path, actor)
        : fillPath(rand, route.path, actor, others) + queryFor(rand);
      const schema = BODY_SCHEMAS[`${method} ${route.path}`];
      let body: Buffer | string | undefined;
      if (isWellFormed) body = schema ? JSON.stringify(validValue(rand, schema)) : undefined;
      else
        body =
          method === 'GET' || method === 'HEAD'
            ? rand.chance(0.05)
              ? '{}'
              : undefined
            : bodyFor(rand, schema, route.path === '/api/runs/import' ? exportDoc : null);
      const headers: Record<string, string> = { cookie: actor.client.cookieHeader };
      const origin = isWellFormed ? 0 : rand.next();
      if (origin < 0.85) headers.origin = base;
      else if (origin < 0.92) headers.origin = rand.pick(['http://evil.example', 'null', 'http://127.0.0.1:1']);
      if (body !== undefined) {
        const type = isWellFormed ? 'application/json' : rand.pick(CONTENT_TYPES);
        if (type) headers['content-type'] = type;
      }
      const answer = await send(base, method, target, headers, body);
      sent++;
      if (answer instanceof Error) {
        fail(`${actor.name} ${method} ${target.slice(0, 160)}: no answer (${answer.message})`);
        const kind = (answer as NodeJS.ErrnoException).code ?? answer.message.slice(0, 40);
        networkErrors.set(kind, (networkErrors.get(kind) ?? 0) + 1);
        if (process.env.FUZZ_VERBOSE)
          console.log(
            `  ${kind}: ${actor.name} ${method} ${target.slice(0, 80)} body ${body?.length ?? 'none'} ${headers['content-type'] ?? ''}`,
          );
        return;
      }
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      // A sender that deleted its own playground gets a new one in its place (the draws stay the same).
      const deleted =
        method === 'DELETE' && answer.status === 204 && /^\/api\/playgrounds\/[^/]+$/.test(target)
          ? decodeURIComponent(target.split('/')[3]!)
          : null;
      const slot = deleted === null ? -1 : actor.playgrounds.indexOf(deleted);
      if (slot >= 0 && deleted !== main) {
        const again = await actor.client.request<PlaygroundInfo>('POST', '/api/playgrounds', {
          scenario: 'pipeline',
          params: { tasks: 20, intervalMs: 0, drainMs: 300 },
        });
        if (again.status === 201) actor.playgrounds[slot] = again.body.id;
      }
      const counts = byRoute.get(`${method} ${route.path}`) ?? {};
      counts[answer.status] = (counts[answer.status] ?? 0) + 1;
      byRoute.set(`${method} ${route.path}`, counts);
      if (answer.status >= 500)
        fail(`${actor.name} ${method} ${target.slice(0, 160)} -> ${answer.status} ${answer.body.slice(0, 300)}`);
      if (actor.name === 'stranger' && answer.status < 300 && revealsOwner(answer.body)) {
        fail(`stranger ${method} ${target.slice(0, 160)} -> ${answer.status}, revealing the owner's playground or run`);
      }
    };

    const lanes = Array.from({ length: CONCURRENCY }, async () => {
      while (nextIndex < OPERATIONS && Date.now() < deadline) {
        const index = nextIndex++;
        if (index >= OPERATIONS) return;
        await operation();
        if (index % 150 === 0) {
          const check = await send(base, 'GET', '/api/health', {});
          if (check instanceof Error || check.status !== 200)
            fail(`health check at operation ${index}: ${check instanceof Error ? check.message : check.status}`);
        }
        if (!server.alive()) {
          fail(`the server exited at operation ${index}:\n${server.output().slice(-3000)}`);
          return;
        }
      }
    });
    await Promise.all(lanes);
    const operations = Math.min(nextIndex, OPERATIONS);
    const lastCounters = [...ownerStream.probe.messages].reverse().find((m) => m.type === 'events');
    const doneByThen = lastCounters?.type === 'events' ? lastCounters.counters.collected : 0;
    console.log(
      `fuzz seed ${seed}: the owner's run had ${doneByThen} of ${MAIN_TASKS} results collected when the fuzz ended`,
    );
    console.log(
      `fuzz seed ${seed}: ${operations} operations (${sent} HTTP), statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}, ` +
        `network errors ${JSON.stringify(Object.fromEntries(networkErrors))}, stream closes ${JSON.stringify(closeCodes.reduce<Record<number, number>>((n, c) => ({ ...n, [c]: (n[c] ?? 0) + 1 }), {}))}`,
    );

    if (process.env.FUZZ_VERBOSE)
      for (const [key, counts] of [...byRoute].sort()) console.log(`  ${key}: ${JSON.stringify(counts)}`);

    // The server lives and answers; the owner's run ends with every task in its place.
    expect(server.alive(), server.output().slice(-3000)).toBe(true);
    const healthAnswer = await send(base, 'GET', '/api/health', {});
    expect(healthAnswer instanceof Error ? healthAnswer.message : healthAnswer.status).toBe(200);
    const ended = await ownerStream.probe.waitForEvent(
      (event) => event.type === 'run:ended' && event.run === mainRun,
      180_000,
    );
    const summary = (ended as { summary: RunSummary; reason: string }).summary;
    const { accounting } = summary;
    expect((ended as { reason: string }).reason).toBe('completed');
    expect(summary.sent).toBe(MAIN_TASKS);
    expect(accounting).toBeDefined();
    const placed =
      accounting!.collected +
      accounting!.processed +
      accounting!.resultsLost +
      accounting!.lost +
      accounting!.external +
      accounting!.inFlight;
    expect(placed, JSON.stringify(accounting)).toBe(summary.sent);
    expect(accounting).toMatchObject({ collected: MAIN_TASKS, lost: 0, resultsLost: 0, inFlight: 0, external: 0 });
    expect(summary.lost).toBe(0);
    // Nobody but its owner changed the owner's playground.
    const after = (await owner.request<PlaygroundInfo>('GET', `/api/playgrounds/${main}`)).body;
    const shape = (info: PlaygroundInfo) => ({
      params: info.params,
      sink: info.sink.enabled,
      options: info.options,
      workers: info.workers.map((w) => ({
        id: w.id,
        transport: w.transport,
        mode: w.mode,
        workMs: w.workMs,
        connections: w.connections,
      })),
    });
    expect(shape(after)).toEqual(shape(before));

    for (const socket of [...sockets.values(), ownerStream.socket]) socket.terminate();
    // What the fuzz left running (its own runs, process workers) stops with its playgrounds.
    for (const actor of actors) {
      const listed = await actor.client.request<PlaygroundInfo[]>('GET', '/api/playgrounds');
      for (const playground of Array.isArray(listed.body) ? listed.body : []) {
        if (playground.id !== main) await actor.client.request('DELETE', `/api/playgrounds/${playground.id}`);
      }
    }
    expect(failures, failures.join('\n')).toEqual([]);
  }
});
