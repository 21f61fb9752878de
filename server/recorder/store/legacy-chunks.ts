/**
 * Files of schema version 2-4 stored each task chunk as its events' JSON lines and a Float64Array of (seq, t,
 * offset) per event, ~145 bytes an event; version 5 packs them (chunk-format.ts), ~5-8. Opening such a file
 * repacks it in place: the version bump's transaction sets the old table aside (task_chunks_v4) and creates the
 * new one, then the old chunks move a few at a time, each batch one transaction (memory stays bounded, and a
 * server killed meanwhile goes on where it stopped at its next open). Every event reads back as the same text:
 * the encoder keeps any line it cannot render exactly as that line. The file's freed pages are given back at
 * the end (VACUUM) when they are most of it.
 */
import type Database from 'better-sqlite3';
import { DamagedChunkError, type ChunkEvent } from './chunk-format.ts';
import { encodeChunk } from './chunk-pack.ts';

/** Where a version 4 file's chunks wait to be repacked. */
export const LEGACY_TABLE = 'task_chunks_v4';
/** Old chunks repacked per transaction (at most 1,000 events each: a few MB of text at a time). */
const CHUNKS_PER_TRANSACTION = 20;

/** A version 4 chunk row. */
interface LegacyRow {
  run: number;
  first_seq: number;
  last_seq: number;
  first_t: number;
  last_t: number;
  count: number;
  positions: unknown;
  lines: unknown;
}

/** In the version bump's transaction, before the tables are created: moves a version 4 task_chunks aside. */
export function setLegacyChunksAside(db: Database.Database): void {
  const columns = (db.pragma('table_info(task_chunks)') as { name: string }[]).map((column) => column.name);
  if (!columns.includes('lines')) return;
  // Its indexes keep their names through a rename, and the new table's take them.
  db.exec(`ALTER TABLE task_chunks RENAME TO ${LEGACY_TABLE};
    DROP INDEX IF EXISTS task_chunks_first_t;
    DROP INDEX IF EXISTS task_chunks_last_t;`);
}

/** The events of an old chunk, checked: a DamagedChunkError when its positions do not fit its lines. */
export function legacyEvents(row: LegacyRow): ChunkEvent[] {
  const where = `the task events of run ${row.run} stored from seq ${row.first_seq}`;
  const damaged = (reason: string) => new DamagedChunkError(`${where} cannot be read: ${reason}`);
  const { positions, lines } = row;
  if (!Buffer.isBuffer(positions) || positions.length % 24 !== 0) throw damaged('its positions are not whole');
  if (typeof lines !== 'string') throw damaged('its lines are not text');
  const count = positions.length / 24;
  if (count === 0 || count !== row.count) throw damaged(`it holds ${count} events, not ${row.count}`);
  // Copied into an aligned buffer: SQLite's bytes may start at any offset.
  const bytes = new Uint8Array(positions.length);
  bytes.set(positions);
  const numbers = new Float64Array(bytes.buffer);
  const events: ChunkEvent[] = [];
  for (let i = 0; i < count; i++) {
    const seq = numbers[i * 3]!;
    const start = numbers[i * 3 + 2]!;
    const end = i + 1 < count ? numbers[(i + 1) * 3 + 2]! - 1 : lines.length;
    if (!Number.isSafeInteger(seq) || (i > 0 && seq <= events[i - 1]!.seq))
      throw damaged(`its seq ${seq} is out of order`);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > lines.length)
      throw damaged(`the line of seq ${seq} is outside its text`);
    events.push({ seq, t: numbers[i * 3 + 1]!, json: lines.slice(start, end) });
  }
  if (events[0]!.seq !== row.first_seq || events[count - 1]!.seq !== row.last_seq)
    throw damaged(`its seqs are not the row's ${row.first_seq}..${row.last_seq}`);
  return events;
}

/** Repacks every chunk left in LEGACY_TABLE (nothing when there is none) and drops it. Returns the chunks moved. */
export function repackLegacyChunks(db: Database.Database): number {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(LEGACY_TABLE);
  if (!exists) return 0;
  const oldest = db.prepare<[number], LegacyRow>(
    `SELECT run, first_seq, last_seq, first_t, last_t, count, positions, lines FROM ${LEGACY_TABLE} ORDER BY run, first_seq LIMIT ?`,
  );
  const remove = db.prepare<[number, number]>(`DELETE FROM ${LEGACY_TABLE} WHERE run = ? AND first_seq = ?`);
  const insert = db.prepare<[number, number, number, number, number, number, Buffer]>(
    'INSERT INTO task_chunks (run, first_seq, last_seq, first_t, last_t, count, data) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  // IMMEDIATE: a second connection opening the file meanwhile waits, and never moves the same chunk twice.
  const batch = db.transaction((): number => {
    const rows = oldest.all(CHUNKS_PER_TRANSACTION);
    for (const row of rows) {
      const chunk = encodeChunk(legacyEvents(row));
      insert.run(row.run, chunk.firstSeq, chunk.lastSeq, row.first_t, row.last_t, chunk.count, chunk.data);
      remove.run(row.run, row.first_seq);
    }
    return rows.length;
  });
  let moved = 0;
  for (let n = batch.immediate(); n > 0; n = batch.immediate()) moved += n;
  db.exec(`DROP TABLE IF EXISTS ${LEGACY_TABLE}`);
  const pages = db.pragma('page_count', { simple: true }) as number;
  const free = db.pragma('freelist_count', { simple: true }) as number;
  if (free * 2 > pages) {
    try {
      db.exec('VACUUM');
    } catch {
      // Not enough room for the copy VACUUM makes: the free pages stay in the file, and new runs fill them.
    }
  }
  return moved;
}
