/**
 * Writing a task chunk (the format is described in chunk-format.ts): the events' dictionaries and columns. The
 * recorder hands the events themselves (no text is made for them), and the chunk stores what JSON.stringify would
 * write of each: its columns render it by JSON.stringify's own rules (chunk-format.test.ts holds them to it over
 * odd bodies, workers, key orders and numbers), and an event they cannot render is kept as that text. An older
 * chunk's lines come as text only: a line is kept as columns only when they render that very line. This runs in
 * the writer thread for every task event, so the common case allocates next to nothing: shapes are found by worker,
 * and a batch's bodies by the template the previous event of the shape used.
 */
import {
  FLAG_MICROS,
  MAX_DELTA,
  PACKED,
  PRESET,
  RUN,
  SEQ,
  T,
  TASK,
  TYPE,
  WORKER,
  BODY,
  WORKER_NULL,
  keyId,
  makeBody,
  makeShape,
  microsText,
  render,
  zigzag,
  type Body,
  type EncodedChunk,
  type ChunkEvent,
  type Shape,
} from './chunk-format.ts';
import { NO_WORKER, NULL_WORKER, type PackedColumns, type PackedTaskRows } from '../packed.ts';

// Module-level copies of what the hot path calls: an import read through a getter costs in the writer's loop.
const keyIdOf = keyId;
const makeShapeOf = makeShape;
const renderText = render;
const WORKER_NONE = NO_WORKER;
const WORKER_NULL_REF = NULL_WORKER;

/** Bytes written at the end of a growing buffer. */
class Output {
  #bytes = Buffer.allocUnsafe(8192);
  length = 0;

  #room(n: number): void {
    if (this.length + n <= this.#bytes.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.#bytes.length * 2, this.length + n));
    this.#bytes.copy(bigger, 0, 0, this.length);
    this.#bytes = bigger;
  }

  varint(n: number): void {
    this.#room(8);
    let value = n;
    while (value >= 128) {
      this.#bytes[this.length++] = (value % 128) | 128;
      value = Math.floor(value / 128);
    }
    this.#bytes[this.length++] = value;
  }

  signed(n: number): void {
    if (!(Math.abs(n) < MAX_DELTA)) throw new RangeError(`a task chunk cannot hold the step ${n}`);
    this.varint(zigzag(n));
  }

  double(n: number): void {
    this.#room(8);
    this.#bytes.writeDoubleLE(n, this.length);
    this.length += 8;
  }

  string(text: string): void {
    const size = Buffer.byteLength(text);
    this.varint(size);
    this.#room(size);
    this.length += this.#bytes.write(text, this.length, 'utf8');
  }

  /** A copy of what was written (the working buffer is reused by nobody, but is mostly empty). */
  done(): Buffer {
    return Buffer.from(this.#bytes.subarray(0, this.length));
  }
}

/**
 * Below this many microseconds (31 years), a time has at most 15 significant digits: microsText writes it as
 * String(t) does, and its steps fit the columns.
 */
const MAX_MICROS = 1e15;
/** Tasks beyond this (either way) are kept as text: a step between two of them must fit a column. */
const MAX_TASK = 2 ** 49;

/**
 * Whether every t can be stored as whole microseconds (>= 0: a run's elapsed time) and read back as the same
 * double: the pipeline rounds its times so.
 */
function wholeMicros(ts: Float64Array): boolean {
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i]!;
    const micros = Math.round(t * 1000);
    if (!(micros >= 0 && micros < MAX_MICROS) || !Number.isInteger(micros) || micros / 1000 !== t) return false;
  }
  return true;
}

/** Whether `body` is what `entry` gives for a task written `task` (null: the event has no task). */
function fits(entry: Body, body: string, task: string | null): boolean {
  if (entry.tail < 0) return body === entry.headText;
  if (task === null) return false;
  const { headText, tailText } = entry;
  return (
    body.length === headText.length + task.length + tailText.length &&
    body.startsWith(headText) &&
    body.startsWith(task, headText.length) &&
    body.endsWith(tailText)
  );
}

/** #nameIds: a name not met yet in this chunk. */
const UNSEEN = -2;

