/**
 * Refusals carry a text (key and parameters) beside the English message, so the page can say them in Spanish:
 * over HTTP (routes, Fastify's schema validation, imports) and over the WebSocket (the shared codec), on the real
 * server. Each Spanish rendering is complete (no placeholder left) and the English one is the message itself.
 */
import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  RUN_EXPORT_FORMAT,
  english,
  sayText,
  type ErrorBody,
  type ServerText,
  type PlaygroundInfo,
  type ServerMessage,
  type WireServerText,
} from '../../shared/protocol/index.ts';
import { SCENARIOS } from '../../shared/scenarios/index.ts';
import { Playground } from '../pipeline/playground.ts';
import { StreamProbe, Visitor, collect, ofType, runEnded } from '../../test/helpers.ts';
import { type TutorialApp, closeTutorialApp, openTutorialApp } from '../../test/app-harness.ts';

let app: FastifyInstance;
/** The visitor of these tests (its own playgrounds and runs). */
let owner: Visitor;
let policy: TutorialApp['policy'];
let socket: WebSocket | null = null;

beforeEach(async () => {
  ({ app, policy } = await openTutorialApp({ store: ':memory:', registry: { maxWorkers: 3 } }));
  await app.ready();
  owner = new Visitor(app);
});
afterEach(async () => {
  await closeTutorialApp({ app, policy }, socket ? [socket] : []);
  socket = null;
});

/** The keys of a text and of the texts nested in it, outermost first. */
function keys(value: WireServerText): string[] {
  const nested = Object.values(value.params ?? {}).filter((p): p is WireServerText => typeof p === 'object');
  return [value.key, ...nested.flatMap(keys)];
}

function expectSaid(
  body: { code: string; message: string; text?: WireServerText },
  expectedKeys: string[],
  spanish: RegExp,
): void {
  expect(body.text, body.message).toBeDefined();
  const said = body.text!;
  expect(keys(said)).toEqual(expectedKeys);
  const es = sayText(said, 'es');
  expect(es).toMatch(spanish);
  expect(es).not.toMatch(/\{\w+\}/);
  expect(sayText(said, 'en')).not.toMatch(/\{\w+\}/);
}

