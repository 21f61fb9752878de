/**
 * The history of recorded runs for the page: the list (paged), rename, delete, make public, import, the run being
 * replayed (?run=<id> is its permalink), the two runs being compared, and "run again with the same settings".
 * Rename, delete and publish are the owner's: the list says which runs are the visitor's (`owned`).
 */
import { createContext, untrack } from 'svelte';
import type { RecordedRun } from '../../shared/protocol/history.ts';
import { checkRunExport } from '../../shared/protocol/history.ts';
import type { RunParamsPatch } from '../../shared/protocol/index.ts';
import * as api from './api.ts';
import { localize, t } from './i18n/index.svelte.ts';
import { toErrorInfo } from './api.ts';
import * as historyApi from './history-api.ts';
import { permalink, runFromUrl, sameWorkers, settingsOf, withRun } from './replay.ts';
import { ReplaySession, type ReplayOptions } from './replay-session.svelte.ts';
import type { PlaygroundSession } from './session.svelte.ts';

/** Runs fetched per page of the list. */
export const RUNS_PER_PAGE = 10;
/** URL flag set by "run again": start the run once the new playground's page is connected. */
const AGAIN_FLAG = 'again';
/** How many times the list looks again for a run the stream announced before its row was stored (0.25 s, doubling). */
const AWAITED_RUN_TRIES = 5;

export class HistoryController {
  runs = $state.raw<RecordedRun[]>([]);
  total = $state(0);
  nextBefore = $state<string | null>(null);
  isLoading = $state(false);
  /** The last failure of a list, rename, delete or run-again action. */
  error = $state<string | null>(null);
  /** The import's refusal (the server's message, or the browser's pre-check). */
  importMessage = $state.raw<{ ok: boolean; text: string } | null>(null);
  replay = $state.raw<ReplaySession | null>(null);
  /** Up to two run ids to compare. */
  compared = $state.raw<string[]>([]);
  isStartingAgain = $state(false);

  readonly live: PlaygroundSession;
  readonly #replayOptions: ReplayOptions;
  #pollTimer: ReturnType<typeof setTimeout> | null = null;
  #isClosed = false;
  /** A live run the stream announced that the list has not shown yet, and how often we looked for it since. */
  #awaited: { run: string; tries: number } | null = null;
  #stopListening: (() => void) | null = null;

  /** `options` go to the replays it opens (tests give them their frame loop). */
  constructor(live: PlaygroundSession, options: ReplayOptions = {}) {
    this.live = live;
    this.#replayOptions = options;
  }

