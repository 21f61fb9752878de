/**
 * One browser tab's view of one playground: finds or creates the playground (?p=<id>), keeps the event stream
 * open, folds events into RunState, and performs the user's actions through the HTTP API. Components read its
 * state and call its methods; it is the only place that fetches or opens sockets.
 */
import { LIMITS, type PlaygroundInfo, type RunParams, type RunParamsPatch } from '../../shared/protocol/index.ts';
import * as api from './api.ts';
import { ApiError, toErrorInfo } from './api.ts';
import { FrameLoop } from './frame-loop.svelte.ts';
import { RunState, MESSAGES_SHOWN } from './run-state.svelte.ts';
import { StreamClient, type ConnectionStatus, type EventsFrame } from './stream-client.svelte.ts';

/** The HTTP action in flight, if any (actions run one at a time). */
export type PendingAction = 'boot' | 'start' | 'stop' | 'params' | null;

/** An error shown to the user: the server's code and message. */
export interface ErrorInfo {
  code: string;
  message: string;
}

/** Parses the interval field: an integer within LIMITS.intervalMs, or an error to show next to it. */
export function parseInterval(text: string): { ok: true; value: number } | { ok: false; message: string } {
  const trimmed = text.trim();
  const { min, max } = LIMITS.intervalMs;
  if (!/^\d+$/.test(trimmed)) return { ok: false, message: `Enter whole milliseconds, ${min} to ${max}.` };
  const value = Number(trimmed);
  if (value < min || value > max) return { ok: false, message: `Must be between ${min} and ${max} ms.` };
  return { ok: true, value };
}

/** Delay before retrying to reach the server at start-up (ms). */
const BOOT_RETRY_MS = 3000;

/** The tab's playground: bootstrap, stream, run state and actions. */
export class PlaygroundSession {
  info = $state.raw<PlaygroundInfo | null>(null);
  error = $state.raw<ErrorInfo | null>(null);
  pending = $state<PendingAction>('boot');
  /** Text in the interval field while the user edits it (null: show the playground's value). */
  intervalDraft = $state<string | null>(null);
  stream = $state.raw<StreamClient | null>(null);
  /** Run id the server gave us whose run:started has not arrived yet. */
  awaitingRun = $state<string | null>(null);

  readonly run = new RunState();
  readonly loop = new FrameLoop({ onFrame: (now) => this.run.tick(now) });

  readonly connection: ConnectionStatus = $derived(this.stream?.status ?? 'connecting');
  readonly isRunActive = $derived(
    this.pending === 'start' ||
      this.run.status === 'running' ||
      (this.awaitingRun !== null && this.awaitingRun !== this.run.runId) ||
      (this.info?.activeRun != null && this.info.activeRun !== this.run.runId),
  );
  /** Parameters of what the diagram shows: the run's, or the playground's before any run. */
  readonly viewParams: RunParams | null = $derived(this.run.params ?? this.info?.params ?? null);
  readonly showBuiltInWorkers = $derived(this.viewParams?.builtInWorkers ?? true);
  readonly showExternal = $derived(
    !this.showBuiltInWorkers || this.run.externalPeers > 0 || this.run.externalPeersMax > 0,
  );
  readonly intervalText = $derived(this.intervalDraft ?? String(this.info?.params.intervalMs ?? ''));
  readonly intervalError = $derived.by(() => {
    if (this.intervalDraft === null) return null;
    const parsed = parseInterval(this.intervalDraft);
    return parsed.ok ? null : parsed.message;
  });
  readonly runLabel = $derived(
    this.run.status === 'ended' ? `ended (${this.run.endReason ?? 'completed'})` : this.isRunActive ? 'running' : 'idle',
  );
  readonly runStateKey = $derived(this.run.status === 'ended' ? 'ended' : this.isRunActive ? 'running' : 'idle');

  #isClosed = false;
  #isRecovering = false;
  #bootTimer: ReturnType<typeof setTimeout> | null = null;
  #filledRun: string | null = null;
  #queue: Promise<void> = Promise.resolve();

  /** Finds or creates the playground and connects (idempotent). */
  start(): void {
    if (this.#isClosed || this.info || this.#bootTimer) return;
    void this.#boot();
  }

  /** Closes the stream and the animation loop (idempotent). */
  close(): void {
    this.#isClosed = true;
    if (this.#bootTimer) clearTimeout(this.#bootTimer);
    this.#bootTimer = null;
    this.stream?.close();
    this.loop.close();
  }

  dismissError(): void {
    this.error = null;
  }

  editInterval(text: string): void {
    this.intervalDraft = text;
  }

  /** Sends the edited interval if it is valid and differs from the playground's. */
  commitInterval(): Promise<void> {
    return this.#enqueue('params', async (id) => {
      const draft = this.intervalDraft;
      if (draft === null) return;
      const parsed = parseInterval(draft);
      if (!parsed.ok) return;
      if (parsed.value !== this.info?.params.intervalMs) this.#setInfo(await api.patchParams(id, { intervalMs: parsed.value }));
      this.intervalDraft = null;
    });
  }