async function refused(
  method: 'GET' | 'POST' | 'PATCH',
  url: string,
  payload?: unknown,
  status = 400,
): Promise<ErrorBody> {
  const response = await owner.inject({
    method,
    url,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  expect(response.statusCode, response.body).toBe(status);
  return response.json<ErrorBody>();
}

describe('[H2] error texts from the real server', () => {
  it('HTTP: route refusals, schema validation, hostile endpoints and bad imports', async () => {
    const unknown = await refused('POST', '/api/playgrounds', { scenario: 'nope' }, 404);
    expectSaid(unknown, ['scenario.unknown'], /^Escenario desconocido: "nope"/);
    expect(english(unknown.text as ServerText)).toBe(unknown.message);

    const created = await owner.inject({ method: 'POST', url: '/api/playgrounds', payload: { scenario: 'pipeline' } });
    const playground = created.json<PlaygroundInfo>();
    const base = `/api/playgrounds/${playground.id}`;

    // Fastify's own validation (Ajv): the first problem, with the value sent.
    const tooLong = await refused('PATCH', `${base}/params`, { intervalMs: 99999 });
    expectSaid(
      tooLong,
      ['request.invalid', 'validation.max'],
      /^Petición no válida: .*intervalMs debe ser como mucho 10000 \(se recibió 99999\)\.$/,
    );
    const unknownField = await refused('PATCH', `${base}/params`, { bogus: 1 });
    expectSaid(unknownField, ['request.invalid', 'validation.unknownField'], /campo desconocido: "bogus"/);

    // A playground's own rules.
    for (let i = playground.workers.length; i < 3; i++)
      expect((await owner.inject({ method: 'POST', url: `${base}/workers`, payload: {} })).statusCode).toBe(201);
    const limit = await refused('POST', `${base}/workers`, {}, 429);
    expectSaid(limit, ['worker.limit'], /como mucho 3 workers/);
    expect(english(limit.text as ServerText)).toBe(limit.message);

    // Endpoints are a security boundary; the refusal explains itself in both languages.
    const outside = await refused('PATCH', `${base}/endpoints/ipc`, { address: 'ipc:///etc/zmq-demo' });
    expectSaid(outside, ['endpoint.ipcOutside'], /está fuera de la carpeta de este playground/);
    const port = await refused('PATCH', `${base}/endpoints/tcp`, { address: 'tcp://127.0.0.1:70000' });
    expectSaid(port, ['endpoint.tcpPort'], /El puerto tcp 70000 está fuera de rango/);

    // Imports: a newer format, and a bad event whose text embeds the validation problem.
    const post = (payload: string) =>
      owner.inject({
        method: 'POST',
        url: '/api/runs/import',
        headers: { 'content-type': 'application/json' },
        payload,
      });
    const newer = (
      await post(JSON.stringify({ format: RUN_EXPORT_FORMAT, version: 99, exportedAt: '', run: {}, events: [] }))
    ).json<ErrorBody>();
    expectSaid(newer, ['import.newer'], /más nueva que la que lee este servidor \(versión 1\)/);
    const notJson = (await post('{"format": ')).json<ErrorBody>();
    expect(notJson.code).toBe('PG_ERR_IMPORT');
    expectSaid(notJson, ['import.notJson'], /^El archivo no es JSON válido \(¿cortado o dañado\?\)/);
    const badJsonBody = await owner.inject({
      method: 'PATCH',
      url: `${base}/params`,
      headers: { 'content-type': 'application/json' },
      payload: '{"intervalMs": ',
    });
    expectSaid(badJsonBody.json<ErrorBody>(), ['request.notJson'], /^El cuerpo de la petición no es JSON válido/);

    const missing = await refused('GET', '/api/runs/run-gone0000', undefined, 404);
    expectSaid(missing, ['record.unknownRun'], /No hay ninguna ejecución grabada "run-gone0000"/);
  });

  it('WebSocket: a command that fails the shared codec', async () => {
    const created = await owner.inject({ method: 'POST', url: '/api/playgrounds', payload: { scenario: 'tutorial' } });
    const playground = created.json<PlaygroundInfo>();
    const probe = new StreamProbe();
    socket = await owner.injectWS(`/api/playgrounds/${playground.id}/stream`, { probe });
    await probe.waitFor((m) => m.type === 'hello');
    socket.send(JSON.stringify({ type: 'params:update', params: { intervalMs: -5 } }));
    socket.send(JSON.stringify({ type: 'no:such' }));
    const errors = () =>
      probe.messages.filter((m): m is Extract<ServerMessage, { type: 'error' }> => m.type === 'error');
    await probe.waitFor(() => errors().length >= 2);
    const [negative, unknownType] = errors();
    expectSaid(negative!, ['message.invalid', 'validation.min'], /debe ser al menos 0 \(se recibió -5\)/);
    expectSaid(unknownType!, ['message.unknownType'], /^Tipo de command desconocido: "no:such"/);
  });

  it('notes what the server did instead, in both languages: a tcp port held by another program', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    const playground = new Playground({
      scenario: SCENARIOS.get('tutorial')!,
      params: { intervalMs: 0, drainMs: 300 },
      policy,
      endpointOverrides: { tcp: `tcp://127.0.0.1:${port}`, ipc: `ipc://${policy.runtimeDir}/noted` },
    });
    try {
      const events = collect(playground);
      const run = playground.startRun();
      await runEnded(playground, run.id);
      const bound = ofType(events, 'endpoint:bound').find((e) => e.endpoint.name === 'tcp')!;
      expect(bound.endpoint.actual).not.toBe(`tcp://127.0.0.1:${port}`);
      const note = bound.endpoint.noteText!;
      expect(note.key).toBe('note.tcpInUse');
      expect(bound.endpoint.note).toBe(english(note as ServerText));
      expect(sayText(note, 'es')).toBe(
        `el puerto ${port} lo está usando otro programa; se enlazó un puerto libre en su lugar.`,
      );
    } finally {
      await playground.close();
      blocker.close();
    }
  });
});
