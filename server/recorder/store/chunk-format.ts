/**
 * The task-chunk format: the recorder's task events of one run and one transaction in one `task_chunks` row.
 * `lines` is their JSON text joined by "\n" (JSON never holds a raw newline); `positions` a Float64Array of
 * (seq, t, offset of the line) per event. A row per task event cost ~4 us of SQLite work, more than the pipeline
 * spends on the task; a chunk costs ~0.1 us an event.
 */

/**
 * Most task events per chunk row: a read decodes whole chunks, so smaller chunks make small windows cheaper;
 * a chunk row costs SQLite about as much as one event row, so this many cost it next to nothing per event.
 */
export const CHUNK_EVENTS = 1000;

/** A chunk row as read (the columns a reader needs). */
export interface ChunkRow {
  first_seq: number;
  last_seq: number;
  positions: Buffer;
  lines: string;
}

/** One event to store: its seq, time, type and JSON text. */
export interface EventRow {
  seq: number;
  t: number;
  type: string;
  json: string;
}

/** A chunk row to insert: its key and bounds, its events' count, and the two encoded columns. */
export interface EncodedChunk {
  firstSeq: number;
  lastSeq: number;
  firstT: number;
  lastT: number;
  count: number;
  positions: Buffer;
  lines: string;
}

/** Encodes events (seq increasing, at most CHUNK_EVENTS, at least one) as one chunk row. */
export function encodeChunk(rows: readonly EventRow[]): EncodedChunk {
  const positions = new Float64Array(rows.length * 3);
  let offset = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    positions[i * 3] = row.seq;
    positions[i * 3 + 1] = row.t;
    positions[i * 3 + 2] = offset;
    offset += row.json.length + 1;
  }
  let lines = '';
  for (let i = 0; i < rows.length; i++) lines += (i === 0 ? '' : '\n') + rows[i]!.json;
  const first = rows[0]!;
  const last = rows[rows.length - 1]!;
  return {
    firstSeq: first.seq,
    lastSeq: last.seq,
    firstT: first.t,
    lastT: last.t,
    count: rows.length,
    positions: Buffer.from(positions.buffer),
    lines,
  };
}

/** A task chunk, decoded: per event its seq, t and where its line starts in `lines`. */
export class Chunk {
  readonly count: number;
  readonly #positions: Float64Array;
  readonly #lines: string;

  constructor(row: ChunkRow) {
    // Copied into an aligned buffer: SQLite's bytes may start at any offset.
    const bytes = new Uint8Array(row.positions.byteLength);
    bytes.set(row.positions);
    this.#positions = new Float64Array(bytes.buffer);
    this.count = this.#positions.length / 3;
    this.#lines = row.lines;
  }

  seq(i: number): number {
    return this.#positions[i * 3]!;
  }

  t(i: number): number {
    return this.#positions[i * 3 + 1]!;
  }

  json(i: number): string {
    const start = this.#positions[i * 3 + 2]!;
    const end = i + 1 < this.count ? this.#positions[(i + 1) * 3 + 2]! - 1 : this.#lines.length;
    return this.#lines.slice(start, end);
  }

  /** The first index whose seq is >= `seq` (count if none). */
  indexOfSeq(seq: number): number {
    return this.#firstIndexWhere((i) => this.seq(i) >= seq);
  }

  /** The first index whose t is >= `t` (count if none). */
  indexOfT(t: number): number {
    return this.#firstIndexWhere((i) => this.t(i) >= t);
  }

  /** Binary search: the first index where `reached` holds (count if none), for a `reached` that then stays true. */
  #firstIndexWhere(reached: (i: number) => boolean): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (reached(mid)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
