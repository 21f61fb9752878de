/**
 * The history API (`/api/runs*`, docs/recording.md): list, open, rename, delete, event windows, counters at t,
 * export links and import, through api.ts's request (the session header of an embedded page included). Failures
 * become ApiError with the server's code and message.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import {
  MAX_EVENT_WINDOW,
  RecordedRunDetail,
  type EventWindow,
  type RecordedRunDetail as RecordedRunDetailT,
  type RunCountersAt,
  type RunPage,
} from '../../shared/protocol/history.ts';
import type { GraphRunStateAt } from '../../shared/protocol/graph-run-state.ts';
import { ApiError, request, requestJsonText } from './api.ts';

const isDetail = TypeCompiler.Compile(RecordedRunDetail);

function runPath(id: string): string {
  return `/api/runs/${encodeURIComponent(id)}`;
}

function detail(value: unknown): RecordedRunDetailT {
  if (!isDetail.Check(value)) throw new ApiError('PG_ERR_BAD_RESPONSE', 'The server answered with an unexpected run.');
  return value;
}

/** GET /api/runs: newest first; pass `nextBefore` back as `before` for older ones. */
export async function listRuns(limit = 20, before: string | null = null): Promise<RunPage> {
  const query = new URLSearchParams({ limit: String(limit) });
  if (before) query.set('before', before);
  const page = (await request('GET', `/api/runs?${query}`)) as RunPage | undefined;
  if (!page || !Array.isArray(page.runs))
    throw new ApiError('PG_ERR_BAD_RESPONSE', 'The server answered with an unexpected run list.');
  return page;
}

/** The run asked for is a graph run (issue 11): the patterns page replays it, on `?graph=<scenario>&run=<id>`. */
export class GraphRunError extends Error {
  constructor(readonly scenario: string) {
    super('A graph run: the patterns page replays it.');
  }
}

export async function getRecordedRun(id: string): Promise<RecordedRunDetailT> {
  const value = await request('GET', runPath(id));
  const graph = value as { kind?: unknown; scenario?: unknown } | null;
  if (graph?.kind === 'graph') throw new GraphRunError(String(graph.scenario));
  return detail(value);
}

export async function renameRun(id: string, name: string): Promise<RecordedRunDetailT> {
  return detail(await request('PATCH', runPath(id), { name }));
}

/** PATCH /api/runs/:id {public}: the owner lets anyone with the permalink read the run (or no longer). */
export async function setRunPublic(id: string, isPublic: boolean): Promise<RecordedRunDetailT> {
  return detail(await request('PATCH', runPath(id), { public: isPublic }));
}

export async function deleteRun(id: string): Promise<void> {
  await request('DELETE', runPath(id));
}

/** How a caller sends a request (api.ts's `request`; a replay may be handed another, a test's). */
export type Send = (method: string, path: string) => Promise<unknown>;

/**
 * GET /api/runs/:id/events (inclusive bounds; at most MAX_EVENT_WINDOW per call). The pipeline's replay and the
 * patterns page's (graph-replay.svelte.ts, which passes its own `send`) fetch their windows with it.
 */
export async function getEvents(
  id: string,
  range: { fromSeq?: number; toSeq?: number; fromT?: number; toT?: number; limit?: number; kind?: 'all' | 'topology' },
  send: Send = request,
): Promise<EventWindow> {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(range)) if (value !== undefined) query.set(key, String(value));
  if (!query.has('limit')) query.set('limit', String(MAX_EVENT_WINDOW));
  const window = (await send('GET', `${runPath(id)}/events?${query}`)) as EventWindow | undefined;
  if (!window || !Array.isArray(window.events))
    throw new ApiError('PG_ERR_BAD_RESPONSE', 'The server answered with an unexpected event window.');
  return window;
}

/** A time as the server's query strings take it: a plain decimal (at most 9 decimals, no exponent). */
function timeQuery(t: number): string {
  return Math.max(0, t)
    .toFixed(9)
    .replace(/\.?0+$/, '');
}

/** GET /api/runs/:id/counters?t= : exact totals over the events with t' <= t. */
export async function getCountersAt(id: string, t: number): Promise<RunCountersAt> {
  return (await request('GET', `${runPath(id)}/counters?t=${timeQuery(t)}`)) as RunCountersAt;
}

/**
 * GET /api/runs/:id/graph-state: a graph run at a moment (every event with t' <= t, or its first `count` events)
 * or, with neither, at its end: counters per node, newest bodies, refusals, whether it had ended.
 */
export async function getGraphStateAt(
  id: string,
  moment: { t: number } | { count: number } | null,
  send: Send = request,
): Promise<GraphRunStateAt> {
  const query = moment === null ? '' : 't' in moment ? `?t=${timeQuery(moment.t)}` : `?count=${moment.count}`;
  const state = (await send('GET', `${runPath(id)}/graph-state${query}`)) as GraphRunStateAt | undefined;
  if (!state || typeof state.count !== 'number' || typeof state.counters !== 'object')
    throw new ApiError('PG_ERR_BAD_RESPONSE', 'The server answered with an unexpected graph run state.');
  return state;
}

/** POST /api/runs/import with the file's text; 400 PG_ERR_IMPORT says what is wrong with it. */
export async function importRun(text: string): Promise<RecordedRunDetailT> {
  return detail(await requestJsonText('POST', '/api/runs/import', text));
}

export function exportJsonUrl(id: string): string {
  return `${runPath(id)}/export.json`;
}

export function exportCsvUrl(id: string): string {
  return `${runPath(id)}/export.csv`;
}
