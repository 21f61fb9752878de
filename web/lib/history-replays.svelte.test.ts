/**
 * HistoryController with a real live session and the replays it opens, against a fetch answering as the server
 * does (the list's own retries are in history.svelte.test.ts): the list reloads on the live stream's news, not on
 * history; the replay opened from the address or the list (its permalink, and back to the live playground's
 * address); rename, publish and delete; the import's pre-check; and "run again".
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  PROTOCOL_VERSION,
  type PlaygroundEvent,
  type PlaygroundInfo,
  type ServerMessage,
} from '../../shared/protocol/index.ts';
import type { RecordedRun, RecordedRunDetail } from '../../shared/protocol/history.ts';
import { VALID_SERVER_MESSAGES } from '../../shared/protocol/fixtures.ts';
import { FakeFetch, SteppedFrames, frameOf, stubPage, tutorialRun } from '../../test/page-fakes.ts';
import { HistoryController } from './history.svelte.ts';
import { PlaygroundSession } from './session.svelte.ts';

type Ev<K extends PlaygroundEvent['type']> = Extract<PlaygroundEvent, { type: K }>;

const events = tutorialRun('run-1');
const started = events[0] as Ev<'run:started'>;
const template = (VALID_SERVER_MESSAGES.hello as Extract<ServerMessage, { type: 'hello' }>).playground;

function recorded(id: string, owned = true): RecordedRun {
  return {
    id,
    name: `Run ${id}`,
    defaultName: { scenario: 'tutorial', n: 1 } as unknown as RecordedRun['defaultName'],
    playground: 'pg-1',
    scenario: 'tutorial',
    startedAt: '2025-01-01T10:00:00.000Z',
    endedAt: '2025-01-01T10:00:03.000Z',
    durationMs: 3000,
    status: 'ended',
    reason: 'completed',
    summary: (events.at(-1) as Ev<'run:ended'>).summary,
    eventCount: events.length,
    firstSeq: 1,
    lastSeq: events.length,
    lostEvents: 0,
    workers: started.workers,
    source: 'live',
    owned,
  };
}

function detailOf(run: RecordedRun): RecordedRunDetail {
  const { defaultName: _, ...rest } = run;
  return { ...rest, params: started.params, endpoints: started.endpoints, protocolVersion: PROTOCOL_VERSION };
}

describe('HistoryController with its replays', () => {
  let fetch: FakeFetch;
  let frames: SteppedFrames;
  let live: PlaygroundSession;
  let history: HistoryController;
  let page: { readonly href: string };
  let runs: RecordedRun[];

  function start(href: string): HistoryController {
    page = stubPage(href);
    live = new PlaygroundSession({ loop: frames.loop });
    live.info = { ...structuredClone(template), id: 'pg-live', lesson: 'tutorial' } as PlaygroundInfo;
    history = new HistoryController(live, { loop: frames.loop });
    history.start();
    return history;
  }

  beforeEach(() => {
    fetch = new FakeFetch();
    frames = new SteppedFrames();
    runs = [recorded('run-2'), recorded('run-1')];
    vi.stubGlobal('fetch', fetch.fetch);
    fetch.on('GET', '/api/runs', () => ({ body: { runs, nextBefore: null, total: runs.length } }));
    for (const id of ['run-1', 'run-2']) {
      fetch.on('GET', `/api/runs/${id}`, () => ({ body: detailOf(runs.find((r) => r.id === id) ?? recorded(id)) }));
      fetch.on('GET', `/api/runs/${id}/events`, () => ({ body: { run: id, events: tutorialRun(id), nextSeq: null } }));
    }
  });

  afterEach(() => {
    history?.close();
    live?.close();
    vi.unstubAllGlobals();
  });

  const listings = (): number => fetch.calls.filter((call) => call.path.startsWith('/api/runs?')).length;

  it('lists the runs, and lists them again when the live stream says a run started or ended, not on history', async () => {
    start('http://127.0.0.1:8080/?p=pg-live');
    await vi.waitUntil(() => !history.isLoading && history.runs.length === 2, { timeout: 2000, interval: 5 });
    expect(history.total).toBe(2);
    expect(listings()).toBe(1);

    // History caught up on connection: not news.
    live.run.applyFrame(frameOf(events.slice(0, 3), { historyUntil: 3 }), 0);
    expect(listings()).toBe(1);
    // A run ending now: the list changes.
    live.run.applyFrame(frameOf(events.slice(3), { historyUntil: 3 }), 10);
    await vi.waitUntil(() => listings() === 2, { timeout: 2000, interval: 5 });
  });

  it('opens the run the address names, puts a run opened from the list at its permalink, and comes back live', async () => {
    start('http://127.0.0.1:8080/?run=run-1');
    expect(history.replay?.runId).toBe('run-1');
    await vi.waitUntil(() => history.replay?.isLoading === false, { timeout: 2000, interval: 5 });
    expect(history.replay!.run.runId).toBe('run-1');

    history.open('run-2');
    expect(history.replay?.runId).toBe('run-2');
    expect(page.href).toBe('http://127.0.0.1:8080/?run=run-2');

    history.closeReplay();
    expect(history.replay).toBeNull();
    const address = new URL(page.href);
    expect([
      address.searchParams.get('p'),
      address.searchParams.get('lesson'),
      address.searchParams.has('run'),
    ]).toEqual(['pg-live', 'tutorial', false]);
  });

  it('renames, publishes and deletes a run, in the list and in the replay open', async () => {
    fetch.on('PATCH', '/api/runs/run-2', ({ body }) => ({ body: { ...detailOf(runs[0]!), ...(body as object) } }));
    fetch.on('DELETE', '/api/runs/run-2', () => ({ status: 204 }));
    start('http://127.0.0.1:8080/?p=pg-live');
    await vi.waitUntil(() => history.runs.length === 2, { timeout: 2000, interval: 5 });
    history.open('run-2');
    await vi.waitUntil(() => history.replay?.detail !== null, { timeout: 2000, interval: 5 });

    expect(await history.rename('run-2', '  Round robin  ')).toBe(true);
    expect(history.runs[0]).toMatchObject({ id: 'run-2', name: 'Round robin' });
    expect(history.runs[0]!.defaultName).toBeUndefined();
    expect(history.replay!.detail!.name).toBe('Round robin');
    expect(await history.rename('run-2', '   ')).toBe(false);

    expect(await history.setPublic('run-2', true)).toBe(true);
    expect(history.runs[0]!.public).toBe(true);
    expect(history.replay!.detail!.public).toBe(true);

    history.toggleCompare('run-2');
    await history.remove('run-2');
    expect(history.replay).toBeNull();
    expect(history.runs.map((r) => r.id)).toEqual(['run-1']);
    expect(history.total).toBe(1);
    expect(history.compared).toEqual([]);
    expect(fetch.changes().map((call) => call.method)).toEqual(['PATCH', 'PATCH', 'DELETE']);
  });

  it('refuses an import the page can tell is broken without sending it, and sends the others', async () => {
    fetch.on('POST', '/api/runs/import', () => ({
      status: 400,
      body: { code: 'PG_ERR_IMPORT', message: 'The file is not a run export.' },
    }));
    start('http://127.0.0.1:8080/?p=pg-live');
    await history.importFile(new File(['{"format": "'], 'broken.json'));
    expect(history.importMessage?.ok).toBe(false);
    await history.importFile(
      new File([JSON.stringify({ format: 'some-other-tool/session', version: 1 })], 'foreign.json'),
    );
    expect(history.importMessage).toMatchObject({ ok: false });
    expect(fetch.changes()).toEqual([]);
  });

  it('runs a replayed run again in a new playground with its settings, and starts it there once', async () => {
    fetch.on('POST', '/api/playgrounds', ({ body }) => ({
      status: 201,
      body: {
        ...structuredClone(template),
        id: 'pg-again',
        ...(body as object),
        workers: started.workers,
      } as PlaygroundInfo,
    }));
    start('http://127.0.0.1:8080/?run=run-1');
    await vi.waitUntil(() => history.replay?.started !== null, { timeout: 2000, interval: 5 });
    await history.runAgain();
    expect(fetch.changes()).toEqual([
      { method: 'POST', path: '/api/playgrounds', body: { scenario: 'tutorial', params: started.params } },
    ]);
    const address = new URL(page.href);
    expect([address.searchParams.get('p'), address.searchParams.get('again'), address.searchParams.has('run')]).toEqual(
      ['pg-again', '1', false],
    );
    expect(history.isAgainPending).toBe(true);
    history.startAgain();
    expect(history.isAgainPending).toBe(false);
  });
});
