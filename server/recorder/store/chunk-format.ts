/**
 * The task-chunk format (schema version 5): the recorder's task events of one run and one transaction in one
 * `task_chunks` row, as packed columns in one BLOB, `data`. A row per task event cost ~4 us of SQLite work, more
 * than the pipeline spends on the task; a chunk costs a fraction of that. Packed, a task event of a batch takes
 * about 5 bytes of the chunk instead of its ~120 bytes of JSON (version 4 stored the JSON lines and a Float64Array
 * of seq, t, offset; legacy-chunks.ts repacks such a file). Written by chunk-pack.ts, read by chunk-read.ts.
 *
 * The reads answer each event's JSON text byte for byte as the store answered it before: JSON.stringify of the
 * event the recorder logged. An event the columns can render is stored as columns (every recorder event: keys
 * among KEYS in any order, string type, run, worker and body, safe-integer task); any other is stored as its text
 * ("verbatim"), and so is an older chunk's line that the columns would not render exactly (spaces, escapes).
 *
 * Layout of `data` (every integer an unsigned LEB128 varint; "signed" ones zigzag-encoded first):
 *   format     1 byte: PACKED (1)
 *   count      events in the chunk
 *   flags      bit 0: every t is a whole number of microseconds (t x 1000, the pipeline's rounding): the t column
 *              holds signed deltas of microseconds; else it holds each t as an 8-byte little-endian double
 *   strings    n, then n x (UTF-8 byte length, bytes): the chunk's dictionary; string ids count from the PRESET
 *              strings (the task event types), which every chunk knows without storing them
 *   shapes     n, then per shape: its key count k and k key ids (KEYS: the event's keys in its own order), the
 *              string of its type, its worker (0: null, 1 + string id) if it has one, the string of its run if it
 *              has one. k = 0 is the verbatim shape.
 *   bodies     n, then per body: string id << 1 | templated, and when templated the string id of what follows the
 *              task number (a body "task 17 xx" of task 17 is the template "task " + number + " xx": one entry
 *              for all the tasks of a batch)
 *   columns    per event its shape; per event its seq (signed delta from the previous, the first from 0); per event
 *              its t (see flags); per event with a task, the task (signed delta from the previous task of the same
 *              type); per event with a body, its body; per verbatim event, the string id of its text
 */

/**
 * Most task events per chunk row: a read decodes whole chunks, so smaller chunks make small windows cheaper;
 * a chunk row costs SQLite about as much as one event row, so this many cost it next to nothing per event.
 */
export const CHUNK_EVENTS = 1000;

/** The format byte of a chunk as this server writes it. */
export const PACKED = 1;

export const FLAG_MICROS = 1;

/** Strings with fixed ids below every chunk's own: the task event types (never change their order). */
export const PRESET = ['task:sent', 'task:received', 'task:done', 'task:collected', 'task:lost'];

/** The keys a packed event may have, by id. */
export const KEYS = ['type', 'task', 'worker', 'body', 'run', 'seq', 't'] as const;
export const TYPE = 0;
export const TASK = 1;
export const WORKER = 2;
export const BODY = 3;
export const RUN = 4;
export const SEQ = 5;
export const T = 6;
export const WORKER_NULL = -1;

/** A chunk row as read (the columns a reader needs). */
export interface ChunkRow {
  run: number;
  first_seq: number;
  last_seq: number;
  count: number;
  data: Buffer;
}

/** One event to store: its seq, time, type and JSON text. */
export interface EventRow {
  seq: number;
  t: number;
  type: string;
  json: string;
}

/**
 * A task event to store in a chunk: its seq and time, and what it is: the object whose JSON.stringify the reads
 * are to answer (the recorder's: no text is made for it), or its JSON text (an older chunk's line), or both.
 */
export interface ChunkEvent {
  seq: number;
  t: number;
  /**
   * The text; null when `event` is given. With `event`, it can only be JSON.stringify(event): the chunk stores that,
   * and uses a text given beside it only for an event the columns cannot hold.
   */
  json: string | null;
  event?: object;
}

/** A chunk row to insert: its key and bounds, its events' count, and the packed columns. */
export interface EncodedChunk {
  firstSeq: number;
  lastSeq: number;
  firstT: number;
  lastT: number;
  count: number;
  data: Buffer;
}

/** What the CSV export and the counts read of a stored task event. */
export interface TaskFields {
  type: string;
  task: number | null;
  worker: string | null;
  body: string | null;
}

