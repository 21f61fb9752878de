/**
 * A hostile tester's second round (session 9): the HTTP rate limit, /api/recording with PostgreSQL, and how a
 * PostgreSQL URL is described. Each test failed on the code before its fix.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterEach, expect, it } from 'vitest';
import { buildApp } from './app.ts';
import { describeUrl } from './recorder/pg/schema.ts';
import { type RecordingStats, type RecordingStore } from './recorder/store-api.ts';
import { openRecordingStore } from './recorder/store-open.ts';
import { findPostgresBin, startThrowawayPostgres } from '../scripts/throwaway-postgres.ts';
import type { RecordingStatus } from '../shared/protocol/index.ts';
import { Visitor, testPolicy } from '../test/helpers.ts';
import { SessionSigner } from './http/session.ts';

let app: FastifyInstance | null = null;
let policy: ReturnType<typeof testPolicy> | null = null;
afterEach(async () => {
  await app?.close();
  policy?.cleanup();
  app = policy = null;
});

const madeUp = (): string => randomBytes(32).toString('base64url');

it('made-up session tokens are not visitors: 300 at once from one address share that address’s limit', async () => {
  policy = testPolicy();
  app = await buildApp({ policy, staticDir: null, store: null, limits: { httpPerSecond: 50 } });
  const answers = await Promise.all(
    Array.from({ length: 300 }, () =>
      app!.inject({ url: '/api/health', headers: { cookie: `zpg_session=${madeUp()}` } }),
    ),
  );
  const passed = answers.filter((answer) => answer.statusCode === 200).length;
  // All 300 passed before: each token was a new visitor with 50 a second of its own.
  expect(passed).toBeLessThanOrEqual(50);
  expect(answers.filter((answer) => answer.statusCode === 429).length).toBe(300 - passed);
});

it('a session the server issued keeps its own limit, and an unsigned one comes back signed for the same visitor', async () => {
  policy = testPolicy();
  app = await buildApp({ policy, staticDir: null, store: null, limits: { httpPerSecond: 50 } });
  // Fill the address's bucket for sessions it never issued...
  await Promise.all(Array.from({ length: 60 }, () => app!.inject({ url: '/api/health' })));
  // ...an issued one is not in it (the cookie came with one of those answers; minted here by the signer).
  const visitor = new Visitor(app);
  const first = await app.inject({ url: '/api/health', headers: { cookie: `zpg_session=${madeUp()}` } });
  expect(first.statusCode).toBe(429);
  const unsigned = madeUp();
  const upgrade = await app.inject({
    url: '/api/health',
    remoteAddress: '127.0.0.9',
    headers: { cookie: `zpg_session=${unsigned}` },
  });
  const signed = /zpg_session=([A-Za-z0-9_-]+)/.exec(String(upgrade.headers['set-cookie']))![1]!;
  expect(signed.startsWith(unsigned)).toBe(true);
  visitor.cookie = `zpg_session=${signed}`;
  expect((await visitor.inject('/api/health')).statusCode).toBe(200);
  // The same visitor either way: what it creates with the unsigned token, the signed one lists.
  const created = await app.inject({
    method: 'POST',
    url: '/api/playgrounds',
    remoteAddress: '127.0.0.10',
    headers: { cookie: `zpg_session=${unsigned}`, 'content-type': 'application/json', origin: 'http://localhost' },
    payload: '{}',
  });
  expect(created.statusCode).toBe(201);
  const listed = (await visitor.inject('/api/playgrounds')).json<{ id: string }[]>();
  expect(listed.map((p) => p.id)).toContain(created.json<{ id: string }>().id);
  // Signed by a server before a restart (another key): still the same visitor, given back signed with this key.
  const before = new SessionSigner().sign(unsigned)!;
  const afterRestart = await app.inject({
    url: '/api/playgrounds',
    remoteAddress: '127.0.0.11',
    headers: { cookie: `zpg_session=${before}` },
  });
  expect(afterRestart.json<{ id: string }[]>().map((p) => p.id)).toContain(created.json<{ id: string }>().id);
  expect(String(afterRestart.headers['set-cookie'])).toContain(`zpg_session=${signed};`);
  // An embedded page's session (a header) comes back signed in the answer's header.
  const embedded = await app.inject({
    url: '/api/health',
    remoteAddress: '127.0.0.12',
    headers: { 'x-playground-session': unsigned },
  });
  expect(embedded.headers['x-playground-session']).toBe(signed);
});

it('one address has a limit of its own, whatever sessions it holds', async () => {
  policy = testPolicy();
  app = await buildApp({
    policy,
    staticDir: null,
    store: null,
    limits: { httpPerSecond: 50, httpPerSecondPerAddress: 100 },
  });
  // Ten issued sessions (from ten other addresses), then all used from one address: 10 x 50 > 100.
  const sessions: string[] = [];
  for (let i = 0; i < 10; i++) {
    const answer = await app.inject({ url: '/api/health', remoteAddress: `127.0.1.${i + 1}` });
    sessions.push(/zpg_session=([A-Za-z0-9_-]+)/.exec(String(answer.headers['set-cookie']))![1]!);
  }
  const answers = await Promise.all(
    Array.from({ length: 300 }, (_, i) =>
      app!.inject({
        url: '/api/health',
        remoteAddress: '127.0.2.1',
        headers: { cookie: `zpg_session=${sessions[i % 10]}` },
      }),
    ),
  );
  expect(answers.filter((answer) => answer.statusCode === 200).length).toBeLessThanOrEqual(100);
  const refused = answers.find((answer) => answer.statusCode === 429)!;
  expect(refused.json()).toMatchObject({ code: 'PG_ERR_LIMIT' });
  // Another address is not held back by it.
  expect((await app.inject({ url: '/api/health', remoteAddress: '127.0.2.2' })).statusCode).toBe(200);
});

it('/api/recording shows a PostgreSQL store by its kind: no host, port, database or address in an error', async () => {
  policy = testPolicy();
  // A store as the PostgreSQL one presents itself, whose writes failed with an error naming the server's address.
  const store = {
    kind: 'postgres',
    displayName: 'PostgreSQL',
    privateFolder: null,
    openWriteChannel({ stats }: { stats: RecordingStats }) {
      stats.writeErrors = 1;
      stats.lastError = {
        message: 'connect ECONNREFUSED 10.20.30.40:6543 (db.internal.example)',
        at: new Date().toISOString(),
      };
      return { stats, close: async () => {} };
    },
    close: async () => {},
  } as unknown as RecordingStore;
  app = await buildApp({ policy, staticDir: null, store });
  const answer = await new Visitor(app).inject('/api/recording');
  const status = answer.json<RecordingStatus>();
  expect(status.path).toBe('PostgreSQL');
  expect(status.lastError?.message).toBeTruthy();
  expect(JSON.stringify(status)).not.toMatch(/10\.20\.30\.40|6543|db\.internal/);
});

/** Debian's PostgreSQL binaries are here (scripts/test-deps.sh installs them), unless PLAYGROUND_TEST_PG=0. */
function postgresHere(): boolean {
  if (process.env.PLAYGROUND_TEST_PG === '0') return false;
  try {
    findPostgresBin();
    return true;
  } catch (error) {
    if (process.env.PLAYGROUND_TEST_PG === '1') throw error;
    return false;
  }
}

