/**
 * The stores the storage conformance suite (conformance.test.ts) runs against: every implementation of
 * RecordingStore (store-api.ts) must pass the same tests. A factory gives each test a fresh, empty database.
 *
 *   - SQLite, a file in a temporary folder (written by the writer thread, as a server's default database)
 *   - SQLite, ":memory:" (written inline; cannot be reopened, so the tests that reopen skip it)
 *   - PostgreSQL, a database of its own in a throw-away cluster (scripts/throwaway-postgres.ts, started once per
 *     test file, stopped by `teardown`): registered when Debian's PostgreSQL binaries are found, unless
 *     PLAYGROUND_TEST_PG=0; PLAYGROUND_TEST_PG=1 makes their absence an error rather than a skip.
 *
 * Another store joins the suite by adding one entry to `storeFactories`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { findPostgresBin, startThrowawayPostgres, type ThrowawayPostgres } from '../../scripts/throwaway-postgres.ts';
import type { RecordingStore } from './store-api.ts';
import { openRecordingStore } from './store-open.ts';
import { MEMORY } from './store.ts';

export interface StoreUnderTest {
  store: RecordingStore;
  /**
   * What a server is given to open this same database (openRecordingStore(location): a file path, a postgres://
   * URL); null when it cannot be opened a second time (":memory:").
   */
  location: string | null;
  /** Makes the database say it was written with schema `version` (a newer server); null when not possible. */
  setSchemaVersion: ((version: number) => Promise<void>) | null;
  /**
   * Turns the (closed) database back into what the previous schema version wrote, with the runs it holds; null
   * when the store has no previous version (PostgreSQL's first schema is SQLite's version 6) or cannot reopen.
   */
  toPreviousVersion: (() => Promise<void>) | null;
  /** Closes the store (if still open) and removes the database. */
  dispose(): Promise<void>;
}

export interface StoreFactory {
  name: string;
  /** A fresh, empty database, opened as a server opens it. */
  create(): Promise<StoreUnderTest>;
  /** Once after the suite: what the factory started (a cluster). */
  teardown?(): Promise<void>;
}

const sqliteFile: StoreFactory = {
  name: 'SQLite file',
  async create() {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-conformance-'));
    const location = path.join(folder, 'runs.db');
    const store = await openRecordingStore(location);
    return {
      store,
      location,
      async setSchemaVersion(version) {
        const db = new Database(location);
        try {
          db.pragma(`user_version = ${Math.trunc(version)}`);
        } finally {
          db.close();
        }
      },
      async toPreviousVersion() {
        // Version 5 had no runs.kind (every run was a pipeline run): as graph-history.test.ts's upgrade test.
        const db = new Database(location);
        try {
          db.exec('ALTER TABLE runs DROP COLUMN kind; PRAGMA user_version = 5;');
        } finally {
          db.close();
        }
      },
      async dispose() {
        await store.close();
        fs.rmSync(folder, { recursive: true, force: true });
      },
    };
  },
};

const sqliteMemory: StoreFactory = {
  name: 'SQLite :memory:',
  async create() {
    const store = await openRecordingStore(MEMORY);
    return { store, location: null, setSchemaVersion: null, toPreviousVersion: null, dispose: () => store.close() };
  },
};

/** PostgreSQL when its binaries are here (or required by PLAYGROUND_TEST_PG=1); never with PLAYGROUND_TEST_PG=0. */
function postgresWanted(): boolean {
  const wanted = process.env.PLAYGROUND_TEST_PG;
  if (wanted === '0') return false;
  try {
    findPostgresBin();
    return true;
  } catch (error) {
    if (wanted === '1') throw error;
    return false;
  }
}

function postgresFactory(): StoreFactory {
  let cluster: Promise<ThrowawayPostgres> | null = null;
  let databases = 0;
  return {
    name: 'PostgreSQL',
    async create() {
      cluster ??= startThrowawayPostgres({ timeoutMs: 50_000 });
      const location = await (await cluster).createDatabase(`conformance_${process.pid}_${++databases}`);
      const store = await openRecordingStore(location);
      return {
        store,
        location,
        async setSchemaVersion(version) {
          // The version row of server/recorder/pg/schema.ts.
          const client = new pg.Client({ connectionString: location });
          await client.connect();
          try {
            await client.query('UPDATE schema_version SET version = $1', [Math.trunc(version)]);
          } finally {
            await client.end();
          }
        },
        toPreviousVersion: null,
        dispose: () => store.close(),
      };
    },
    async teardown() {
      const started = cluster;
      cluster = null;
      await (await started?.catch(() => null))?.stop();
    },
  };
}

export const storeFactories: StoreFactory[] = [sqliteFile, sqliteMemory];
if (postgresWanted()) storeFactories.push(postgresFactory());
