/**
 * Binary task-event frames (issue 12, SPEC [W5]): an `events` frame whose task events travel as packed columns in
 * one binary WebSocket message, used by the server (to encode) and the page (to decode), never stored.
 *
 * In a burst nearly every event of a frame is a task event (task:sent, task:received, task:done, task:collected,
 * task:lost): the same five shapes, run and worker ids from a handful, bodies from one template. As JSON each is
 * ~110 bytes the server stringifies and deflates and the page parses and validates field by field; packed it is
 * a kind byte and a few varints (~6 bytes). Every other event of the frame, its `dropped` and its exact counters
 * stay JSON, in the frame's header.
 *
 * Layout (little-endian; varint = unsigned LEB128, zigzag for signed values):
 *
 *   'Z' 'P' 'T' version(1)             magic and the version of this layout (TASK_FRAME_VERSION)
 *   u32 header length, header          UTF-8 JSON: the `events` message with the frame's other events only
 *   varint rows                        task events in the frame
 *   3 string tables                    runs, workers, body templates: varint count, then per string its varint
 *                                      UTF-8 length and bytes
 *   columns, each `rows` long:
 *     kind     u8      1 + index in TASK_EVENT_TYPES
 *     run      u8      index in runs
 *     worker   varint  0: the event has no worker field (task:sent), 1: null (task:lost), 2 + index in workers
 *     task     zigzag  minus the previous row's task (the first: minus 0)
 *     seq      varint  minus the previous row's seq (at least 1: seqs rise; the first: minus 0)
 *     t        u8 decimals d (0-6), then per row a zigzag: t × 10^d, minus the previous row's (the first: minus
 *              0); d is the fewest decimals that say every t of the frame exactly (the server stamps µs: 3)
 *     body     (task:sent and task:received rows only, in row order) varint template index, varint at:
 *              0 = the template is the body, n > 0 = the task's decimal id is inserted at n - 1
 *
 * The pipeline's bodies are "task <id> <padding>" (cut to 64 characters): one template for a whole frame.
 * A frame the layout cannot say exactly (a t with more than 6 decimals, more than 255 runs, ...) is not encoded:
 * it goes as JSON. The decoder checks everything a JSON frame's validation would (kinds, indexes, ids, rising
 * seqs, counts that fit the bytes) and answers an error, never throws, on any malformed or truncated buffer.
 */
import { decodeServerMessage } from './codec.ts';
import type { Counters, PlaygroundEvent } from './schema.ts';

/** The layout's version (the 4th byte): a page reads only the version it knows, and asks for it in `subscribe`. */
export const TASK_FRAME_VERSION = 1;
const MAGIC = [0x5a, 0x50, 0x54] as const; // "ZPT"
/** The fewest task events for which a frame is sent binary (below it JSON costs next to nothing). */
export const BINARY_FROM_TASK_EVENTS = 32;

export const TASK_EVENT_TYPES = ['task:sent', 'task:received', 'task:done', 'task:collected', 'task:lost'] as const;
export type TaskEventType = (typeof TASK_EVENT_TYPES)[number];
export type TaskEvent = Extract<PlaygroundEvent, { type: TaskEventType }>;
/** Kind codes (1 + index in TASK_EVENT_TYPES), for code that reads the columns without building events. */
export const KIND_SENT = 1;
export const KIND_RECEIVED = 2;
export const KIND_DONE = 3;
export const KIND_COLLECTED = 4;
export const KIND_LOST = 5;
const KIND_OF: Readonly<Record<string, number>> = Object.fromEntries(TASK_EVENT_TYPES.map((type, i) => [type, i + 1]));

/** An id as the schema allows it (schema.ts Id). */
const ID = /^[A-Za-z0-9_.:-]{1,64}$/;
const NO_WORKER = 0;
const NULL_WORKER = 1;

export function isTaskEvent(event: PlaygroundEvent): event is TaskEvent {
  return KIND_OF[event.type] !== undefined;
}

/** The frame as the batcher makes it (server/http/event-batcher.ts). */
export interface EventsMessage {
  type: 'events';
  events: readonly PlaygroundEvent[];
  dropped: number;
  counters: Counters;
}

/**
 * A frame's task events as columns (row i is one event, in seq order). Nothing per event is built until asked:
 * `bodyOf` makes a body string, `eventAt` a whole event.
 */
