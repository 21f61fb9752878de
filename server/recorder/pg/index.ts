/**
 * PostgreSQL as the recording store (`--db postgres://user@host:port/db`, issue 13): the storage interface of
 * store-api.ts over node-postgres. Several servers (instances behind a proxy) share one database: any of them
 * lists, replays, exports and imports any run. The parts:
 *   schema.ts   tables (SQLite's version 6 plus runs.instance), version rules, migrations under an advisory lock,
 *               connecting (an unreachable server is a StoreOpenError naming host:port)
 *   reads.ts    listings, details, windows, counters, export pages (the same answers as store/reads.ts)
 *   writes.ts   rows and chunks (multi-row inserts), progress, end, incomplete, rename, public, delete
 *   writer.ts   the recorder's writer (RunWriter's rules, async, one transaction per batch)
 *   writer-thread.ts  the thread that runs the writer and imports (the recorders' channel: ../channel.ts's
 *               ThreadChannel, the SQLite writer thread's messages)
 *   channel.ts  the same writer on the main thread (the thread's fallback; queued, never awaited by the pipeline)
 *   import.ts   a checked export stored as a new run, in one transaction
 *   liveness.ts each instance's advisory lock, held for its life: the runs of an instance that died and never
 *               restarted are marked incomplete by a live one, never those of an instance still recording
 */
import type pg from 'pg';
import type {
  GraphRunExport,
  RecordedGraphRunDetail,
  RecordedRunDetail,
  RunCountersAt,
  RunExport,
  RunPage,
} from '../../../shared/protocol/index.ts';
import { anyDetail, toDetail, toGraphDetail } from '../store/reads.ts';
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
} from '../store-api.ts';
import { PG_WRITER_THREAD_ENTRY } from '../../layout.ts';
import { ThreadChannel } from '../channel.ts';
import { PgWriteChannel } from './channel.ts';
import { importGraphRun, importRun } from './import.ts';
import { InstanceLiveness, type LivenessOptions } from './liveness.ts';
import * as reads from './reads.ts';
import { connect, describeUrl, migrate } from './schema.ts';
import { transaction } from './writer.ts';
import * as writes from './writes.ts';

export { PG_SCHEMA_VERSION } from './schema.ts';

/** What PostgresStore.open takes besides the stores' common options. */
export interface PostgresOpenOptions extends OpenStoreOptions {
  /** The liveness checks' timings (liveness.ts; tests shorten them). */
  liveness?: LivenessOptions;
}

export class PostgresStore implements RecordingStore {
  readonly kind = 'postgres';
  readonly displayName: string;
  readonly privateFolder = null;
  /** This server's `--instance` (null: a standalone server), recorded on the runs it records. */
  readonly instance: string | null;
  readonly #pool: pg.Pool;
  readonly #url: string;
  /** The instance's lock and its checks of the other instances (null for a standalone server, or `recover: false`). */
  #liveness: InstanceLiveness | null = null;
  #closed = false;

  private constructor(pool: pg.Pool, url: string, displayName: string, instance: string | null) {
    this.#pool = pool;
    this.#url = url;
    this.displayName = displayName;
    this.instance = instance;
  }

