/**
 * Which instances sharing one PostgreSQL database are alive, so that the runs of one that died and never came back
 * do not stay "running" for ever (issue 13's closing note). A starting instance marks its OWN interrupted runs
 * incomplete (index.ts markInterrupted); an instance that never restarts needs another to do it, and that other must
 * never touch the runs of an instance that is still recording.
 *
 * The signal is a session-level advisory lock, keyed by the instance's name, that each instance (`--instance`) holds
 * on a connection of its own for its whole life. PostgreSQL releases a session's locks when its connection ends:
 * when the process is killed, its socket closes and its backend exits at once. So:
 *   - at start an instance takes its own lock BEFORE it marks its interrupted runs or records anything (another
 *     server of the same name still connected makes it wait, then refuse to start: two instances may not share a
 *     name);
 *   - every CHECK_EVERY_MS (and at start) it lists the other instances that have runs "running" and tries each one's
 *     lock (pg_try_advisory_lock, on its lock connection). Taken by someone: alive (or being checked by a third
 *     instance right now). Free: that instance may be dead. Free at every check for DEAD_AFTER_MS: dead; its runs
 *     left "running" are marked incomplete exactly as its own restart would mark them, WHILE the checker holds its
 *     lock (the dead instance restarting meanwhile waits for the lock, so it never records a run the checker
 *     marks), then the lock is released.
 *   - a live instance whose lock connection drops (a network blip, a PostgreSQL restart, pg_terminate_backend)
 *     reconnects and takes its lock again, every RETAKE_EVERY_MS; DEAD_AFTER_MS is its grace. Should it stay away
 *     longer, its running runs are marked incomplete while it still records them: its writer carries on (a run
 *     marked incomplete takes more events), and the run's run:ended stores its real end ("ended", or "incomplete"
 *     with the events lost) over the mark.
 *   - a connection that looks alive but no longer reaches PostgreSQL (a host gone without closing its sockets) is
 *     found by TCP keepalives set on the lock session (the backend ends within about KEEPALIVE_LIMIT_S seconds and
 *     its lock goes) and, on this side, by a query timeout.
 * Marking is idempotent (writes.ts markIncomplete updates only a run still "running"), so two checkers, or a
 * checker and a restart, never mark twice. Standalone servers (no `--instance`) hold no lock and check nothing;
 * their runs (instance NULL) are left to their own restart.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { StoreOpenError } from '../store-api.ts';
import { CONNECT_TIMEOUT_MS, PG_TYPES } from './schema.ts';

/** How often an instance checks the others (and how soon after its start it first does). */
export const CHECK_EVERY_MS = 3000;
/** How long another instance's lock must be seen free, at every check, before its runs are marked incomplete. */
export const DEAD_AFTER_MS = 6000;
/** How often an instance whose lock connection failed tries to take its lock again. */
export const RETAKE_EVERY_MS = 1000;
/** How long a starting instance waits for its own lock (held by another server of its name) before refusing. */
export const START_WAIT_MS = 30_000;
/** A query on the lock connection that takes longer means the connection is lost. */
const QUERY_TIMEOUT_MS = 10_000;
/** The lock session's server-side TCP keepalives: idle seconds, then probes every interval, count probes. */
const KEEPALIVE = { idle: 10, interval: 5, count: 3 };
export const KEEPALIVE_LIMIT_S = KEEPALIVE.idle + KEEPALIVE.interval * KEEPALIVE.count;

export interface LivenessOptions {
  checkEveryMs?: number;
  deadAfterMs?: number;
  retakeEveryMs?: number;
  startWaitMs?: number;
  /** The operator's log lines (default console.log). */
  log?: (line: string) => void;
}

/**
 * The advisory lock key of an instance name: 64 bits of its SHA-256, as a signed bigint's text. The one-key space
 * (the schema lock of schema.ts lives there too); names are at most 16 characters, more than 64 bits hold, so a hash.
 */
export function instanceLockKey(instance: string): string {
  const digest = createHash('sha256').update(`zmq-playground instance ${instance}`).digest();
  return digest.readBigInt64BE(0).toString();
}

/** Marks the runs an instance left "running" incomplete; how many. Called only while holding its lock. */
export type MarkRunsOf = (instance: string) => Promise<number>;

export class InstanceLiveness {
  readonly instance: string;
  /** Checks completed (tests wait on it). */
  checks = 0;
  /** Runs of dead instances this one marked incomplete. */
  marked = 0;
  readonly #url: string;
  readonly #display: string;
  readonly #markRunsOf: MarkRunsOf;
  readonly #checkEveryMs: number;
  readonly #deadAfterMs: number;
  readonly #retakeEveryMs: number;
  readonly #startWaitMs: number;
  readonly #log: (line: string) => void;
  /** The lock connection; null while it is being made again. */
  #client: pg.Client | null = null;
  /** Whether #client holds this instance's lock. */
  #held = false;
  #closed = false;
  #checkTimer: NodeJS.Timeout | null = null;
  #retakeTimer: NodeJS.Timeout | null = null;
  #checking: Promise<void> | null = null;
  #retaking: Promise<void> | null = null;
  /** Other instances whose lock was free at every check since (performance.now() of the first). */
  readonly #freeSince = new Map<string, number>();

