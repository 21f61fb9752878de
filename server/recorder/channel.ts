/**
 * Where recorders hand their batches: a WriteChannel. Two kinds, same RunWriter underneath:
 *
 * - ThreadChannel (file stores, the server's default): a worker thread owns its own SQLite connection and does all
 *   the writing; the main thread only posts each batch, packed into typed arrays as its events arrived (packed.ts).
 *   The writer's work (~1-3 us an event) never runs on the event loop the pipeline shares. Should the thread die,
 *   the channel falls back to writing inline (events in flight are counted as dropped) and says so.
 * - InlineChannel (":memory:" stores, which a second connection cannot see; tests): the writer runs synchronously on
 *   the main thread when a recorder flushes.
 *
 * Reads (the history API) use the main thread's own connection; with WAL they never wait for the writer. The big
 * writes of the history API (importing, deleting a run of a million events: seconds of SQLite work) go through
 * the channel too, so they also stay off the event loop.
 */
import { Worker } from 'node:worker_threads';
import { WRITER_THREAD_ENTRY } from '../layout.ts';
import type { ErrorCode, ServerText, RecordedGraphRunDetail, RecordedRunDetail } from '../../shared/protocol/index.ts';

/** What an import answers: the stored run, of either kind (a graph export is imported as a graph run). */
type StoredRunDetail = RecordedRunDetail | RecordedGraphRunDetail;
import { importRun } from './export.ts';
import { isPacked, PackedBatch, packEvents, transferList, type EventBatch, type PackedEvents } from './packed.ts';
import { MEMORY, RunStore } from './store.ts';
import { RunWriter, type PlaygroundRef, type WriteReport } from './writer.ts';
import { RecordingStats, type ChannelOptions, type WriteChannel } from './store-api.ts';
import { CodedError } from '../errors.ts';

// The channel's contract (WriteChannel), its options and the server's counters are part of the storage interface.
export { RecordingStats, type ChannelOptions, type WriteChannel } from './store-api.ts';

/** How soon a run:ended whose batch failed is tried again. */
const RETRY_MS = 100;
/**
 * The writer thread's young generation. Every event it writes leaves short-lived garbage (the event, its JSON
 * text); with V8's default semi-spaces the thread spent about a third of its time in scavenges.
 */
const WRITER_YOUNG_GENERATION_MB = 32;
/** How long close() waits for the writer thread to finish before terminating it. */
const CLOSE_TIMEOUT_MS = 5000;

abstract class ReportingChannel {
  readonly stats: RecordingStats;
  readonly #onError: (error: Error) => void;

  constructor(options: ChannelOptions) {
    this.stats = options.stats ?? new RecordingStats();
    this.#onError = options.onError ?? ((error) => console.error(`Recording: ${error.message}`));
  }

  protected apply(report: WriteReport): void {
    this.stats.recordedEvents += report.recorded;
    this.stats.droppedEvents += report.dropped;
    this.stats.flushes += report.flushes;
    for (const error of report.errors) this.fail(error.message, error.at);
  }

  protected fail(message: string, at = new Date().toISOString()): void {
    this.stats.writeErrors++;
    this.stats.lastError = { message, at };
    try {
      this.#onError(new Error(message));
    } catch {
      // a logger that throws must not take the pipeline down either
    }
  }
}

/** Writes on the calling thread, synchronously. */
export class InlineChannel extends ReportingChannel implements WriteChannel {
  readonly inFlight = 0;
  readonly #store: RunStore;
  readonly #writer: RunWriter;
  #retry: NodeJS.Timeout | null = null;

  constructor(store: RunStore, options: ChannelOptions = {}) {
    super(options);
    this.#store = store;
    this.#writer = new RunWriter(store);
  }