/** A chunk's bytes do not decode: the file was damaged there (or written by something else). */
export class DamagedChunkError extends Error {}

/** A kind of event in a chunk: its keys in order, and the values every event of the kind shares. */
export interface Shape {
  /** Key ids in the event's own order; empty for the verbatim shape. */
  keys: number[];
  /** The keys as one number (each id + 1 a base-8 digit), to find a shape fast. */
  layout: number;
  type: number;
  /** A string id, or WORKER_NULL (meaningless without a worker key). */
  worker: number;
  run: number;
  hasTask: boolean;
  hasBody: boolean;
  hasWorker: boolean;
  /** The JSON text is pieces[0] + value(slots[0]) + pieces[1] + ... : every constant part rendered once. */
  pieces: string[];
  slots: number[];
}

/** A body: a string, or a template split around the task number. */
export interface Body {
  head: number;
  /** The string id after the task number; -1 for a plain string. */
  tail: number;
  headText: string;
  tailText: string;
  /** The quoted body (plain), or the quoted head without its closing quote (template). */
  open: string;
  /** The quoted tail without its opening quote (template). */
  close: string;
}

const quote = (text: string): string => JSON.stringify(text);

export function makeShape(
  keys: number[],
  type: number,
  worker: number,
  run: number,
  strings: readonly string[],
): Shape {
  const pieces: string[] = [];
  const slots: number[] = [];
  let piece = '{';
  keys.forEach((key, i) => {
    piece += `${i > 0 ? ',' : ''}"${KEYS[key]}":`;
    if (key === TYPE) piece += quote(strings[type]!);
    else if (key === RUN) piece += quote(strings[run]!);
    else if (key === WORKER) piece += worker === WORKER_NULL ? 'null' : quote(strings[worker]!);
    else {
      pieces.push(piece);
      slots.push(key);
      piece = '';
    }
  });
  pieces.push(`${piece}}`);
  return {
    keys,
    layout: keys.reduce((layout, key) => layout * 8 + key + 1, 0),
    type,
    worker,
    run,
    hasTask: keys.includes(TASK),
    hasBody: keys.includes(BODY),
    hasWorker: keys.includes(WORKER),
    pieces,
    slots,
  };
}

export function makeBody(head: number, tail: number, strings: readonly string[]): Body {
  const headText = strings[head]!;
  if (tail < 0) return { head, tail, headText, tailText: '', open: quote(headText), close: '' };
  const tailText = strings[tail]!;
  // Digits need no escaping, so quoting around them is quoting the parts (and the encoder checks every event).
  return { head, tail, headText, tailText, open: quote(headText).slice(0, -1), close: quote(tailText).slice(1) };
}

/** ".001" to ".999" without trailing zeros, and "" for 0: the fraction of a time of whole microseconds. */
const FRACTIONS = Array.from({ length: 1000 }, (_, f) =>
  f === 0 ? '' : `.${String(f).padStart(3, '0')}`.replace(/0+$/, ''),
);

/**
 * A time of whole microseconds (>= 0) as its text in ms, as String(micros / 1000) writes it, without converting a
 * double (4x cheaper); encoder and reader both use it, and the encoder checks it against every event's text.
 */
export function microsText(micros: number): string {
  const whole = Math.floor(micros / 1000);
  return String(whole) + FRACTIONS[micros - whole * 1000]!;
}

/** The JSON text of a packed event (t as text: microsText, or String(t) in a chunk of doubles). */
export function render(shape: Shape, body: Body | undefined, task: number, seq: number, t: string): string {
  const { pieces, slots } = shape;
  let json = pieces[0]!;
  for (let k = 0; k < slots.length; k++) {
    const slot = slots[k]!;
    if (slot === TASK) json += task;
    else if (slot === SEQ) json += seq;
    else if (slot === T) json += t;
    else json += body!.tail < 0 ? body!.open : body!.open + task + body!.close;
    json += pieces[k + 1]!;
  }
  return json;
}

export function keyId(key: string): number {
  switch (key) {
    case 'type':
      return TYPE;
    case 'task':
      return TASK;
    case 'worker':
      return WORKER;
    case 'body':
      return BODY;
    case 'run':
      return RUN;
    case 'seq':
      return SEQ;
    case 't':
      return T;
    default:
      return -1;
  }
}

export const zigzag = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);
export const unzigzag = (n: number): number => (n % 2 === 0 ? n / 2 : -(n + 1) / 2);
/** Beyond this a zigzagged delta is no longer an exact integer in a double. */
export const MAX_DELTA = 2 ** 51;