  /** Loads the list and opens the run named in the URL, if any. */
  start(): void {
    void this.refresh();
    const run = runFromUrl(location.href);
    if (run) this.open(run, false);
    window.addEventListener('popstate', this.#onPopState);
    // NOTE: the list is reloaded when the live stream says a run started or ended, not from an $effect: an effect
    // that calls refresh() also tracks the state refresh() reads (this.runs) and writes, so it re-ran on every
    // answer and the page fetched the list 10-18 times a second, forever, once a run had happened.
    this.#stopListening = this.live.run.onFrame((frame) => {
      const news = frame.events.filter(
        (event) => event.seq > frame.historyUntil && (event.type === 'run:started' || event.type === 'run:ended'),
      );
      if (news.length === 0) return;
      this.#awaited = { run: news.at(-1)!.run, tries: 0 };
      void this.refresh();
    });
  }

  close(): void {
    this.#isClosed = true;
    this.#stopListening?.();
    this.#stopListening = null;
    if (this.#pollTimer) clearTimeout(this.#pollTimer);
    window.removeEventListener('popstate', this.#onPopState);
    this.replay?.close();
  }

  #onPopState = (): void => {
    const run = runFromUrl(location.href);
    if (run === (this.replay?.runId ?? null)) return;
    if (run) this.open(run, false);
    else this.closeReplay(false);
  };

  /** Reloads the first page (keeps as many rows as were shown). */
  async refresh(): Promise<void> {
    if (this.#pollTimer) clearTimeout(this.#pollTimer);
    this.#pollTimer = null;
    this.isLoading = true;
    try {
      // Untracked: a caller inside an effect must not come to depend on the list this call replaces.
      const shown = untrack(() => this.runs.length);
      const page = await historyApi.listRuns(Math.max(RUNS_PER_PAGE, Math.min(200, shown)));
      this.runs = page.runs;
      this.total = page.total;
      this.nextBefore = page.nextBefore;
      this.compared = this.compared.filter((id) => page.runs.some((r) => r.id === id));
      this.error = null;
      // A run being recorded now: its row changes when it ends.
      if (!this.#isClosed && page.runs.some((r) => r.status === 'running')) {
        this.#pollTimer = setTimeout(() => void this.refresh(), 1000);
      } else if (!this.#isClosed && this.#awaited) {
        // The stream can announce a run before the writer thread has stored its row (a short run can even end
        // first): look again a few times, ever more slowly, then give up (the next run's news reloads anyway).
        const awaited = this.#awaited;
        if (page.runs.some((r) => r.id === awaited.run) || awaited.tries >= AWAITED_RUN_TRIES) this.#awaited = null;
        else this.#pollTimer = setTimeout(() => void this.refresh(), 250 * 2 ** awaited.tries++);
      }
    } catch (error) {
      this.error = localize(toErrorInfo(error));
    } finally {
      this.isLoading = false;
    }
  }

  async loadMore(): Promise<void> {
    if (!this.nextBefore) return;
    this.isLoading = true;
    try {
      const page = await historyApi.listRuns(RUNS_PER_PAGE, this.nextBefore);
      const known = new Set(this.runs.map((r) => r.id));
      this.runs = this.runs.concat(page.runs.filter((r) => !known.has(r.id)));
      this.nextBefore = page.nextBefore;
      this.total = page.total;
    } catch (error) {
      this.error = localize(toErrorInfo(error));
    } finally {
      this.isLoading = false;
    }
  }

  /** Replays a run on the diagram; `push` puts its permalink (`?run=<id>` alone) in the address bar. */
  open(id: string, push = true): void {
    if (this.replay?.runId === id) return;
    this.replay?.close();
    const replay = new ReplaySession(id, this.#replayOptions);
    this.replay = replay;
    if (push) history.pushState(history.state, '', permalink(location.href, id));
    void replay.open();
  }

  /** Back to the live view; `push` puts the live playground's address back in the address bar. */
  closeReplay(push = true): void {
    this.replay?.close();
    this.replay = null;
    if (push && runFromUrl(location.href) !== null) history.pushState(history.state, '', this.#liveHref());
  }

  /** The address of the live view: its playground (and lesson), as the session writes it when it attaches. */
  #liveHref(): string {
    const info = this.live.info;
    if (!info) return withRun(location.href, null);
    const url = new URL(location.href);
    url.search = '';
    url.hash = '';
    url.searchParams.set('p', info.id);
    if (info.lesson) url.searchParams.set('lesson', info.lesson);
    return url.toString();
  }

  async rename(id: string, name: string): Promise<boolean> {
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > 100) return false;
    try {
      const detail = await historyApi.renameRun(id, trimmed);
      // A typed name has no parts (defaultName): it is shown as typed, in every language.
      const renamed = <R extends { name: string; defaultName?: unknown }>({ defaultName: _parts, ...run }: R) => ({
        ...run,
        name: detail.name,
      });
      this.runs = this.runs.map((r) => (r.id === id ? renamed(r) : r));
      if (this.replay?.runId === id && this.replay.detail) this.replay.detail = renamed(this.replay.detail);
      this.error = null;
      return true;
    } catch (error) {
      this.error = localize(toErrorInfo(error));
      return false;
    }
  }

  /**
   * Makes a run public (anyone with its permalink may replay it, read-only) or private again. The owner's alone:
   * the panel offers it only on runs the list says are `owned`.
   */
  async setPublic(id: string, isPublic: boolean): Promise<boolean> {
    try {
      const detail = await historyApi.setRunPublic(id, isPublic);
      this.runs = this.runs.map((r) => (r.id === id ? { ...r, public: detail.public } : r));
      if (this.replay?.runId === id && this.replay.detail)
        this.replay.detail = { ...this.replay.detail, public: detail.public };
      this.error = null;
      return true;
    } catch (error) {
      this.error = localize(toErrorInfo(error));
      return false;
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await historyApi.deleteRun(id);
      if (this.replay?.runId === id) this.closeReplay();
      this.runs = this.runs.filter((r) => r.id !== id);
      this.total = Math.max(0, this.total - 1);
      this.compared = this.compared.filter((c) => c !== id);
      this.error = null;
    } catch (error) {
      this.error = localize(toErrorInfo(error));
    }
  }

  toggleCompare(id: string): void {
    if (this.compared.includes(id)) this.compared = this.compared.filter((c) => c !== id);
    else this.compared = this.compared.concat(id).slice(-2);
  }

  /** Checks the file in the browser (fast, same rules as the server), then uploads it. */
  async importFile(file: File): Promise<void> {
    this.importMessage = null;
    let text: string;
    try {
      text = await file.text();
    } catch (error) {
      this.importMessage = { ok: false, text: localize(toErrorInfo(error)) };
      return;
    }
    // Small files are pre-checked here; the server checks every file anyway.
    if (file.size < 20 * 1024 * 1024) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        this.importMessage = { ok: false, text: t('history.badJson', { error: (error as Error).message }) };
        return;
      }
      const check = checkRunExport(parsed);
      if (!check.ok) {
        this.importMessage = { ok: false, text: localize(check) };
        return;
      }
    }
    try {
      const detail = await historyApi.importRun(text);
      this.importMessage = { ok: true, text: detail.name };
      await this.refresh();
    } catch (error) {
      this.importMessage = { ok: false, text: localize(toErrorInfo(error)) };
    }
  }

  /**
   * A new playground with the replayed run's scenario, parameters and workers; the page moves to it and starts
   * the run as soon as it is connected.
   */
  async runAgain(): Promise<void> {
    const started = this.replay?.started;
    if (!started || this.isStartingAgain) return;
    this.isStartingAgain = true;
    try {
      const settings = settingsOf(started);
      const info = await api.createPlayground({
        scenario: settings.scenario,
        params: settings.params as RunParamsPatch,
      });
      if (!sameWorkers(info.workers, settings.workers)) {
        for (const w of info.workers) await api.removeWorker(info.id, w.id);
        for (const w of settings.workers) await api.addWorker(info.id, w);
      }
      const url = new URL(withRun(location.href, null));
      url.searchParams.set('p', info.id);
      url.searchParams.set(AGAIN_FLAG, '1');
      location.assign(url.toString());
    } catch (error) {
      this.error = localize(toErrorInfo(error));
      this.isStartingAgain = false;
    }
  }

  /** After "run again" moved the page: whether the run should start now that the playground is connected. */
  get isAgainPending(): boolean {
    return new URL(location.href).searchParams.get(AGAIN_FLAG) === '1';
  }

  /** Starts the run "run again" asked for, once. */
  startAgain(): void {
    const url = new URL(location.href);
    if (url.searchParams.get(AGAIN_FLAG) !== '1') return;
    url.searchParams.delete(AGAIN_FLAG);
    history.replaceState(history.state, '', url);
    void this.live.startRun();
  }
}

export const [getHistory, setHistory] = createContext<HistoryController>();