export class TaskColumns {
  constructor(
    readonly count: number,
    /** 1 + index in TASK_EVENT_TYPES (KIND_SENT ...). */
    readonly kind: Uint8Array,
    /** Index in `runs`. */
    readonly run: Uint8Array,
    /** -1: no worker field, -2: null, else index in `workers`. */
    readonly worker: Int32Array,
    readonly task: Float64Array,
    readonly seq: Float64Array,
    readonly t: Float64Array,
    /** Per row: index in `templates` (-1 for rows without a body), and where the task's id goes (-1: nowhere). */
    readonly bodyTemplate: Int32Array,
    readonly bodyAt: Int32Array,
    readonly runs: readonly string[],
    readonly workers: readonly string[],
    readonly templates: readonly string[],
  ) {}

  typeAt(i: number): TaskEventType {
    return TASK_EVENT_TYPES[this.kind[i]! - 1]!;
  }

  runAt(i: number): string {
    return this.runs[this.run[i]!]!;
  }

  /** The worker's id, null for a task:lost whose worker nobody knows, undefined for a task:sent. */
  workerAt(i: number): string | null | undefined {
    const w = this.worker[i]!;
    return w >= 0 ? this.workers[w]! : w === -2 ? null : undefined;
  }

  /** The body of a task:sent or task:received row ('' for the others). */
  bodyOf(i: number): string {
    const template = this.bodyTemplate[i]!;
    if (template < 0) return '';
    const text = this.templates[template]!;
    const at = this.bodyAt[i]!;
    return at < 0 ? text : text.slice(0, at) + String(this.task[i]) + text.slice(at);
  }

  /** Row i as the event the JSON frame would have carried. */
  eventAt(i: number): TaskEvent {
    const type = this.typeAt(i);
    const base = { run: this.runAt(i), seq: this.seq[i]!, t: this.t[i]!, task: this.task[i]! };
    switch (type) {
      case 'task:sent':
        return { type, ...base, body: this.bodyOf(i) };
      case 'task:received':
        return { type, ...base, worker: this.workerAt(i) as string, body: this.bodyOf(i) };
      case 'task:done':
      case 'task:collected':
        return { type, ...base, worker: this.workerAt(i) as string };
      case 'task:lost':
        return { type, ...base, worker: this.workerAt(i) ?? null };
    }
  }

  /** The rows from `first` on (a client skipping the ones it already has). */
  from(first: number): TaskColumns {
    if (first <= 0) return this;
    const end = this.count;
    const at = Math.min(first, end);
    return new TaskColumns(
      end - at,
      this.kind.subarray(at),
      this.run.subarray(at),
      this.worker.subarray(at),
      this.task.subarray(at),
      this.seq.subarray(at),
      this.t.subarray(at),
      this.bodyTemplate.subarray(at),
      this.bodyAt.subarray(at),
      this.runs,
      this.workers,
      this.templates,
    );
  }
}

/**
 * One row of TaskColumns read as an event, through getters: a single cursor serves a whole frame (`at(i)` moves it),
 * so folding a frame's rows builds no object per event, and a body string only when one is read. Read it during
 * the call that gets it; never keep it, spread it or serialise it (its fields are getters, not own properties).
 */
export class TaskRowCursor {
  #columns: TaskColumns;
  #i = 0;
  constructor(columns: TaskColumns) {
    this.#columns = columns;
  }
  /** Moves to row i; answers itself as the event it stands for. */
  at(i: number): TaskEvent {
    this.#i = i;
    return this as unknown as TaskEvent;
  }
  get type(): TaskEventType {
    return this.#columns.typeAt(this.#i);
  }
  get seq(): number {
    return this.#columns.seq[this.#i]!;
  }
  get run(): string {
    return this.#columns.runAt(this.#i);
  }
  get t(): number {
    return this.#columns.t[this.#i]!;
  }
  get task(): number {
    return this.#columns.task[this.#i]!;
  }
  get worker(): string | null | undefined {
    return this.#columns.workerAt(this.#i);
  }
  get body(): string {
    return this.#columns.bodyOf(this.#i);
  }
}

/**
 * Calls `onEvent` with every event of a frame in seq order: `events` as they are, the rows of `tasks` (if any)
 * through one TaskRowCursor (valid during the call only: see there).
 */
