/**
 * Opens the recording store a location names: a postgres:// (or postgresql://) URL is a PostgreSQL database
 * (server/recorder/pg/, loaded only then), anything else a SQLite file, or ":memory:".
 */
import type { OpenStoreOptions, RecordingStore } from './store-api.ts';
import { SqliteRecordingStore } from './sqlite-store.ts';

/** Whether `location` names a PostgreSQL database rather than a file. */
export function isPostgresLocation(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/**
 * The store at `location`, opened as a server starting on it does (runs left "running" marked incomplete unless
 * `recover` is false). Rejects with a StoreOpenError for a database this server must not use.
 */
export async function openRecordingStore(location: string, options: OpenStoreOptions = {}): Promise<RecordingStore> {
  if (!isPostgresLocation(location)) return SqliteRecordingStore.open(location, options);
  // Loaded on demand (a chunk of its own in the built server): a server on SQLite never loads node-postgres.
  const { openPostgresStore } = await import('./pg/index.ts');
  return openPostgresStore(location, options);
}