  private constructor(
    url: string,
    display: string,
    instance: string,
    markRunsOf: MarkRunsOf,
    options: LivenessOptions,
  ) {
    this.#url = url;
    this.#display = display;
    this.instance = instance;
    this.#markRunsOf = markRunsOf;
    this.#checkEveryMs = options.checkEveryMs ?? CHECK_EVERY_MS;
    this.#deadAfterMs = options.deadAfterMs ?? DEAD_AFTER_MS;
    this.#retakeEveryMs = options.retakeEveryMs ?? RETAKE_EVERY_MS;
    this.#startWaitMs = options.startWaitMs ?? START_WAIT_MS;
    this.#log = options.log ?? ((line) => console.log(line));
  }

  /**
   * Takes the instance's lock on a connection of its own (waiting up to startWaitMs while another session holds it).
   * Rejects with a StoreOpenError when it cannot. Checking the others starts with begin().
   */
  static async take(
    url: string,
    display: string,
    instance: string,
    markRunsOf: MarkRunsOf,
    options: LivenessOptions = {},
  ): Promise<InstanceLiveness> {
    const liveness = new InstanceLiveness(url, display, instance, markRunsOf, options);
    let client: pg.Client;
    try {
      client = await liveness.#connect();
    } catch (error) {
      throw new StoreOpenError(
        `Cannot open the connection that holds instance ${instance}'s lock on ${display}: ${(error as Error).message}`,
      );
    }
    const deadline = performance.now() + liveness.#startWaitMs;
    try {
      // A server of the same name connected (or its backend not yet gone after a kill): wait for it, bounded.
      while (!(await tryLock(client, instanceLockKey(instance)))) {
        if (performance.now() >= deadline) {
          throw new StoreOpenError(
            `Another server named "${instance}" (--instance) is connected to the run database ${display}: it holds ` +
              `the instance's lock (waited ${Math.round(liveness.#startWaitMs / 1000)} s). Two instances may not ` +
              'share a name: stop that one, or give this one another --instance. The server did not start.',
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } catch (error) {
      liveness.#closed = true;
      await client.end().catch(() => {});
      if (error instanceof StoreOpenError) throw error;
      throw new StoreOpenError(`Cannot take instance ${instance}'s lock on ${display}: ${(error as Error).message}`);
    }
    liveness.#client = client;
    liveness.#held = true;
    return liveness;
  }

  /** Whether this instance holds its lock right now. */
  get held(): boolean {
    return this.#held;
  }

  /** The PostgreSQL backend of the lock connection (tests end it with pg_terminate_backend); null without one. */
  get backendPid(): number | null {
    return (this.#client as (pg.Client & { processID?: number }) | null)?.processID ?? null;
  }

  /** Starts checking the other instances: once now, then every checkEveryMs. */
  begin(): void {
    if (this.#closed || this.#checkTimer) return;
    void this.check();
    this.#checkTimer = setInterval(() => void this.check(), this.#checkEveryMs);
    this.#checkTimer.unref();
  }

  /** One check of the other instances (a check under way is joined, not doubled). Never rejects. */
  check(): Promise<void> {
    this.#checking ??= this.#checkOnce().finally(() => {
      this.#checking = null;
    });
    return this.#checking;
  }

  /** Stops checking and ends the lock connection (PostgreSQL releases the lock). Call after the last write. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#checkTimer) clearInterval(this.#checkTimer);
    if (this.#retakeTimer) clearInterval(this.#retakeTimer);
    await this.#checking;
    await this.#retaking;
    const client = this.#client;
    this.#client = null;
    this.#held = false;
    await client?.end().catch(() => {});
  }

  // -------------------------------------------------------------------------------------------------------------

  async #connect(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.#url,
      types: PG_TYPES,
      application_name: `zmq-playground ${this.instance} lock`,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE.idle * 1000,
    });
    // Listened to before connecting: an 'error' without a listener would take the process down.
    client.on('error', (error) => this.#lost(client, error.message));
    client.on('end', () => this.#lost(client, 'the connection closed'));
    await client.connect();
    try {
      // The backend notices a peer that vanished without closing its socket (ignored on a Unix socket, where the
      // kernel tells at once); a database-wide idle_session_timeout must not end the session that holds the lock.
      await client.query(
        `SET tcp_keepalives_idle = ${KEEPALIVE.idle}; SET tcp_keepalives_interval = ${KEEPALIVE.interval};
         SET tcp_keepalives_count = ${KEEPALIVE.count}; SET statement_timeout = 0`,
      );
      await client.query('SET idle_session_timeout = 0').catch(() => {}); // PostgreSQL 14 and later
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    return client;
  }

  /** The lock connection failed: its lock is gone with it; take it again on a new one. */
  #lost(client: pg.Client, why: string): void {
    if (client !== this.#client) return;
    this.#client = null;
    this.#held = false;
    this.#freeSince.clear();
    // A connection that only stopped answering is ended here, so that its backend's session goes (or times out).
    void client.end().catch(() => {});
    if (this.#closed) return;
    this.#log(
      `Instance ${this.instance}: the connection holding its lock on ${this.#display} failed (${why}); ` +
        'taking the lock again (until then its running runs may be taken for an interrupted instance\u2019s).',
    );
    const lostAt = performance.now();
    let waitedNotice = lostAt;
    this.#retakeTimer ??= setInterval(() => {
      this.#retaking ??= this.#retake(lostAt, () => {
        // Still not taken after a while: the old session lingers (a dead link is cut by keepalives) or PostgreSQL
        // is unreachable. Said every 30 s, not every attempt.
        if (performance.now() - waitedNotice < 30_000) return;
        waitedNotice = performance.now();
        this.#log(`Instance ${this.instance}: still trying to take its lock again on ${this.#display}`);
      }).finally(() => {
        this.#retaking = null;
      });
    }, this.#retakeEveryMs);
    this.#retakeTimer.unref();
  }