  importRun(input: unknown, owner: string | null = null): Promise<StoredRunDetail> {
    try {
      return Promise.resolve(importRun(this.#store, input, owner));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  deleteRun(id: string): Promise<void> {
    try {
      this.#store.deleteRun(id);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  write(
    playground: PlaygroundRef,
    events: EventBatch,
    wallClock: [number, number][],
    overflow: [string, number][],
  ): void {
    // A packed batch (from a thread's channel whose thread died) is stored as the thread stores it, from its columns.
    const entries = isPacked(events) ? PackedBatch.of(events) : events.map((event) => ({ event, json: null }));
    this.#report(this.#writer.write({ playground, entries, wallClock, overflow }));
  }

  flushed(): Promise<void> {
    return Promise.resolve();
  }

  closePlayground(id: string): Promise<void> {
    this.#report(this.#writer.closePlayground(id));
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = null;
    this.apply(this.#writer.closeAll());
    return Promise.resolve();
  }

  #report(report: WriteReport): void {
    this.apply(report);
    if (report.retry && !this.#retry) {
      this.#retry = setTimeout(() => {
        this.#retry = null;
        this.#report(this.#writer.retry());
      }, RETRY_MS);
      this.#retry.unref();
    }
  }
}

/**
 * A writer thread to start: its entry (a module speaking ToWriter / FromWriter), what it is given, and the channel
 * that writes on the main thread instead should the thread die (given the channel's options and counters).
 */
export interface WriterThread {
  entry: URL;
  workerData: unknown;
  fallback: (options: ChannelOptions) => WriteChannel;
}

/** Messages to the writer thread (see writer-thread.ts). */
export type ToWriter =
  | {
      type: 'batch';
      id: number;
      playground: PlaygroundRef;
      /** The events, packed (packed.ts); their buffers are transferred. */
      events: PackedEvents;
      wallClock: [number, number][];
      overflow: [string, number][];
    }
  | { type: 'closePlayground'; id: number; playground: string }
  | { type: 'import'; id: number; input: unknown; owner: string | null }
  | { type: 'delete'; id: number; run: string }
  | { type: 'close'; id: number };

/** A failure of an import or delete in the thread, rebuilt as a CodedError (or a plain Error) on the main thread. */
export type WriterFailure = { code: ErrorCode | null; message: string; text: ServerText | null };

/** From the writer thread: the outcome of message `id` (0: a retry of its own). */
export type FromWriter =
  | { type: 'report'; id: number; report: WriteReport }
  | { type: 'done'; id: number; result: StoredRunDetail | null; failure: WriterFailure | null };

/** Writes in a worker thread with its own connection to the store's file. */
export class ThreadChannel extends ReportingChannel implements WriteChannel {
  #worker: Worker | null;
  #nextId = 1;
  /** Events per message not yet acknowledged. */
  readonly #pending = new Map<number, number>();
  /** Imports and deletes waiting for the thread. */
  readonly #calls = new Map<
    number,
    { resolve: (result: StoredRunDetail | null) => void; reject: (error: Error) => void }
  >();
  #inFlight = 0;
  /** Recorders pack their events as they arrive: a batch is posted as it is handed over. */
  readonly packed = true;
  #waiters: { id: number; resolve: () => void }[] = [];
  #fallback: WriteChannel | null = null;
  readonly #thread: WriterThread;
  readonly #options: ChannelOptions;
  #closing: Promise<void> | null = null;

  /**
   * `store` is the main thread's connection: the writer thread opens its own on store.location. Another store's
   * thread (PostgreSQL's, pg/writer-thread.ts) speaks the same messages: it is given as a WriterThread.
   */
  constructor(target: RunStore | WriterThread, options: ChannelOptions = {}) {
    super(options);
    if (target instanceof RunStore && target.location === MEMORY)
      throw new Error('A ":memory:" store cannot be written from another thread; use InlineChannel.');
    this.#thread =
      target instanceof RunStore
        ? {
            entry: WRITER_THREAD_ENTRY,
            workerData: { location: target.location },
            fallback: (inline) => new InlineChannel(target, inline),
          }
        : target;
    this.#options = { ...options, stats: this.stats };
    const worker = new Worker(this.#thread.entry, {
      workerData: this.#thread.workerData,
      resourceLimits: { maxYoungGenerationSizeMb: WRITER_YOUNG_GENERATION_MB },
    });
    worker.on('message', (message: FromWriter) => this.#onReport(message));
    worker.on('error', (error) => this.#lost(`the writer thread failed: ${error.message}`));
    worker.on('exit', (code) => {
      if (this.#worker) this.#lost(`the writer thread exited (code ${code})`);
    });
    // Idle, the thread is never what keeps the process alive; while a promise of this channel waits for its
    // answer it is (#holdWhileAwaited), or a caller with nothing else on the event loop (a script awaiting
    // recorder.close()) would see Node exit under it with code 13, its await never settled.
    worker.unref();
    this.#worker = worker;
  }

  /** The writer thread, while it runs. */
  get worker(): Worker | null {
    return this.#worker;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  write(
    playground: PlaygroundRef,
    events: EventBatch,
    wallClock: [number, number][],
    overflow: [string, number][],
  ): void {
    if (!this.#worker) return this.#inline().write(playground, events, wallClock, overflow);
    const packed = isPacked(events) ? events : packEvents(events);
    const id = this.#nextId++;
    this.#pending.set(id, packed.count);
    this.#inFlight += packed.count;
    this.#worker.postMessage(
      { type: 'batch', id, playground, events: packed, wallClock, overflow } satisfies ToWriter,
      transferList(packed),
    );
  }

  flushed(): Promise<void> {
    if (!this.#worker || this.#pending.size === 0) return this.#fallback?.flushed() ?? Promise.resolve();
    return this.#until(this.#nextId - 1);
  }

  importRun(input: unknown, owner: string | null = null): Promise<StoredRunDetail> {
    if (!this.#worker) return this.#inline().importRun(input, owner);
    // Bytes are moved to the thread, not copied: a 100 MB file must not stall the event loop on the way.
    let transfer: ArrayBuffer[] = [];
    if (input instanceof Uint8Array) {
      const owned =
        input.byteOffset === 0 && input.byteLength === input.buffer.byteLength && input.buffer instanceof ArrayBuffer;
      const bytes = owned ? input : input.slice();
      input = bytes;
      transfer = [bytes.buffer as ArrayBuffer];
    }
    return this.#call({ type: 'import', id: this.#nextId++, input, owner }, transfer) as Promise<StoredRunDetail>;
  }

  async deleteRun(id: string): Promise<void> {
    if (!this.#worker) return this.#inline().deleteRun(id);
    await this.#call({ type: 'delete', id: this.#nextId++, run: id });
  }

  #call(
    message: Extract<ToWriter, { type: 'import' | 'delete' }>,
    transfer: ArrayBuffer[] = [],
  ): Promise<StoredRunDetail | null> {
    return new Promise((resolve, reject) => {
      this.#calls.set(message.id, { resolve, reject });
      this.#holdWhileAwaited();
      this.#worker!.postMessage(message satisfies ToWriter, transfer);
    });
  }

  closePlayground(id: string): Promise<void> {
    if (!this.#worker) return this.#inline().closePlayground(id);
    const messageId = this.#nextId++;
    this.#pending.set(messageId, 0);
    this.#worker.postMessage({ type: 'closePlayground', id: messageId, playground: id } satisfies ToWriter);
    return this.#until(messageId);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      const worker = this.#worker;
      if (worker) {
        const id = this.#nextId++;
        this.#pending.set(id, 0);
        worker.postMessage({ type: 'close', id } satisfies ToWriter);
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), CLOSE_TIMEOUT_MS)));
        const late = await Promise.race([this.#until(id).then(() => false), timedOut]);
        clearTimeout(timer);
        this.#worker = null;
        if (late) this.fail(`the writer thread did not finish within ${CLOSE_TIMEOUT_MS} ms; terminated`);
        await worker.terminate();
      }
      await this.#fallback?.close();
    })();
    return this.#closing;
  }

  #until(id: number): Promise<void> {
    return new Promise((resolve) => {
      this.#waiters.push({ id, resolve });
      this.#holdWhileAwaited();
    });
  }

  /**
   * The thread keeps the event loop alive exactly while someone awaits an answer from it (flushed, closePlayground,
   * close, an import or a delete): its answer arrives as a message, and an unref'd thread's messages do not count
   * as pending work. Batches nobody awaits leave it unref'd.
   */
  #holdWhileAwaited(): void {
    if (!this.#worker) return;
    if (this.#waiters.length > 0 || this.#calls.size > 0) this.#worker.ref();
    else this.#worker.unref();
  }

  #onReport(message: FromWriter): void {
    if (message.type === 'done') {
      const call = this.#calls.get(message.id);
      this.#calls.delete(message.id);
      this.#holdWhileAwaited();
      if (!call) return;
      const { failure } = message;
      if (!failure) call.resolve(message.result);
      else
        call.reject(
          failure.code && failure.text
            ? new CodedError(failure.code, failure.text, { message: failure.message })
            : new Error(failure.message),
        );
      return;
    }
    this.apply(message.report);
    if (message.id === 0) return;
    this.#inFlight -= this.#pending.get(message.id) ?? 0;
    this.#pending.delete(message.id);
    const ready = this.#waiters.filter((waiter) => waiter.id <= message.id);
    this.#waiters = this.#waiters.filter((waiter) => waiter.id > message.id);
    this.#holdWhileAwaited();
    for (const waiter of ready) waiter.resolve();
  }

  /** The thread is gone: what it had not acknowledged is lost; from now on write inline. */
  #lost(why: string): void {
    if (!this.#worker) return;
    this.#worker = null;
    const lost = this.#inFlight;
    this.stats.droppedEvents += lost;
    this.#inFlight = 0;
    this.#pending.clear();
    this.fail(`${why}; ${lost} events in flight were lost; writing on the main thread from now on`);
    for (const waiter of this.#waiters.splice(0)) waiter.resolve();
    for (const call of this.#calls.values()) call.reject(new Error(`${why} before it answered`));
    this.#calls.clear();
  }

  #inline(): WriteChannel {
    this.#fallback ??= this.#thread.fallback(this.#options);
    return this.#fallback;
  }
}

/** The channel a store needs: a writer thread for a file, inline for ":memory:". */
export function channelFor(store: RunStore, options: ChannelOptions = {}): WriteChannel {
  return store.location === MEMORY ? new InlineChannel(store, options) : new ThreadChannel(store, options);
}