  /**
   * Connects, brings the tables up to date (or refuses a newer database), and with `recover` (the default) marks
   * this instance's runs left "running" incomplete. An instance (`--instance`) opening with `recover` first takes
   * its lock, then checks the other instances for dead ones from then on (liveness.ts). Rejects with a
   * StoreOpenError saying what to do.
   */
  static async open(url: string, options: PostgresOpenOptions = {}): Promise<PostgresStore> {
    const { display } = describeUrl(url);
    const pool = await connect(url);
    let liveness: InstanceLiveness | null = null;
    try {
      await migrate(pool, display);
      // Visitors see the kind only (GET /api/recording): host, port and database are the operator's (the log has them).
      const store = new PostgresStore(pool, url, 'PostgreSQL', options.instance ?? null);
      const recover = options.recover ?? true;
      // Held before its interrupted runs are marked and before it records: a checker marking a dead instance's
      // runs holds this same lock, so the two never overlap.
      if (recover && store.instance !== null) {
        liveness = await InstanceLiveness.take(
          url,
          display,
          store.instance,
          (instance) => store.#markRunsLeftRunning(instance),
          options.liveness,
        );
        store.#liveness = liveness;
      }
      if (recover) await store.markInterrupted();
      liveness?.begin();
      return store;
    } catch (error) {
      await liveness?.close();
      await pool.end().catch(() => {});
      throw error;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * A writer thread with its own pool (pg/writer-thread.ts, through the SQLite store's ThreadChannel: the same
   * messages), so that packing chunks and parsing imports stay off the pipeline's event loop; should the thread die,
   * the channel writes on the main thread (PgWriteChannel).
   */
  openWriteChannel(options: ChannelOptions = {}): WriteChannel {
    return new ThreadChannel(
      {
        entry: PG_WRITER_THREAD_ENTRY,
        workerData: { url: this.#url, instance: this.instance },
        fallback: (inline) => new PgWriteChannel(this.#pool, this, this.instance, inline),
      },
      options,
    );
  }

  /**
   * Marks the runs THIS instance left "running" incomplete (its previous process stopped mid-run). Runs of other
   * instances are theirs: they may be recording them right now (those of a dead one are marked by liveness.ts).
   */
  markInterrupted(): Promise<number> {
    return this.#markRunsLeftRunning(this.instance);
  }

  /** The instance's lock and liveness checks (tests read them); null for a standalone server. */
  get liveness(): InstanceLiveness | null {
    return this.#liveness;
  }

  /**
   * Marks the runs `instance` left "running" incomplete, each in its own transaction; how many it marked. The caller
   * holds that instance's lock (or is a standalone server, instance null): nobody records them.
   */
  async #markRunsLeftRunning(instance: string | null): Promise<number> {
    const { rows } = await this.#pool.query<{ pk: number }>(
      "SELECT pk FROM runs WHERE status = 'running' AND instance IS NOT DISTINCT FROM $1",
      [instance],
    );
    let marked = 0;
    for (const { pk } of rows) {
      if (await transaction(this.#pool, (client) => writes.markIncomplete(client, pk))) marked++;
    }
    return marked;
  }

  listRuns(options: ListOptions = {}): Promise<RunPage> {
    return reads.listRuns(this.#pool, options);
  }

  accessOf(id: string): Promise<RunAccess | null> {
    return reads.accessOf(this.#pool, id);
  }

  async getRun(id: string, visitor?: string): Promise<RecordedRunDetail> {
    return toDetail(await reads.runRow(this.#pool, id), visitor);
  }

  async getAnyRun(id: string, visitor?: string): Promise<RecordedRunDetail | RecordedGraphRunDetail> {
    return anyDetail(await reads.runRow(this.#pool, id), visitor);
  }

  eventWindow(id: string, range: EventRange): Promise<JsonWindow> {
    return reads.eventWindow(this.#pool, id, range);
  }

  countersAt(id: string, t: number): Promise<RunCountersAt> {
    return reads.countersAt(this.#pool, id, t);
  }

  exportable(id: string): Promise<Exportable> {
    return reads.exportable(this.#pool, id);
  }

  eventsAfter(pk: number, afterSeq: number, lastSeq: number, limit: number): Promise<{ seq: number; json: string }[]> {
    return reads.eventsAfter(this.#pool, pk, afterSeq, lastSeq, limit);
  }

  tasksAfter(pk: number, afterSeq: number, lastSeq: number, limit: number): Promise<TaskRow[]> {
    return reads.tasksAfter(this.#pool, pk, afterSeq, lastSeq, limit);
  }

  setPublic(id: string, isPublic: boolean): Promise<void> {
    return writes.setPublic(this.#pool, id, isPublic);
  }

  async renameRun(id: string, name: string): Promise<RecordedRunDetail | RecordedGraphRunDetail> {
    await writes.renameRun(this.#pool, id, name);
    return this.getAnyRun(id);
  }

  deleteRun(id: string): Promise<void> {
    return transaction(this.#pool, (client) => writes.deleteRun(client, id));
  }

  async importRun(doc: RunExport, owner: string | null = null): Promise<RecordedRunDetail> {
    const id = await importRun(this.#pool, doc, owner);
    return this.getRun(id, owner ?? undefined);
  }

  async importGraphRun(doc: GraphRunExport, owner: string | null = null): Promise<RecordedGraphRunDetail> {
    const id = await importGraphRun(this.#pool, doc, owner);
    return toGraphDetail(await reads.runRow(this.#pool, id), owner ?? undefined);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // The lock goes last but for the pool: the write channel, closed before the store, has stored its last runs.
    await this.#liveness?.close();
    await this.#pool.end();
  }
}

/** The entry store-open.ts loads for a postgres:// or postgresql:// location (OpenStore in store-api.ts). */
export function openPostgresStore(url: string, options: OpenStoreOptions = {}): Promise<RecordingStore> {
  return PostgresStore.open(url, options);
}