  async #retake(lostAt: number, notTaken: () => void): Promise<void> {
    if (this.#closed || this.#held) return;
    try {
      if (!this.#client) {
        const fresh = await this.#connect();
        if (this.#closed) {
          await fresh.end().catch(() => {});
          return;
        }
        this.#client = fresh;
      }
      const client = this.#client;
      if (await tryLock(client, instanceLockKey(this.instance))) {
        if (client !== this.#client || this.#closed) return; // lost again meanwhile: the lock went with it
        this.#held = true;
        if (this.#retakeTimer) clearInterval(this.#retakeTimer);
        this.#retakeTimer = null;
        this.#log(
          `Instance ${this.instance}: holds its lock again (after ${Math.round(performance.now() - lostAt)} ms)`,
        );
        return;
      }
    } catch {
      // Unreachable for now, or the new connection failed: dropped, and made again at the next attempt.
      const broken = this.#client;
      this.#client = null;
      void broken?.end().catch(() => {});
    }
    notTaken();
  }

  async #checkOnce(): Promise<void> {
    const client = this.#client;
    // Without its own lock an instance checks nothing: its connection is what just failed.
    if (this.#closed || !client || !this.#held) return;
    try {
      const { rows } = await client.query<{ instance: string }>(
        "SELECT DISTINCT instance FROM runs WHERE status = 'running' AND instance IS NOT NULL AND instance <> $1",
        [this.instance],
      );
      const withRunning = new Set(rows.map((row) => row.instance));
      for (const name of this.#freeSince.keys()) if (!withRunning.has(name)) this.#freeSince.delete(name);
      for (const other of withRunning) {
        if (this.#closed) return;
        const key = instanceLockKey(other);
        if (!(await tryLock(client, key))) {
          this.#freeSince.delete(other); // alive (or another instance is checking it right now)
          continue;
        }
        try {
          const now = performance.now();
          const since = this.#freeSince.get(other) ?? now;
          this.#freeSince.set(other, since);
          if (now - since >= this.#deadAfterMs) await this.#markDead(other);
        } finally {
          await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]);
        }
      }
      this.checks++;
    } catch (error) {
      // A query on the lock connection failed or timed out: that connection (and the lock on it) is suspect.
      this.#lost(client, (error as Error).message);
    }
  }

  /** Marks a dead instance's running runs incomplete; the caller holds its lock. A failure waits for the next check. */
  async #markDead(other: string): Promise<void> {
    try {
      const marked = await this.#markRunsOf(other);
      this.marked += marked;
      this.#freeSince.delete(other);
      this.#log(
        `Instance ${this.instance}: instance ${other} is gone (its lock on ${this.#display} was free for ` +
          `${Math.round(this.#deadAfterMs / 1000)} s): marked ${marked} run(s) it left running incomplete`,
      );
    } catch (error) {
      console.error(
        `Instance ${this.instance}: could not mark the runs of instance ${other}, gone, incomplete: ` +
          `${(error as Error).message} (tried again at the next check)`,
      );
    }
  }
}

/** pg_try_advisory_lock on `client`: whether this session now holds the lock (session-level: until unlock or end). */
async function tryLock(client: pg.Client, key: string): Promise<boolean> {
  const { rows } = await client.query<{ taken: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS taken', [key]);
  return rows[0]!.taken;
}