it.skipIf(!postgresHere())('a real PostgreSQL store tells visitors its kind only', { timeout: 90_000 }, async () => {
  const cluster = await startThrowawayPostgres();
  try {
    const url = await cluster.createDatabase('hostile_s9b');
    const store = await openRecordingStore(url);
    policy = testPolicy();
    app = await buildApp({ policy, staticDir: null, store });
    const status = (await new Visitor(app).inject('/api/recording')).json<RecordingStatus>();
    // It was postgres://127.0.0.1:<port>/hostile_s9b.
    expect(status.path).toBe('PostgreSQL');
    expect(JSON.stringify(status)).not.toMatch(new RegExp(`127\\.0\\.0\\.1|${cluster.port}|hostile_s9b`));
    await app.close();
    app = null;
    await store.close();
  } finally {
    await cluster.stop();
  }
});

it('describeUrl reads a URL with an empty host and a socket folder, and never prints the password', () => {
  const described = describeUrl('postgres://u:secret@/runs?host=/run/postgresql');
  expect(described.display).not.toContain('unparsable');
  expect(described.display).toContain('/run/postgresql');
  expect(described.display).toContain('runs');
  expect(described.hostPort).toContain('/run/postgresql');
  expect(JSON.stringify(described)).not.toContain('secret');
  expect(describeUrl('postgres://u:secret@db.example:6543/runs')).toEqual({
    display: 'postgres://db.example:6543/runs',
    hostPort: 'db.example:6543',
  });
  expect(JSON.stringify(describeUrl('postgresql:///runs?host=/tmp/s&port=6000'))).toContain('6000');
});
