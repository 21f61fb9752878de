/**
 * Typed wrappers around the HTTP API. Every failure (HTTP 4xx/5xx, network, unexpected body) becomes an ApiError
 * with a stable code and a message a person can read.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import {
  ServerTextSchema,
  PlaygroundInfo,
  RunDetail,
  SinkInfo,
  SocketOptions,
  WorkerInfo,
  type CreatePlaygroundBody,
  type NewWorker,
  type PlaygroundInfo as PlaygroundInfoT,
  type PresenterState,
  type RunDetail as RunDetailT,
  type RunParamsPatch,
  type ScenarioInfo,
  type SinkInfo as SinkInfoT,
  type SinkPatch,
  type SocketOptions as SocketOptionsT,
  type SocketOptionsPatch,
  type WorkerInfo as WorkerInfoT,
  type WorkerPatch,
  type WorkerSignal,
  type WireServerText,
} from '../../shared/protocol/index.ts';
import { SESSION_HEADER, adoptSignedSession, sessionHeaders } from './embed.ts';

/** Codes the server sends (`PG_ERR_*`) plus the ones only the browser can see. */
export type ApiErrorCode = string;

/** An API failure with the server's code and message. */
export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly status: number;
  /** The server's message as a key and parameters, to be said in the page's language. */
  readonly text: WireServerText | undefined;

  constructor(code: ApiErrorCode, message: string, status = 0, text?: WireServerText) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.text = text;
  }
}

const isServerText = TypeCompiler.Compile(ServerTextSchema);

/** The `text` of an error body, when it has a well-formed one. */
export function serverTextOf(body: unknown): WireServerText | undefined {
  const candidate = (body as { text?: unknown } | null | undefined)?.text;
  return isServerText.Check(candidate) ? candidate : undefined;
}

/** Normalises anything thrown into {code, message} for display. */
export function toErrorInfo(error: unknown): { code: string; message: string; text?: WireServerText } {
  if (error instanceof ApiError)
    return error.text
      ? { code: error.code, message: error.message, text: error.text }
      : { code: error.code, message: error.message };
  if (error instanceof Error) return { code: 'PG_ERR_CLIENT', message: error.message };
  return { code: 'PG_ERR_CLIENT', message: String(error) };
}

const isPlaygroundInfo = TypeCompiler.Compile(PlaygroundInfo);
const isRunDetail = TypeCompiler.Compile(RunDetail);
const isWorkerInfo = TypeCompiler.Compile(WorkerInfo);
const isSinkInfo = TypeCompiler.Compile(SinkInfo);
const isSocketOptions = TypeCompiler.Compile(SocketOptions);

function isErrorBody(value: unknown): value is { code: string; message: string } {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { code?: unknown; message?: unknown };
  return typeof v.code === 'string' && typeof v.message === 'string';
}

/** One JSON request; failures become ApiError (used by the other *-api.ts files too). */
export function request(method: string, path: string, body?: unknown): Promise<unknown> {
  return send(method, path, body === undefined ? undefined : JSON.stringify(body));
}

/** A request whose body is JSON text already (an import file, sent as it was read: it may be large). */
export function requestJsonText(method: string, path: string, json: string): Promise<unknown> {
  return send(method, path, json);
}

async function send(method: string, path: string, json: string | undefined): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: {
        ...(json === undefined
          ? { accept: 'application/json' }
          : { 'content-type': 'application/json', accept: 'application/json' }),
        ...sessionHeaders(), // an embedded page's own visitor (embed.ts)
      },
      body: json,
    });
  } catch (error) {
    throw new ApiError('PG_ERR_NETWORK', `Cannot reach the server (${(error as Error).message}).`);
  }
  // (a test's stand-in for fetch may answer without headers)
  adoptSignedSession(response.headers?.get(SESSION_HEADER) ?? null);
  const text = await response.text();
  let parsed: unknown = undefined;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  if (!response.ok) {
    if (isErrorBody(parsed)) throw new ApiError(parsed.code, parsed.message, response.status, serverTextOf(parsed));
    throw new ApiError(
      'PG_ERR_HTTP',
      `${method} ${path} failed: HTTP ${response.status} ${response.statusText}`.trim(),
      response.status,
    );
  }
  return parsed;
}

function expect<T>(value: unknown, check: (v: unknown) => boolean, what: string): T {
  if (!check(value)) throw new ApiError('PG_ERR_BAD_RESPONSE', `The server answered with an unexpected ${what}.`);
  return value as T;
}

function playgroundPath(id: string): string {
  return `/api/playgrounds/${encodeURIComponent(id)}`;
}

/** GET /api/scenarios */
export async function listScenarios(): Promise<ScenarioInfo[]> {
  return expect<ScenarioInfo[]>(await request('GET', '/api/scenarios'), Array.isArray, 'scenario list');
}

/** POST /api/playgrounds: a fresh playground (the tutorial scenario unless told otherwise). */
export async function createPlayground(
  body: CreatePlaygroundBody = { scenario: 'tutorial' },
): Promise<PlaygroundInfoT> {
  return expect(await request('POST', '/api/playgrounds', body), (v) => isPlaygroundInfo.Check(v), 'playground');
}