export function forEachEvent(
  events: readonly PlaygroundEvent[],
  tasks: TaskColumns | null | undefined,
  onEvent: (event: PlaygroundEvent) => void,
): void {
  if (!tasks || tasks.count === 0) {
    for (const event of events) onEvent(event);
    return;
  }
  const cursor = new TaskRowCursor(tasks);
  let e = 0;
  for (let i = 0; i < tasks.count; i++) {
    const seq = tasks.seq[i]!;
    while (e < events.length && events[e]!.seq < seq) onEvent(events[e++]!);
    onEvent(cursor.at(i));
  }
  while (e < events.length) onEvent(events[e++]!);
}

/**
 * Walks a frame in seq order: `onEvent` for each of `events`, `onRow(i)` for each row of `tasks` (if any), for code
 * that reads the columns themselves (the fastest way: no getter, no object).
 */
export function forEachInOrder(
  events: readonly PlaygroundEvent[],
  tasks: TaskColumns | null | undefined,
  onEvent: (event: PlaygroundEvent) => void,
  onRow: (i: number) => void,
): void {
  let e = 0;
  const rows = tasks?.count ?? 0;
  for (let i = 0; i < rows; i++) {
    const seq = tasks!.seq[i]!;
    while (e < events.length && events[e]!.seq < seq) onEvent(events[e++]!);
    onRow(i);
  }
  while (e < events.length) onEvent(events[e++]!);
}

/** A decoded binary frame: the other events as objects, the task events as columns. */
export interface TaskFrame {
  events: PlaygroundEvent[];
  tasks: TaskColumns;
  dropped: number;
  counters: Counters;
}

/** Every event of a decoded frame as objects, in seq order (for code that wants the JSON frame's events). */
export function allEvents(
  events: readonly PlaygroundEvent[],
  tasks: TaskColumns | null | undefined,
): PlaygroundEvent[] {
  if (!tasks || tasks.count === 0) return [...events];
  const all: PlaygroundEvent[] = [];
  let e = 0;
  for (let i = 0; i < tasks.count; i++) {
    const seq = tasks.seq[i]!;
    while (e < events.length && events[e]!.seq < seq) all.push(events[e++]!);
    all.push(tasks.eventAt(i));
  }
  while (e < events.length) all.push(events[e++]!);
  return all;
}

// ------------------------------------------------------------------------------------------------ encoding

/** A growing byte buffer. */
class Writer {
  bytes = new Uint8Array(4096);
  length = 0;