/** The keys of a task event from a batch's columns (unpackEvents' order), by form: worker? x 2 + body?. */
const COLUMN_KEYS: readonly (readonly number[])[] = [
  [TYPE, TASK, RUN, SEQ, T],
  [TYPE, TASK, BODY, RUN, SEQ, T],
  [TYPE, TASK, WORKER, RUN, SEQ, T],
  [TYPE, TASK, WORKER, BODY, RUN, SEQ, T],
];
const COLUMN_LAYOUTS = COLUMN_KEYS.map((keys) => keys.reduce((layout, key) => layout * 8 + key + 1, 0));

/** A chunk's dictionaries and columns, built event by event. */
class Packer {
  readonly strings: string[] = [...PRESET];
  readonly #stringIds = new Map<string, number>(PRESET.map((text, i) => [text, i]));
  readonly shapes: Shape[] = [];
  /** Shape ids by worker (index: 0 none, 1 null, 2 + its string id): a handful each, scanned. */
  readonly #shapesByWorker: number[][] = [];
  /** Per shape, the body its last event had: the next one most often fits it too. */
  readonly #lastBody: number[] = [];
  readonly bodies: Body[] = [];
  readonly #bodyIds = new Map<string, number>();
  #verbatim = -1;
  /** Strings with a lone surrogate (see #packedStringId). */
  readonly #malformed = new Set<number>();
  #lastRun: string | null = null;
  #lastRunId = -1;
  readonly shapeOf: Uint32Array;
  /** Per event: its body id, or its text's string id when verbatim, or -1. */
  readonly refOf: Int32Array;
  readonly taskOf: Float64Array;
  /** Per event: its seq and t (from the rows, or from a batch's columns). */
  readonly seqs: Float64Array;
  readonly ts: Float64Array;
  micros = false;
  /** Per name of a batch's columns (index): its string id, -1 for one with a lone surrogate, -2 not yet seen. */
  #nameIds: Int32Array | null = null;

  constructor(count: number) {
    this.shapeOf = new Uint32Array(count);
    this.refOf = new Int32Array(count).fill(-1);
    this.taskOf = new Float64Array(count);
    this.seqs = new Float64Array(count);
    this.ts = new Float64Array(count);
  }

  stringId(text: string): number {
    let id = this.#stringIds.get(text);
    if (id === undefined) {
      id = this.strings.push(text) - 1;
      this.#stringIds.set(text, id);
      if (!(text as unknown as { isWellFormed(): boolean }).isWellFormed()) this.#malformed.add(id);
    }
    return id;
  }

