/**
 * Input nested thousands of levels deep, against the real server process: every walk over a parsed value recurses
 * once per level, so such input used to overflow the stack. A WebSocket command of ~20 KB ended the process
 * (uncaught, in the validation message), an HTTP body answered 500 with "Maximum call stack size exceeded", an
 * import answered 500. Now each is refused before it is parsed, with our error body, and the server goes on:
 * its health answers and another visitor's run finishes with exact counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody, PlaygroundInfo, ServerMessage } from '../shared/protocol/index.ts';
import { MAX_JSON_DEPTH } from '../shared/protocol/index.ts';
import { testPolicy } from '../test/helpers.ts';
import { ApiClient, startServer, type LiveServer } from '../test/live-server.ts';

const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

const BYSTANDER_TASKS = 300;

let policy: ReturnType<typeof testPolicy>;
let server: LiveServer;
let api: ApiClient;
let bystander: { playground: string; run: string };

beforeAll(async () => {
  policy = testPolicy();
  server = await startServer(policy.runtimeDir);
  api = new ApiClient(server.base);
  // Another visitor's batch, flowing while the hostile input arrives: it must finish, every task accounted for.
  const created = await api.request<PlaygroundInfo>('POST', '/api/playgrounds', {
    scenario: 'pipeline',
    params: { tasks: BYSTANDER_TASKS, intervalMs: 10 },
  });
  expect(created.status, created.text).toBe(201);
  const started = await api.request<{ run: string }>('POST', `/api/playgrounds/${created.body.id}/runs`);
  expect(started.status, started.text).toBe(201);
  bystander = { playground: created.body.id, run: started.body.run };
});

afterAll(async () => {
  await server?.stop();
  policy?.cleanup();
});

async function expectServing(): Promise<void> {
  expect(server.alive(), server.output()).toBe(true);
  const health = await api.request('GET', '/api/health');
  expect(health.status).toBe(200);
}

function expectTooDeep(
  answer: { status: number; body: unknown; text: string },
  code = 'PG_ERR_BAD_MESSAGE',
  key = 'message.tooDeep',
): void {
  expect(answer.status, answer.text.slice(0, 300)).toBe(400);
  const body = answer.body as ErrorBody;
  expect(body.code).toBe(code);
  expect(body.text?.key).toBe(key);
  expect(body.text?.params?.limit).toBe(MAX_JSON_DEPTH);
  expect(answer.text).not.toMatch(/call stack/i);
}

describe('input nested too deeply', () => {
  it('an HTTP JSON body is refused with 400 and our error body, on every kind of route', async () => {
    const deep = nested(5000);
    expectTooDeep(await api.request('POST', '/api/playgrounds', `{"scenario":"pipeline","params":${deep}}`));
    expectTooDeep(await api.request('PATCH', `/api/playgrounds/${bystander.playground}/params`, `{"tasks":${deep}}`));
    expectTooDeep(await api.request('POST', `/api/playgrounds/${bystander.playground}/workers`, deep));
    expectTooDeep(await api.request('PATCH', '/api/runs/some-run', `{"name":${deep}}`));
    // Just past the limit is refused too; just under it reaches validation, which answers as usual.
    expectTooDeep(await api.request('POST', '/api/playgrounds', `{"params":${nested(MAX_JSON_DEPTH)}}`));
    const shallow = await api.request<ErrorBody>(
      'POST',
      '/api/playgrounds',
      `{"params":${nested(MAX_JSON_DEPTH - 1)}}`,
    );
    expect(shallow.status).toBe(400);
    expect(shallow.body.code).toBe('PG_ERR_VALIDATION');
    // Brackets inside a string do not nest.
    const quoted = await api.request<ErrorBody>('POST', '/api/playgrounds', `{"scenario":"${'['.repeat(5000)}"}`);
    expect(quoted.status).toBe(400);
    expect(quoted.body.code).toBe('PG_ERR_VALIDATION');
    await expectServing();
  });

  it('an import is refused with PG_ERR_IMPORT before anything walks it', async () => {
    // A document that passes the first checks, so that validation walks the nested `run`.
    const deep = `{"format":"zmq-pipeline-playground/run","version":1,"exportedAt":"2024-01-01T00:00:00.000Z","run":${nested(100_000)},"events":[]}`;
    expectTooDeep(await api.request('POST', '/api/runs/import', deep), 'PG_ERR_IMPORT', 'import.tooDeep');
    await expectServing();
  });

  it('a WebSocket command is answered with an error frame, and the connection and the server go on', async () => {
    const created = await api.request<PlaygroundInfo>('POST', '/api/playgrounds', { scenario: 'pipeline' });
    const { socket, probe } = await api.stream(created.body.id);
    const errors = () =>
      probe.messages.filter((m): m is Extract<ServerMessage, { type: 'error' }> => m.type === 'error');

    socket.send(`{"type":"run:start","params":${nested(10_000)}}`);
    await probe.waitFor((m) => m.type === 'error');
    expect(errors()[0]).toMatchObject({
      code: 'PG_ERR_BAD_MESSAGE',
      text: { key: 'message.tooDeep', params: { limit: MAX_JSON_DEPTH } },
    });

    // Deep inside a string field's neighbour, and deep at the top: the same refusal.
    socket.send(`{"type":"worker:add","worker":{"transport":"tcp"},"x":${nested(MAX_JSON_DEPTH + 1)}}`);
    socket.send(nested(30_000));
    await probe.waitFor(() => errors().length >= 3);
    expect(
      errors()
        .slice(1)
        .map((e) => e.text?.key),
    ).toEqual(['message.tooDeep', 'message.tooDeep']);

    // The same socket still takes commands.
    socket.send(JSON.stringify({ type: 'params:update', params: { tasks: 7 } }));
    await probe.waitFor((m) => m.type === 'playground:updated' && m.playground.params.tasks === 7);
    socket.close();
    await expectServing();
  });

  it("another visitor's run finished with every task accounted for", async () => {
    const detail = await api.runEnded(bystander.playground, bystander.run);
    expect(detail.reason).toBe('completed');
    const { summary } = detail;
    expect(summary.sent).toBe(BYSTANDER_TASKS);
    expect(Object.values(summary.done).reduce((a, b) => a + b, 0)).toBe(BYSTANDER_TASKS);
    expect(summary.lost).toBe(0);
    await expectServing();
  });
});