  #room(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  u8(value: number): void {
    this.#room(1);
    this.bytes[this.length++] = value;
  }

  u32At(at: number, value: number): void {
    this.bytes[at] = value & 0xff;
    this.bytes[at + 1] = (value >>> 8) & 0xff;
    this.bytes[at + 2] = (value >>> 16) & 0xff;
    this.bytes[at + 3] = (value >>> 24) & 0xff;
  }

  /** Unsigned LEB128 of a safe integer (>= 0). */
  varint(value: number): void {
    this.#room(8);
    while (value >= 0x80) {
      this.bytes[this.length++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.bytes[this.length++] = value;
  }

  zigzag(value: number): void {
    this.varint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  /** UTF-8 bytes of `text`, after a varint of their length. */
  string(text: string): void {
    const encoded = utf8.encode(text);
    this.varint(encoded.length);
    this.#room(encoded.length);
    this.bytes.set(encoded, this.length);
    this.length += encoded.length;
  }

  raw(encoded: Uint8Array): void {
    this.#room(encoded.length);
    this.bytes.set(encoded, this.length);
    this.length += encoded.length;
  }
}

const utf8 = new TextEncoder();
/** One buffer for every frame encoded (it grows to the largest), so a frame costs no new zeroed buffer. */
const scratch = new Writer();

/** A table of strings, each once. */
class Table {
  readonly items: string[] = [];
  readonly #index = new Map<string, number>();
  of(text: string): number {
    let i = this.#index.get(text);
    if (i === undefined) {
      i = this.items.push(text) - 1;
      this.#index.set(text, i);
    }
    return i;
  }
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Times carry at most this many decimals of a ms (the server stamps µs: 3). */
const MAX_DECIMALS = 6;
const SCALE = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000] as const;
/** Largest |value| a zigzag varint carries here (its double must stay a safe integer). */
const MAX_ZIGZAG = Math.floor(MAX_SAFE / 2);

/**
 * The binary form of `frame`, or null when it should go as JSON: fewer than `minTaskEvents` task events, or one
 * the layout cannot say exactly.
 */
export function encodeTaskFrame(
  frame: EventsMessage,
  minTaskEvents: number = BINARY_FROM_TASK_EVENTS,
): Uint8Array | null {
  const tasks: TaskEvent[] = [];
  const others: PlaygroundEvent[] = [];
  for (const event of frame.events) {
    if (isTaskEvent(event)) tasks.push(event);
    else others.push(event);
  }
  if (tasks.length < minTaskEvents || tasks.length === 0) return null;
  const runs = new Table();
  const workers = new Table();
  const templates = new Table();
  const n = tasks.length;
  const kinds = new Uint8Array(n);
  const runRefs = new Uint8Array(n);
  const workerRefs = new Array<number>(n);
  const bodies: number[] = [];
  let previousSeq = 0;
  /** The fewest decimals that say every t so far exactly. */
  let decimals = 0;
  let lastTemplate = '';
  let lastPrefix = '';
  let lastSuffix = '';
  let lastIndex = -1;
  let lastAt = -1;
  for (let i = 0; i < n; i++) {
    const event = tasks[i]!;
    kinds[i] = KIND_OF[event.type]!;
    const run = runs.of(event.run);
    if (run > 255) return null;
    runRefs[i] = run;
    if (!('worker' in event)) workerRefs[i] = NO_WORKER;
    else if (event.worker === null) workerRefs[i] = NULL_WORKER;
    else workerRefs[i] = 2 + workers.of(event.worker);
    const { seq, t, task } = event;
    if (!Number.isSafeInteger(seq) || seq <= previousSeq) return null;
    previousSeq = seq;
    if (!Number.isSafeInteger(task) || task < 0 || task > MAX_ZIGZAG) return null;
    if (!(t >= 0)) return null;
    while (decimals < MAX_DECIMALS && Math.round(t * SCALE[decimals]!) / SCALE[decimals]! !== t) decimals++;
    if (Math.round(t * SCALE[decimals]!) / SCALE[decimals]! !== t || t * SCALE[decimals]! > MAX_ZIGZAG) return null;
    if ('body' in event) {
      const body = event.body;
      const id = String(task);
      // Most bodies fit the last template (one per frame in a batch): checked in place, nothing built.
      if (
        lastAt >= 0 &&
        body.length === lastTemplate.length + id.length &&
        body.startsWith(id, lastAt) &&
        body.startsWith(lastPrefix) &&
        body.endsWith(lastSuffix)
      ) {
        bodies.push(lastIndex, lastAt + 1);
        continue;
      }
      const at = body.indexOf(id);
      if (at < 0) bodies.push(templates.of(body), 0);
      else {
        lastPrefix = body.slice(0, at);
        lastSuffix = body.slice(at + id.length);
        lastTemplate = lastPrefix + lastSuffix;
        lastIndex = templates.of(lastTemplate);
        lastAt = at;
        bodies.push(lastIndex, at + 1);
      }
    }
  }
  const out = scratch;
  out.length = 0;
  out.raw(Uint8Array.of(...MAGIC, TASK_FRAME_VERSION));
  const header = utf8.encode(
    JSON.stringify({ type: 'events', events: others, dropped: frame.dropped, counters: frame.counters }),
  );
  out.raw(new Uint8Array(4));
  out.u32At(4, header.length);
  out.raw(header);
  out.varint(n);
  for (const table of [runs, workers, templates]) {
    out.varint(table.items.length);
    for (const text of table.items) out.string(text);
  }
  out.raw(kinds);
  out.raw(runRefs);
  for (let i = 0; i < n; i++) out.varint(workerRefs[i]!);
  let previous = 0;
  for (let i = 0; i < n; i++) {
    out.zigzag(tasks[i]!.task - previous);
    previous = tasks[i]!.task;
  }
  previous = 0;
  for (let i = 0; i < n; i++) {
    out.varint(tasks[i]!.seq - previous);
    previous = tasks[i]!.seq;
  }
  previous = 0;
  out.u8(decimals);
  const scale = SCALE[decimals]!;
  for (let i = 0; i < n; i++) {
    const scaled = Math.round(tasks[i]!.t * scale);
    out.zigzag(scaled - previous);
    previous = scaled;
  }
  for (const value of bodies) out.varint(value);
  // A copy: the scratch buffer is the next frame's.
  return out.bytes.slice(0, out.length);
}

// ------------------------------------------------------------------------------------------------ decoding

export type TaskFrameDecoded = { ok: true; value: TaskFrame } | { ok: false; error: string };

/** Thrown inside the decoder only; decodeTaskFrame turns it into `{ ok: false }`. */
class Malformed extends Error {}

class Reader {
  at = 0;
  readonly #bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  get left(): number {
    return this.#bytes.length - this.at;
  }

  take(n: number, what: string): Uint8Array {
    if (n > this.left) throw new Malformed(`truncated in ${what}`);
    const part = this.#bytes.subarray(this.at, this.at + n);
    this.at += n;
    return part;
  }

  u8(what: string): number {
    if (this.left < 1) throw new Malformed(`truncated in ${what}`);
    return this.#bytes[this.at++]!;
  }

  u32(what: string): number {
    const b = this.take(4, what);
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  }

  varint(what: string): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (this.left < 1) throw new Malformed(`truncated in ${what}`);
      const byte = this.#bytes[this.at++]!;
      value += (byte & 0x7f) * scale;
      // Not `value > MAX_SAFE`: 150 zero groups carry the scale to Infinity, and 0 * Infinity is NaN, which no
      // comparison catches (an overlong varint would decode as NaN, and a NaN index as row 0 of a column).
      if (!(value <= MAX_SAFE)) throw new Malformed(`${what}: a number too large`);
      if ((byte & 0x80) === 0) return value;
      scale *= 0x80;
    }
  }

  zigzag(what: string): number {
    const v = this.varint(what);
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

function text(reader: Reader, what: string): string {
  const length = reader.varint(what);
  try {
    return utf8Strict.decode(reader.take(length, what));
  } catch (error) {
    if (error instanceof Malformed) throw error;
    throw new Malformed(`${what}: not UTF-8`);
  }
}

function table(reader: Reader, what: string, isId: boolean): string[] {
  const count = reader.varint(what);
  // Each string takes at least its length byte: a count past the bytes left is a lie, not an allocation to make.
  if (count > reader.left) throw new Malformed(`${what}: ${count} strings in ${reader.left} bytes`);
  const items: string[] = [];
  for (let i = 0; i < count; i++) {
    const item = text(reader, what);
    if (isId && !ID.test(item)) throw new Malformed(`${what}: "${item.slice(0, 40)}" is not an id`);
    items.push(item);
  }
  return items;
}

/** Whether `bytes` starts as a binary task frame of any version (else it is something else altogether). */
export function isTaskFrame(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === MAGIC[0] && bytes[1] === MAGIC[1] && bytes[2] === MAGIC[2];
}

/** Decodes a binary task frame; any malformed, truncated or foreign buffer is an error that says what is wrong. */
export function decodeTaskFrame(bytes: Uint8Array): TaskFrameDecoded {
  try {
    return { ok: true, value: decode(bytes) };
  } catch (error) {
    if (error instanceof Malformed) return { ok: false, error: `binary frame: ${error.message}` };
    return { ok: false, error: `binary frame: ${(error as Error).message}` };
  }
}

function decode(bytes: Uint8Array): TaskFrame {
  if (!isTaskFrame(bytes)) throw new Malformed('not a task frame (no ZPT magic)');
  if (bytes[3] !== TASK_FRAME_VERSION)
    throw new Malformed(`layout version ${bytes[3]}, this page reads version ${TASK_FRAME_VERSION}`);
  const reader = new Reader(bytes);
  reader.at = 4;
  const headerLength = reader.u32('the header length');
  let headerText: string;
  try {
    headerText = utf8Strict.decode(reader.take(headerLength, 'the header'));
  } catch (error) {
    if (error instanceof Malformed) throw error;
    throw new Malformed('the header is not UTF-8');
  }
  const header = decodeServerMessage(headerText);
  if (!header.ok) throw new Malformed(`the header: ${header.message}`);
  if (header.value.type !== 'events') throw new Malformed(`the header is a ${header.value.type} message`);
  const { events, dropped, counters } = header.value;
  if (events.some(isTaskEvent)) throw new Malformed('the header carries task events');

  const n = reader.varint('the row count');
  // Every row takes at least 6 bytes (kind, run, worker, task, seq, t: one byte each at the least).
  if (n * 6 > reader.left) throw new Malformed(`${n} rows in ${reader.left} bytes`);
  const runs = table(reader, 'the runs', true);
  const workers = table(reader, 'the workers', true);
  const templates = table(reader, 'the body templates', false);

  const kind = reader.take(n, 'the kinds').slice();
  const run = reader.take(n, 'the runs column').slice();
  const worker = new Int32Array(n);
  const task = new Float64Array(n);
  const seq = new Float64Array(n);
  const t = new Float64Array(n);
  const bodyTemplate = new Int32Array(n).fill(-1);
  const bodyAt = new Int32Array(n).fill(-1);
  let withBody = 0;
  for (let i = 0; i < n; i++) {
    const k = kind[i]!;
    if (k < KIND_SENT || k > KIND_LOST) throw new Malformed(`row ${i}: kind ${k}`);
    if (run[i]! >= runs.length) throw new Malformed(`row ${i}: run ${run[i]} of ${runs.length}`);
    if (k === KIND_SENT || k === KIND_RECEIVED) withBody++;
  }
  for (let i = 0; i < n; i++) {
    const ref = reader.varint('the workers column');
    const k = kind[i]!;
    if (ref === NO_WORKER) {
      if (k !== KIND_SENT) throw new Malformed(`row ${i}: a ${TASK_EVENT_TYPES[k - 1]} without a worker`);
      worker[i] = -1;
    } else if (ref === NULL_WORKER) {
      if (k !== KIND_LOST) throw new Malformed(`row ${i}: a ${TASK_EVENT_TYPES[k - 1]} with a null worker`);
      worker[i] = -2;
    } else {
      if (k === KIND_SENT) throw new Malformed(`row ${i}: a task:sent with a worker`);
      if (ref - 2 >= workers.length) throw new Malformed(`row ${i}: worker ${ref - 2} of ${workers.length}`);
      worker[i] = ref - 2;
    }
  }
  let previous = 0;
  for (let i = 0; i < n; i++) {
    previous += reader.zigzag('the tasks column');
    if (previous < 0 || !Number.isSafeInteger(previous)) throw new Malformed(`row ${i}: task ${previous}`);
    task[i] = previous;
  }
  previous = 0;
  for (let i = 0; i < n; i++) {
    const step = reader.varint('the seqs column');
    if (step < 1) throw new Malformed(`row ${i}: seq does not rise`);
    previous += step;
    if (!Number.isSafeInteger(previous)) throw new Malformed(`row ${i}: seq too large`);
    seq[i] = previous;
  }
  previous = 0;
  const decimals = reader.u8('the times column');
  if (decimals > MAX_DECIMALS) throw new Malformed(`times with ${decimals} decimals`);
  const scale = SCALE[decimals]!;
  for (let i = 0; i < n; i++) {
    previous += reader.zigzag('the times column');
    if (previous < 0 || !Number.isSafeInteger(previous)) throw new Malformed(`row ${i}: t ${previous / scale}`);
    t[i] = previous / scale;
  }
  if (withBody * 2 > reader.left) throw new Malformed(`${withBody} bodies in ${reader.left} bytes`);
  for (let i = 0; i < n; i++) {
    const k = kind[i]!;
    if (k !== KIND_SENT && k !== KIND_RECEIVED) continue;
    const template = reader.varint('the bodies');
    const at = reader.varint('the bodies');
    if (template >= templates.length) throw new Malformed(`row ${i}: body template ${template} of ${templates.length}`);
    if (at > templates[template]!.length + 1)
      throw new Malformed(`row ${i}: body position ${at - 1} past its template`);
    bodyTemplate[i] = template;
    bodyAt[i] = at - 1;
  }
  if (reader.left !== 0) throw new Malformed(`${reader.left} bytes after the last column`);
  // The other events keep their places by seq; two events with one seq would be a frame no JSON frame can be.
  const seqs = new Set<number>(seq);
  for (const event of events) if (seqs.has(event.seq)) throw new Malformed(`seq ${event.seq} twice`);
  return {
    events,
    dropped,
    counters,
    tasks: new TaskColumns(n, kind, run, worker, task, seq, t, bodyTemplate, bodyAt, runs, workers, templates),
  };
}