  /**
   * The id of a string a packed event renders, or -1 for one with a lone surrogate: UTF-8 cannot hold it, and
   * JSON.stringify writes it as an escape, so such an event is kept as its text (as the store kept it before).
   */
  #packedStringId(text: string): number {
    const id = this.stringId(text);
    return this.#malformed.size > 0 && this.#malformed.has(id) ? -1 : id;
  }

  /**
   * Event i. Given as an object, it is stored as what JSON.stringify(event) writes: as columns when the columns
   * render that (the rendering follows JSON.stringify's rules for these keys and values), else as that text. Given
   * only as text, it is stored as columns only when they render that very text, else as the text.
   */
  add(i: number, row: ChunkEvent): void {
    if (row.event !== undefined) {
      if (!this.#addObject(i, row, row.event as Record<string, unknown>))
        this.#addText(i, row.json ?? JSON.stringify(row.event));
      return;
    }
    const json = row.json!;
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      // Kept as it is: the reads answered this text before, and they still do.
    }
    const packed =
      parsed !== null &&
      typeof parsed === 'object' &&
      this.#addObject(i, row, parsed as Record<string, unknown>) &&
      this.#render(i, row) === json;
    if (!packed) this.#addText(i, json);
  }

  /** Before events from a batch's columns: the batch has this many names (run and worker ids). */
  useNames(count: number): void {
    this.#nameIds = new Int32Array(count).fill(UNSEEN);
  }

  /**
   * Event i from a batch's columns (its position `at` there), stored under run id `run`: the very ids, shapes and
   * bodies #addObject gives the object unpackEvents makes of it (keys type, task, worker if any, body if any, run,
   * seq, t), found from small integers (its kind, its worker's index) instead of its keys and values. Its strings
   * are met in #addObject's order (worker, run, type, body), so the dictionary comes out the same. What the
   * columns cannot render (a t that is not finite, a task too large, a lone surrogate) takes the object's way.
   */
  addColumns(i: number, columns: PackedColumns, at: number, run: string): void {
    const kind = columns.kinds[at]!;
    const t = this.ts[i]!;
    const task = columns.numbers[at * 3 + 2]!;
    // What #addObject refuses before it meets a string.
    if (!Number.isFinite(t) || !Number.isInteger(task) || Math.abs(task) >= MAX_TASK)
      return this.#addColumnsAsObject(i, columns, at, run);
    this.taskOf[i] = task;
    const workerRef = columns.refs[at * 2 + 1]!;
    let workerSlot = 0;
    if (workerRef >= 0) {
      const nameIds = this.#nameIds!;
      let id = nameIds[workerRef]!;
      if (id === UNSEEN) id = nameIds[workerRef] = this.#packedStringId(columns.names[workerRef]!);
      if (id < 0) return this.#addColumnsAsObject(i, columns, at, run);
      workerSlot = id + 2;
    } else if (workerRef === WORKER_NULL_REF) workerSlot = 1;
    const runId = run === this.#lastRun ? this.#lastRunId : this.#runId(run);
    if (runId < 0) return this.#addColumnsAsObject(i, columns, at, run);
    const type = kind - 1; // the kinds count the task types in PRESET's order
    const hasBody = kind <= 2;
    const form = (workerRef === WORKER_NONE ? 0 : 2) + (hasBody ? 1 : 0);
    let shapeId = this.#findShape(COLUMN_LAYOUTS[form]!, type, workerSlot, runId);
    if (shapeId < 0) shapeId = this.#newShape([...COLUMN_KEYS[form]!], type, workerSlot, runId);
    let bodyId = -1;
    if (hasBody) {
      bodyId = this.#bodyId(shapeId, columns.texts[columns.textAt[at]!]!, String(task));
      if (bodyId === -2) return this.#addColumnsAsObject(i, columns, at, run);
    }
    this.shapeOf[i] = shapeId;
    this.refOf[i] = bodyId;
  }

  /** Event i from the columns as its object (what is met again is found again: the ids come out the same). */
  #addColumnsAsObject(i: number, columns: PackedColumns, at: number, run: string): void {
    this.add(i, { seq: this.seqs[i]!, t: this.ts[i]!, json: null, event: columns.taskEvent(at, run) });
  }

  #addText(i: number, json: string): void {
    if (this.#verbatim < 0) this.#verbatim = this.shapes.push(makeShapeOf([], 0, 0, 0, this.strings)) - 1;
    this.shapeOf[i] = this.#verbatim;
    this.refOf[i] = this.stringId(json);
  }

  /** Event i's text as the reader will render it. */
  #render(i: number, row: ChunkEvent): string {
    const shape = this.shapes[this.shapeOf[i]!]!;
    const t = this.micros ? microsText(Math.round(row.t * 1000)) : String(row.t);
    return renderText(shape, this.bodies[this.refOf[i]!], this.taskOf[i]!, row.seq, t);
  }

  /**
   * Event i as columns, if they can render JSON.stringify(event): every key one of KEYS (a key whose value is
   * undefined, JSON leaves out), type a string, task a safe integer, worker a string or null, body and run
   * strings, seq and t the row's (t finite).
   */
  #addObject(i: number, row: ChunkEvent, event: Record<string, unknown>): boolean {
    const { type, task, worker, body, run, seq, t } = event;
    let layout = 0;
    for (const key in event) {
      const id = keyIdOf(key);
      if (id < 0) return false;
      const value =
        id === 0 ? type : id === 1 ? task : id === 2 ? worker : id === 3 ? body : id === 4 ? run : id === 5 ? seq : t;
      if (value !== undefined) layout = layout * 8 + id + 1;
    }
    if (typeof type !== 'string') return false;
    if (seq !== undefined && seq !== row.seq) return false;
    if (t !== undefined && (t !== row.t || !Number.isFinite(t))) return false;
    let taskText: string | null = null;
    if (task !== undefined) {
      if (!Number.isInteger(task) || Math.abs(task as number) >= MAX_TASK) return false;
      this.taskOf[i] = task as number;
      taskText = String(task);
    }
    let workerSlot = 0;
    if (typeof worker === 'string') {
      const id = this.#packedStringId(worker);
      if (id < 0) return false;
      workerSlot = id + 2;
    } else if (worker === null) workerSlot = 1;
    else if (worker !== undefined) return false;
    if (body !== undefined && typeof body !== 'string') return false;
    let runId = -1;
    if (typeof run === 'string') {
      runId = run === this.#lastRun ? this.#lastRunId : this.#runId(run);
      if (runId < 0) return false;
    } else if (run !== undefined) return false;
    const typeId = this.#packedStringId(type);
    if (typeId < 0) return false;
    const shapeId = this.#shapeId(event, layout, typeId, workerSlot, runId);
    const bodyId = body === undefined ? -1 : this.#bodyId(shapeId, body as string, taskText);
    if (bodyId === -2) return false;
    this.shapeOf[i] = shapeId;
    this.refOf[i] = bodyId;
    return true;
  }

  #shapeId(event: Record<string, unknown>, layout: number, type: number, workerSlot: number, run: number): number {
    const found = this.#findShape(layout, type, workerSlot, run);
    if (found >= 0) return found;
    const keys = Object.keys(event)
      .filter((key) => event[key] !== undefined)
      .map(keyIdOf);
    return this.#newShape(keys, type, workerSlot, run);
  }

  #findShape(layout: number, type: number, workerSlot: number, run: number): number {
    const ids = (this.#shapesByWorker[workerSlot] ??= []);
    for (let k = 0; k < ids.length; k++) {
      const shape = this.shapes[ids[k]!]!;
      if (shape.layout === layout && shape.type === type && shape.run === run) return ids[k]!;
    }
    return -1;
  }

  #newShape(keys: number[], type: number, workerSlot: number, run: number): number {
    const ids = this.#shapesByWorker[workerSlot]!;
    const worker = workerSlot >= 2 ? workerSlot - 2 : WORKER_NULL;
    const id = this.shapes.push(makeShapeOf(keys, type, worker, run, this.strings)) - 1;
    ids.push(id);
    this.#lastBody[id] = -1;
    return id;
  }

  #runId(run: string): number {
    this.#lastRun = run;
    return (this.#lastRunId = this.#packedStringId(run));
  }

  /** The body's id (-2: it has a lone surrogate, see #packedStringId). */
  #bodyId(shapeId: number, body: string, task: string | null): number {
    const last = this.#lastBody[shapeId]!;
    if (last >= 0 && fits(this.bodies[last]!, body, task)) return last;
    let head = body;
    let tail: string | null = null;
    const at = task === null ? -1 : body.indexOf(task);
    if (at >= 0) {
      head = body.slice(0, at);
      tail = body.slice(at + task!.length);
    }
    const headId = this.#packedStringId(head);
    const tailId = tail === null ? -1 : this.#packedStringId(tail);
    if (headId < 0 || (tail !== null && tailId < 0)) return -2;
    const key = `${headId},${tailId}`;
    let id = this.#bodyIds.get(key);
    if (id === undefined) {
      id = this.bodies.push(makeBody(headId, tailId, this.strings)) - 1;
      this.#bodyIds.set(key, id);
    }
    this.#lastBody[shapeId] = id;
    return id;
  }

  /** The chunk's bytes, once every event is in. */
  write(): Buffer {
    const { strings, shapes, bodies, shapeOf, refOf, taskOf, seqs, ts } = this;
    const count = seqs.length;
    const micros = this.micros;
    const out = new Output();
    out.varint(PACKED);
    out.varint(count);
    out.varint(micros ? FLAG_MICROS : 0);
    out.varint(strings.length - PRESET.length);
    for (let i = PRESET.length; i < strings.length; i++) out.string(strings[i]!);
    out.varint(shapes.length);
    for (const shape of shapes) {
      out.varint(shape.keys.length);
      for (const key of shape.keys) out.varint(key);
      if (shape.keys.length === 0) continue;
      out.varint(shape.type);
      if (shape.hasWorker) out.varint(shape.worker === WORKER_NULL ? 0 : shape.worker + 1);
      if (shape.keys.includes(RUN)) out.varint(shape.run);
    }
    out.varint(bodies.length);
    for (const body of bodies) {
      out.varint(body.head * 2 + (body.tail < 0 ? 0 : 1));
      if (body.tail >= 0) out.varint(body.tail);
    }
    for (let i = 0; i < count; i++) out.varint(shapeOf[i]!);
    let previous = 0;
    for (let i = 0; i < count; i++) {
      const seq = seqs[i]!;
      // The reads find an event by binary search on seq.
      if (!Number.isSafeInteger(seq) || (i > 0 && seq <= previous))
        throw new RangeError(`a task chunk needs increasing whole seqs, not ${seq} after ${previous}`);
      out.signed(seq - previous);
      previous = seq;
    }
    previous = 0;
    for (let i = 0; i < count; i++) {
      const t = ts[i]!;
      if (micros) {
        const at = Math.round(t * 1000);
        out.signed(at - previous);
        previous = at;
      } else out.double(t);
    }
    // Each type's tasks step by about one: the delta from the previous event of the type is a byte.
    const lastTask = new Float64Array(strings.length);
    for (let i = 0; i < count; i++) {
      const shape = shapes[shapeOf[i]!]!;
      if (!shape.hasTask) continue;
      out.signed(taskOf[i]! - lastTask[shape.type]!);
      lastTask[shape.type] = taskOf[i]!;
    }
    for (let i = 0; i < count; i++) if (shapes[shapeOf[i]!]!.hasBody) out.varint(refOf[i]!);
    for (let i = 0; i < count; i++) if (shapes[shapeOf[i]!]!.keys.length === 0) out.varint(refOf[i]!);
    return out.done();
  }
}

