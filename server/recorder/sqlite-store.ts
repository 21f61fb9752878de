/**
 * The SQLite implementation of the storage interface (store-api.ts): RunStore (store.ts, better-sqlite3,
 * synchronous) behind Promise-returning methods. Each method is one synchronous call of RunStore, answered as a
 * settled promise: the rows are not copied, the statements are the same, and a thrown CodedError becomes a
 * rejection. The recorder's writes do not come through here: openWriteChannel() gives today's channel (a writer
 * thread with its own connection for a file, inline on this connection for ":memory:"), and the writer works on a
 * RunStore directly, synchronously, in its transactions.
 */
import path from 'node:path';
import type {
  GraphRunExport,
  RecordedGraphRunDetail,
  RecordedRunDetail,
  RunCountersAt,
  RunExport,
  RunPage,
} from '../../shared/protocol/index.ts';
import { channelFor } from './channel.ts';
import { MEMORY, RunStore } from './store.ts';
import type {
  ChannelOptions,
  EventRange,
  Exportable,
  JsonWindow,
  ListOptions,
  OpenStoreOptions,
  RecordingStore,
  RunAccess,
  TaskRow,
  WriteChannel,
} from './store-api.ts';

export class SqliteRecordingStore implements RecordingStore {
  readonly kind = 'sqlite';
  /** The synchronous store underneath (the writer, the SQLite-only tests and the benches use it directly). */
  readonly runs: RunStore;
  readonly displayName: string;
  readonly privateFolder: string | null;
  /** Whether close() closes `runs` too (false when the caller opened it and closes it). */
  readonly #ownsRuns: boolean;
  #closed = false;

  /** Opens (creating if needed) the file at `location`, or ":memory:"; throws a StoreOpenError for a file it must not use. */
  static open(location: string, options: OpenStoreOptions = {}): SqliteRecordingStore {
    return new SqliteRecordingStore(RunStore.open(location, { recover: options.recover ?? true }), true);
  }

  /** The interface over an open RunStore; `owns`: close() closes it too. */
  constructor(runs: RunStore, owns = false) {
    this.runs = runs;
    this.#ownsRuns = owns;
    const memory = runs.location === MEMORY;
    this.displayName = memory ? MEMORY : path.basename(runs.location);
    this.privateFolder = memory ? null : path.dirname(path.resolve(runs.location));
  }

  get closed(): boolean {
    return this.#closed || this.runs.closed;
  }

  openWriteChannel(options: ChannelOptions = {}): WriteChannel {
    return channelFor(this.runs, options);
  }

  async markInterrupted(): Promise<number> {
    return this.runs.markInterrupted();
  }

  async listRuns(options: ListOptions = {}): Promise<RunPage> {
    return this.runs.listRuns(options);
  }

  async accessOf(id: string): Promise<RunAccess | null> {
    return this.runs.accessOf(id);
  }

  async getRun(id: string, visitor?: string): Promise<RecordedRunDetail> {
    return this.runs.getRun(id, visitor);
  }

  async getAnyRun(id: string, visitor?: string): Promise<RecordedRunDetail | RecordedGraphRunDetail> {
    return this.runs.getAnyRun(id, visitor);
  }

  async eventWindow(id: string, range: EventRange): Promise<JsonWindow> {
    return this.runs.eventWindow(id, range);
  }

  async countersAt(id: string, t: number): Promise<RunCountersAt> {
    return this.runs.countersAt(id, t);
  }

  async exportable(id: string): Promise<Exportable> {
    return this.runs.exportable(id);
  }

  async eventsAfter(
    pk: number,
    afterSeq: number,
    lastSeq: number,
    limit: number,
  ): Promise<{ seq: number; json: string }[]> {
    return this.runs.eventsAfter(pk, afterSeq, lastSeq, limit);
  }

  async tasksAfter(pk: number, afterSeq: number, lastSeq: number, limit: number): Promise<TaskRow[]> {
    return this.runs.tasksAfter(pk, afterSeq, lastSeq, limit);
  }

  async setPublic(id: string, isPublic: boolean): Promise<void> {
    this.runs.setPublic(id, isPublic);
  }

  async renameRun(id: string, name: string): Promise<RecordedRunDetail | RecordedGraphRunDetail> {
    return this.runs.renameRun(id, name);
  }

  async deleteRun(id: string): Promise<void> {
    this.runs.deleteRun(id);
  }

  async importRun(doc: RunExport, owner: string | null = null): Promise<RecordedRunDetail> {
    return this.runs.importRun(doc, owner);
  }

  async importGraphRun(doc: GraphRunExport, owner: string | null = null): Promise<RecordedGraphRunDetail> {
    return this.runs.importGraphRun(doc, owner);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsRuns) this.runs.close();
  }
}
