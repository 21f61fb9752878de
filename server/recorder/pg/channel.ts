/**
 * The PostgreSQL writer on the main thread: what the writer thread's channel (pg/writer-thread.ts through
 * ../channel.ts's ThreadChannel) falls back to should the thread die, and a WriteChannel of its own for tools that
 * want no thread. PgRunWriter writes the batches one after the other, each in its own transaction of a few
 * multi-row statements. write() only queues the batch and returns: the pipeline never awaits the database. The
 * events queued and not yet written are `inFlight`, which the recorders' cap reads (docs/recording.md "Memory is
 * bounded"); a failed transaction costs its batch, counted and charged to its runs, never an exception in the
 * pipeline. Here the packing of task events into chunks runs on the event loop the pipeline shares.
 */
import type pg from 'pg';
import type { RecordedGraphRunDetail, RecordedRunDetail } from '../../../shared/protocol/index.ts';
import { batchCount, isPacked, PackedBatch, type EventBatch } from '../packed.ts';
import { checkImport } from '../export.ts';
import { RecordingStats, type ChannelOptions, type RecordingStore, type WriteChannel } from '../store-api.ts';
import type { PlaygroundRef, WriteReport } from '../writer.ts';
import { PgRunWriter } from './writer.ts';

/** How soon a run:ended whose batch failed (or a run row not created yet) is tried again. */
const RETRY_MS = 100;

export class PgWriteChannel implements WriteChannel {
  readonly stats: RecordingStats;
  readonly #onError: (error: Error) => void;
  readonly #writer: PgRunWriter;
  readonly #store: RecordingStore;
  /** The last queued operation: each starts when the one before has finished. Never rejects. */
  #tail: Promise<void> = Promise.resolve();
  #inFlight = 0;
  #retry: NodeJS.Timeout | null = null;
  #closed = false;
  #closing: Promise<void> | null = null;

  constructor(pool: pg.Pool, store: RecordingStore, instance: string | null, options: ChannelOptions = {}) {
    this.stats = options.stats ?? new RecordingStats();
    this.#onError = options.onError ?? ((error) => console.error(`Recording: ${error.message}`));
    this.#writer = new PgRunWriter(pool, instance);
    this.#store = store;
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
    const n = batchCount(events);
    if (this.#closed) {
      this.stats.droppedEvents += n;
      this.#fail(`the recording channel is closed: dropping ${n} events`);
      return;
    }
    this.#inFlight += n;
    // A packed batch (from the thread's channel, its thread dead) is stored as the thread stores it.
    const entries = isPacked(events) ? PackedBatch.of(events) : events.map((event) => ({ event, json: null }));
    this.#queue(async () => {
      try {
        this.#report(await this.#writer.write({ playground, entries, wallClock, overflow }));
      } finally {
        this.#inFlight -= n;
      }
    });
  }

  flushed(): Promise<void> {
    return this.#tail;
  }

  closePlayground(id: string): Promise<void> {
    this.#queue(async () => this.#report(await this.#writer.closePlayground(id)));
    return this.#tail;
  }

  async importRun(input: unknown, owner: string | null = null): Promise<RecordedRunDetail | RecordedGraphRunDetail> {
    const checked = checkImport(input);
    return checked.graph ? this.#store.importGraphRun(checked.doc, owner) : this.#store.importRun(checked.doc, owner);
  }

  deleteRun(id: string): Promise<void> {
    return this.#store.deleteRun(id);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#retry) clearTimeout(this.#retry);
      this.#retry = null;
      this.#queue(async () => this.#report(await this.#writer.closeAll(), false));
      this.#closed = true;
      await this.#tail;
    })();
    return this.#closing;
  }

  /** Runs `operation` after everything queued before it; its failure is reported, never thrown. */
  #queue(operation: () => Promise<void>): void {
    this.#tail = this.#tail.then(operation).catch((error: unknown) => this.#fail((error as Error).message));
  }

  #report(report: WriteReport, retry = true): void {
    this.stats.recordedEvents += report.recorded;
    this.stats.droppedEvents += report.dropped;
    this.stats.flushes += report.flushes;
    for (const error of report.errors) this.#fail(error.message, error.at);
    if (retry && report.retry && !this.#retry && !this.#closed) {
      this.#retry = setTimeout(() => {
        this.#retry = null;
        this.#queue(async () => this.#report(await this.#writer.retry()));
      }, RETRY_MS);
      this.#retry.unref();
    }
  }

  #fail(message: string, at = new Date().toISOString()): void {
    this.stats.writeErrors++;
    this.stats.lastError = { message, at };
    try {
      this.#onError(new Error(message));
    } catch {
      // a logger that throws must not take the pipeline down either
    }
  }
}