/** Encodes events (seq increasing, at most CHUNK_EVENTS, at least one) as one chunk row. */
export function encodeChunk(rows: readonly ChunkEvent[]): EncodedChunk {
  const packer = new Packer(rows.length);
  for (let i = 0; i < rows.length; i++) {
    packer.seqs[i] = rows[i]!.seq;
    packer.ts[i] = rows[i]!.t;
  }
  packer.micros = wholeMicros(packer.ts);
  for (let i = 0; i < rows.length; i++) packer.add(i, rows[i]!);
  return encoded(packer);
}

/**
 * Encodes the task events start..end of one run's packed rows as one chunk row, straight from the batch's columns:
 * the same bytes encodeChunk writes of the events unpackEvents makes of them (chunk-pack.test.ts), with no object
 * per event.
 */
export function encodePackedChunk(rows: PackedTaskRows, start: number, end: number): EncodedChunk {
  const { columns, at } = rows;
  const { numbers } = columns;
  const packer = new Packer(end - start);
  for (let i = 0; i < end - start; i++) {
    const index = at[start + i]!;
    packer.seqs[i] = numbers[index * 3]!;
    packer.ts[i] = numbers[index * 3 + 1]!;
  }
  packer.micros = wholeMicros(packer.ts);
  packer.useNames(columns.names.length);
  for (let i = 0; i < end - start; i++) packer.addColumns(i, columns, at[start + i]!, rows.run);
  return encoded(packer);
}

/** A run's task events of one transaction: events (objects or older lines), or positions in a batch's columns. */
export type TaskRows = readonly ChunkEvent[] | PackedTaskRows;

/** Encodes rows start..end (at most CHUNK_EVENTS, at least one) of either form as one chunk row. */
export function encodeTaskRows(rows: TaskRows, start: number, end: number): EncodedChunk {
  if (isEventList(rows)) return encodeChunk(start === 0 && end === rows.length ? rows : rows.slice(start, end));
  return encodePackedChunk(rows, start, end);
}

const isEventList = (rows: TaskRows): rows is readonly ChunkEvent[] => Array.isArray(rows);

function encoded(packer: Packer): EncodedChunk {
  const { seqs, ts } = packer;
  const count = seqs.length;
  return {
    firstSeq: seqs[0]!,
    lastSeq: seqs[count - 1]!,
    firstT: ts[0]!,
    lastT: ts[count - 1]!,
    count,
    data: packer.write(),
  };
}