  setIntervalMs(ms: number): Promise<void> {
    this.intervalDraft = null;
    return this.#enqueue('params', async (id) => {
      if (ms !== this.info?.params.intervalMs) this.#setInfo(await api.patchParams(id, { intervalMs: ms }));
    });
  }

  setBuiltInWorkers(isOn: boolean): Promise<void> {
    return this.#enqueue('params', async (id) => {
      if (isOn !== this.info?.params.builtInWorkers) this.#setInfo(await api.patchParams(id, { builtInWorkers: isOn }));
    });
  }

  /** Starts a run, first sending an interval still being edited (a click on Run does not wait for blur). */
  startRun(): Promise<void> {
    return this.#enqueue('start', async (id) => {
      if (this.run.status === 'running' || (this.awaitingRun !== null && this.awaitingRun !== this.run.runId)) return;
      if (this.intervalDraft !== null) {
        const parsed = parseInterval(this.intervalDraft);
        if (!parsed.ok) throw new ApiError('PG_ERR_VALIDATION', `Interval: ${parsed.message}`);
        const patch: RunParamsPatch = { intervalMs: parsed.value };
        if (parsed.value !== this.info?.params.intervalMs) this.#setInfo(await api.patchParams(id, patch));
        this.intervalDraft = null;
      }
      const run = await api.startRun(id);
      if (run !== this.run.runId) this.awaitingRun = run;
    });
  }

  stopRun(): Promise<void> {
    return this.#enqueue('stop', async (id) => {
      await api.stopRun(id);
    });
  }

  /**
   * Runs actions one after another, so a Run click waits for the params change its blur just triggered.
   * A failure becomes the visible error; a success clears it.
   */
  #enqueue(kind: Exclude<PendingAction, 'boot' | null>, action: (id: string) => Promise<void>): Promise<void> {
    const next = this.#queue.then(async () => {
      const id = this.info?.id;
      if (!id || this.#isClosed) return;
      this.pending = kind;
      try {
        await action(id);
        this.error = null;
      } catch (error) {
        this.error = toErrorInfo(error);
      } finally {
        this.pending = null;
      }
    });
    this.#queue = next;
    return next;
  }

  async #boot(): Promise<void> {
    this.#bootTimer = null;
    this.pending = 'boot';
    try {
      const wanted = new URL(location.href).searchParams.get('p');
      let info: PlaygroundInfo | null = null;
      if (wanted) {
        try {
          info = await api.getPlayground(wanted);
        } catch (error) {
          if (!(error instanceof ApiError && error.code === 'PG_ERR_NOT_FOUND')) throw error;
        }
      }
      info ??= await api.createPlayground({ scenario: 'tutorial' });
      if (this.#isClosed) return;
      this.pending = null;
      this.#attach(info);
      if (this.error?.code === 'PG_ERR_NETWORK') this.error = null;
    } catch (error) {
      if (this.#isClosed) return;
      this.error = toErrorInfo(error);
      this.#bootTimer = setTimeout(() => void this.#boot(), BOOT_RETRY_MS);
    }
  }

  /** Points the tab (URL, stream, state) at a playground. */
  #attach(info: PlaygroundInfo): void {
    const url = new URL(location.href);
    if (url.searchParams.get('p') !== info.id) {
      url.searchParams.set('p', info.id);
      history.replaceState(history.state, '', url);
    }
    this.stream?.close();
    this.run.reset(info);
    this.#setInfo(info);
    const protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const stream = new StreamClient({
      url: `${protocol}//${location.host}/api/playgrounds/${encodeURIComponent(info.id)}/stream`,
      onHello: (playground, isReset) => {
        if (isReset) this.run.reset(playground);
        this.#setInfo(playground);
      },
      onEvents: (frame) => this.#onEvents(frame),
      onPlayground: (playground) => this.#setInfo(playground),
      onServerError: (code, message) => {
        if (code === 'PG_ERR_NOT_FOUND') void this.#recover();
        else this.error = { code, message };
      },
      onConnectFailure: (failures) => {
        if (failures >= 2) void this.#recover();
      },
    });
    this.stream = stream;
    stream.start();
  }

  #setInfo(info: PlaygroundInfo): void {
    this.info = info;
    this.run.seed(info);
  }

  #onEvents(frame: EventsFrame): void {
    this.run.applyFrame(frame, performance.now());
    if (this.awaitingRun !== null && this.run.runId === this.awaitingRun) this.awaitingRun = null;
    const info = this.info;
    // playground:updated is about params; run starts and ends arrive as events, so keep activeRun in step here.
    if (info && info.activeRun !== null && info.activeRun === this.run.runId && this.run.status === 'ended') {
      this.info = { ...info, activeRun: null };
    }
    this.loop.wake();
    if (this.run.status === 'ended') void this.#fillMessages();
  }

  /** Sampled streams (or a late join) leave gaps in the message lists; the run detail has them all. */
  async #fillMessages(): Promise<void> {
    const id = this.info?.id;
    const run = this.run.runId;
    if (!id || !run || this.#filledRun === run) return;
    const isIncomplete = this.run.workers.some((w) => w.messages.length < Math.min(w.count, MESSAGES_SHOWN));
    if (!isIncomplete) return;
    this.#filledRun = run;
    try {
      const detail = await api.getRun(id, run);
      this.run.fillMessages(run, detail.messages);
    } catch {
      // Only a nicer list is lost; counts are exact already.
    }
  }

  /** The stream keeps failing or says the playground is gone: make sure it still exists, else start a new one. */
  async #recover(): Promise<void> {
    const id = this.info?.id;
    if (!id || this.#isRecovering || this.#isClosed) return;
    this.#isRecovering = true;
    try {
      await api.getPlayground(id);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'PG_ERR_NOT_FOUND') {
        try {
          const info = await api.createPlayground({ scenario: 'tutorial' });
          if (!this.#isClosed) {
            this.#attach(info);
            this.error = { code: 'PG_ERR_NOT_FOUND', message: `Playground ${id} is gone (server restarted?); started a new one.` };
          }
        } catch (createError) {
          this.error = toErrorInfo(createError);
        }
      }
    } finally {
      this.#isRecovering = false;
    }
  }
}