/** GET /api/playgrounds/:id (ApiError code PG_ERR_NOT_FOUND when it is gone). */
export async function getPlayground(id: string): Promise<PlaygroundInfoT> {
  return expect(await request('GET', playgroundPath(id)), (v) => isPlaygroundInfo.Check(v), 'playground');
}

/** PATCH /api/playgrounds/:id/params (PG_ERR_RUN_ACTIVE while a run is in progress). */
export async function patchParams(id: string, params: RunParamsPatch): Promise<PlaygroundInfoT> {
  return expect(
    await request('PATCH', `${playgroundPath(id)}/params`, params),
    (v) => isPlaygroundInfo.Check(v),
    'playground',
  );
}

function hasRun(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { run?: unknown }).run === 'string';
}

/** POST /api/playgrounds/:id/runs: starts a run, returns its id. */
export async function startRun(id: string, params?: RunParamsPatch): Promise<string> {
  const body = params === undefined ? {} : { params };
  return expect<{ run: string }>(await request('POST', `${playgroundPath(id)}/runs`, body), hasRun, 'run').run;
}

/** POST /api/playgrounds/:id/runs/stop (PG_ERR_NO_RUN when nothing runs). */
export async function stopRun(id: string): Promise<string> {
  return expect<{ run: string }>(await request('POST', `${playgroundPath(id)}/runs/stop`), hasRun, 'run').run;
}

/** GET /api/playgrounds/:id/runs/:run */
export async function getRun(id: string, run: string): Promise<RunDetailT> {
  return expect(
    await request('GET', `${playgroundPath(id)}/runs/${encodeURIComponent(run)}`),
    (v) => isRunDetail.Check(v),
    'run detail',
  );
}

function workerPath(id: string, worker: string): string {
  return `${playgroundPath(id)}/workers/${encodeURIComponent(worker)}`;
}

/** POST /api/playgrounds/:id/workers: a new worker (during a run it joins the live pipeline at once). */
export async function addWorker(id: string, worker: NewWorker): Promise<WorkerInfoT> {
  return expect(await request('POST', `${playgroundPath(id)}/workers`, worker), (v) => isWorkerInfo.Check(v), 'worker');
}

/** PATCH /api/playgrounds/:id/workers/:worker: another transport or work time (live: it reconnects). */
export async function updateWorker(id: string, worker: string, patch: WorkerPatch): Promise<WorkerInfoT> {
  return expect(await request('PATCH', workerPath(id, worker), patch), (v) => isWorkerInfo.Check(v), 'worker');
}

/** DELETE /api/playgrounds/:id/workers/:worker (live: tasks queued for it are lost). */
export async function removeWorker(id: string, worker: string): Promise<void> {
  await request('DELETE', workerPath(id, worker));
}

/** POST /api/playgrounds/:id/workers/:worker/signal: kill, stop (hang), cont (resume) or restart a process worker. */
export async function signalWorker(id: string, worker: string, signal: WorkerSignal): Promise<void> {
  await request('POST', `${workerPath(id, worker)}/signal`, { signal });
}

/** PATCH /api/playgrounds/:id/sink (between runs only). */
export async function patchSink(id: string, patch: SinkPatch): Promise<SinkInfoT> {
  return expect(await request('PATCH', `${playgroundPath(id)}/sink`, patch), (v) => isSinkInfo.Check(v), 'sink');
}

/** PATCH /api/playgrounds/:id/options: socket options, partial. */
export async function patchOptions(id: string, patch: SocketOptionsPatch): Promise<SocketOptionsT> {
  return expect(
    await request('PATCH', `${playgroundPath(id)}/options`, patch),
    (v) => isSocketOptions.Check(v),
    'socket options',
  );
}

/** What this browser's session may do in a playground (see docs/api.md#visitors-and-roles). */
export type Role = 'owner' | 'driver' | 'watcher';

function isRole(value: unknown): value is Role {
  return value === 'owner' || value === 'driver' || value === 'watcher';
}

/** GET /api/playgrounds/:id/access: this session's role (PG_ERR_NOT_FOUND when it has none). */
export async function getRole(id: string): Promise<Role> {
  const body = await request('GET', `${playgroundPath(id)}/access`);
  return expect<{ role: Role }>(body, (v) => isRole((v as { role?: unknown } | null)?.role), 'role').role;
}

/** POST /api/playgrounds/:id/join: a watch or invite link's token gives this session its role. */
export async function joinPlayground(id: string, token: string): Promise<{ role: Role; playground: PlaygroundInfoT }> {
  return expect(
    await request('POST', `${playgroundPath(id)}/join`, { token }),
    (v) =>
      isRole((v as { role?: unknown } | null)?.role) &&
      isPlaygroundInfo.Check((v as { playground?: unknown }).playground),
    'role',
  );
}

/** PUT /api/playgrounds/:id/presenter: what the playground's watchers follow (presenter mode, SPEC [S6]). */
export async function setPresenter(id: string, state: PresenterState): Promise<void> {
  await request('PUT', `${playgroundPath(id)}/presenter`, state);
}

/** GET /api/playgrounds/:id/links: the owner's watch and invite links. */
export async function getLinks(id: string): Promise<{ watch: string; invite: string }> {
  return expect(
    await request('GET', `${playgroundPath(id)}/links`),
    (v) =>
      typeof (v as { watch?: unknown } | null)?.watch === 'string' &&
      typeof (v as { invite?: unknown }).invite === 'string',
    'links',
  );
}
