/**
 * How a batch of events crosses from the main thread to the writer thread cheaply.
 *
 * Task events (three or four per task) are nearly all of a recording. Serialising each to JSON on the main thread
 * cost about 1 us an event there, and parsing it back about 3 us in the writer; both competed with the pipeline for
 * the CPU. Packed, a task event is a kind byte, three numbers and two small integers written into typed arrays
 * (about 0.15 us), its body the only string; the arrays are transferred, not copied, and the writer rebuilds the
 * event (and its JSON text, if asked) without a parser. Every other event (a few per connection) travels as JSON
 * text.
 */
import type { PlaygroundEvent } from '../../shared/protocol/index.ts';
import type { Entry } from './writer.ts';

const OTHER = 0;
const TASK_TYPES = ['task:sent', 'task:received', 'task:done', 'task:collected', 'task:lost'] as const;
type TaskType = (typeof TASK_TYPES)[number];
type TaskEvent = Extract<PlaygroundEvent, { type: TaskType }>;

/** A batch of events in a form that is cheap to post to a worker thread (its buffers are transferable). */
export interface PackedEvents {
  count: number;
  /** Per event: 0 = JSON text in `texts`, else 1 + index in TASK_TYPES. */
  kinds: Uint8Array;
  /** Per event: seq, t, task. */
  numbers: Float64Array;
  /** Per event: run id, worker id (-1: none, -2: null) as indexes in `names`. */
  refs: Int32Array;
  /** Run and worker ids, each once. */
  names: string[];
  /** In event order: the body of each task:sent / task:received, the JSON of each other event. */
  texts: string[];
}

/**
 * What a recorder hands its channel: its events packed as they arrived (for a channel that posts them to a writer
 * thread), or the event objects themselves (an inline channel stores each event's own JSON text, keys in their
 * order; the packed form has an order of its own).
 */
export type EventBatch = PackedEvents | readonly PlaygroundEvent[];

/** Events in a batch. */
export function batchCount(batch: EventBatch): number {
  return isPacked(batch) ? batch.count : batch.length;
}

export function isPacked(batch: EventBatch): batch is PackedEvents {
  return !Array.isArray(batch);
}

/** A task event's worker ref when it has no worker key / a null worker. */
export const NO_WORKER = -1;
export const NULL_WORKER = -2;

/**
 * Packs events one by one as they arrive (the recorder's listener, on the per-message path), into typed arrays that
 * grow by doubling; take() hands over what was packed as a PackedEvents and starts a new batch. Per task event:
 * a kind, three numbers and two refs written into the arrays and its body's string pushed; no object, no second
 * pass at the flush. Its arrays are allocated lazily (an idle recorder holds none) and sized like the last batch,
 * so a steady stream of batches rarely grows one.
 */
export class EventPacker {
  static readonly MIN_CAPACITY = 256;
  /** A batch that grew large (the writer lagged) does not make every later batch start that large. */
  static readonly MAX_START_CAPACITY = 8192;
  #count = 0;
  #capacity = 0;
  /** The size the next batch's arrays start at: the last batch's count, rounded up to a power of two. */
  #nextCapacity = EventPacker.MIN_CAPACITY;
  #kinds = new Uint8Array(0);
  #numbers = new Float64Array(0);
  #refs = new Int32Array(0);
  #names: string[] = [];
  #index = new Map<string, number>();
  #texts: string[] = [];
  /** The last run id met and its ref: a batch's task events nearly all belong to one run. */
  #lastRun: string | null = null;
  #lastRunRef = 0;

  /** Events packed since the last take(). */
  get count(): number {
    return this.#count;
  }

  add(event: PlaygroundEvent): void {
    const i = this.#count;
    if (i === this.#capacity) this.#grow();
    this.#count = i + 1;
    let kind: number;
    // Literal type strings are internalised: each comparison is a pointer check.
    switch (event.type) {
      case 'task:sent':
        kind = 1;
        break;
      case 'task:received':
        kind = 2;
        break;
      case 'task:done':
        kind = 3;
        break;
      case 'task:collected':
        kind = 4;
        break;
      case 'task:lost':
        kind = 5;
        break;
      default:
        this.#kinds[i] = OTHER;
        this.#texts.push(JSON.stringify(event));
        return;
    }
    const task = event as TaskEvent;
    this.#kinds[i] = kind;
    const n = i * 3;
    this.#numbers[n] = task.seq;
    this.#numbers[n + 1] = task.t;
    this.#numbers[n + 2] = task.task;
    const r = i * 2;
    const run = task.run;
    if (run !== this.#lastRun) {
      this.#lastRun = run;
      this.#lastRunRef = this.#nameOf(run);
    }
    this.#refs[r] = this.#lastRunRef;
    if (kind === 1) {
      this.#refs[r + 1] = NO_WORKER;
      this.#texts.push((task as Extract<TaskEvent, { type: 'task:sent' }>).body);
      return;
    }
    const worker = (task as { worker?: string | null }).worker;
    this.#refs[r + 1] =
      worker === undefined && !('worker' in task) ? NO_WORKER : worker === null ? NULL_WORKER : this.#nameOf(worker!);
    if (kind === 2) this.#texts.push((task as Extract<TaskEvent, { type: 'task:received' }>).body);
  }

  /** Everything packed since the last take(), as one batch (its arrays exactly `count` long); the packer starts anew. */
  take(): PackedEvents {
    const count = this.#count;
    const packed: PackedEvents = {
      count,
      // Views of the first `count` entries: posting one with its buffer transferred moves the buffer, not a copy.
      kinds: this.#kinds.subarray(0, count),
      numbers: this.#numbers.subarray(0, count * 3),
      refs: this.#refs.subarray(0, count * 2),
      names: this.#names,
      texts: this.#texts,
    };
    let next = EventPacker.MIN_CAPACITY;
    while (next < count && next < EventPacker.MAX_START_CAPACITY) next *= 2;
    this.#nextCapacity = next;
    this.#count = 0;
    this.#capacity = 0;
    this.#kinds = new Uint8Array(0);
    this.#numbers = new Float64Array(0);
    this.#refs = new Int32Array(0);
    this.#names = [];
    this.#index = new Map();
    this.#texts = [];
    this.#lastRun = null;
    return packed;
  }

  #grow(): void {
    const capacity = this.#capacity === 0 ? this.#nextCapacity : this.#capacity * 2;
    const kinds = new Uint8Array(capacity);
    const numbers = new Float64Array(capacity * 3);
    const refs = new Int32Array(capacity * 2);
    if (this.#count > 0) {
      kinds.set(this.#kinds);
      numbers.set(this.#numbers);
      refs.set(this.#refs);
    }
    this.#kinds = kinds;
    this.#numbers = numbers;
    this.#refs = refs;
    this.#capacity = capacity;
  }

  #nameOf(name: string): number {
    let i = this.#index.get(name);
    if (i === undefined) {
      i = this.#names.push(name) - 1;
      this.#index.set(name, i);
    }
    return i;
  }
}

/** A batch of events packed at once (what EventPacker packs as they arrive). */
export function packEvents(events: readonly PlaygroundEvent[]): PackedEvents {
  const packer = new EventPacker();
  for (const event of events) packer.add(event);
  return packer.take();
}

/** The buffers to transfer with a packed batch. */
export function transferList(packed: PackedEvents): ArrayBuffer[] {
  return [packed.kinds.buffer as ArrayBuffer, packed.numbers.buffer as ArrayBuffer, packed.refs.buffer as ArrayBuffer];
}

/**
 * The events back, each with the JSON text to store (built without a parser or a generic serialiser). With
 * `taskText: false`, task events come without their text (json null): the store packs them from the event itself
 * (store/chunk-format.ts), so the writer thread need not build it.
 */
export function unpackEvents(packed: PackedEvents, options: { taskText?: boolean } = {}): Entry[] {
  const taskText = options.taskText ?? true;
  const { count, kinds, numbers, refs, names, texts } = packed;
  const quoted = names.map((name) => JSON.stringify(name));
  const entries: Entry[] = new Array(count);
  let text = 0;
  for (let i = 0; i < count; i++) {
    const kind = kinds[i]!;
    if (kind === OTHER) {
      const json = texts[text++]!;
      entries[i] = { event: JSON.parse(json) as PlaygroundEvent, json };
      continue;
    }
    const type = TASK_TYPES[kind - 1]!;
    const seq = numbers[i * 3]!;
    const t = numbers[i * 3 + 1]!;
    const task = numbers[i * 3 + 2]!;
    const run = refs[i * 2]!;
    const workerRef = refs[i * 2 + 1]!;
    const runId = names[run]!;
    const hasBody = type === 'task:sent' || type === 'task:received';
    const body = hasBody ? texts[text++]! : '';
    // Keys in the order of the text, so that JSON.stringify(event) is the text. One literal per combination of
    // keys, not properties added one by one: each gets a single fixed shape (this runs for every event stored).
    let event: Record<string, unknown>;
    if (workerRef === NO_WORKER) {
      event = hasBody ? { type, task, body, run: runId, seq, t } : { type, task, run: runId, seq, t };
    } else {
      const worker = workerRef === NULL_WORKER ? null : names[workerRef]!;
      event = hasBody ? { type, task, worker, body, run: runId, seq, t } : { type, task, worker, run: runId, seq, t };
    }
    let json: string | null = null;
    if (taskText) {
      json = `{"type":"${type}","task":${task}`;
      if (workerRef !== NO_WORKER) json += `,"worker":${workerRef === NULL_WORKER ? 'null' : quoted[workerRef]}`;
      if (hasBody) json += `,"body":${JSON.stringify(body)}`;
      json += `,"run":${quoted[run]},"seq":${seq},"t":${t}}`;
    }
    // With its seq and t: the writer stores this entry as its chunk row as it is (writer-plan.ts).
    entries[i] = { event: event as PlaygroundEvent, json, seq, t };
  }
  return entries;
}

/**
 * The columns of a posted batch as the writer reads them, with no object per task event: the plan (writer-plan.ts)
 * reads a task event's run, seq, t, type and worker from the columns, and the chunk encoder renders it from them
 * (store/chunk-pack.ts, encodeTaskRows). Only the few other events become objects (parsed from their JSON).
 */
export class PackedColumns {
  readonly count: number;
  readonly kinds: Uint8Array;
  readonly numbers: Float64Array;
  readonly refs: Int32Array;
  readonly names: readonly string[];
  readonly texts: readonly string[];
  /** Per event: the index in `texts` of its body (task:sent / task:received) or JSON (other events), else -1. */
  readonly textAt: Int32Array;
  /** The events that are not task events, by index, each with its JSON text. */
  readonly others = new Map<number, Entry>();

  constructor(packed: PackedEvents) {
    const { count, kinds, texts } = packed;
    this.count = count;
    this.kinds = kinds;
    this.numbers = packed.numbers;
    this.refs = packed.refs;
    this.names = packed.names;
    this.texts = texts;
    this.textAt = new Int32Array(count);
    let text = 0;
    for (let i = 0; i < count; i++) {
      const kind = kinds[i]!;
      if (kind === OTHER) {
        const json = texts[text]!;
        this.others.set(i, { event: JSON.parse(json) as PlaygroundEvent, json });
        this.textAt[i] = text++;
      } else this.textAt[i] = kind <= 2 ? text++ : -1;
    }
  }

  isTask(i: number): boolean {
    return this.kinds[i] !== OTHER;
  }

  /** The run id of event i. */
  runOf(i: number): string {
    return this.kinds[i] !== OTHER ? this.names[this.refs[i * 2]!]! : this.others.get(i)!.event.run;
  }

  seqOf(i: number): number {
    return this.kinds[i] !== OTHER ? this.numbers[i * 3]! : this.others.get(i)!.event.seq;
  }

  tOf(i: number): number {
    return this.kinds[i] !== OTHER ? this.numbers[i * 3 + 1]! : this.others.get(i)!.event.t;
  }

  /** A task event's type (its kind's). */
  typeOf(i: number): TaskType {
    return TASK_TYPES[this.kinds[i]! - 1]!;
  }

  /** A task event's worker: its id, null (a null worker or none). */
  workerOf(i: number): string | null {
    const ref = this.refs[i * 2 + 1]!;
    return ref >= 0 ? this.names[ref]! : null;
  }

  /**
   * Task event i as the object unpackEvents makes of it (the same keys in the same order), under run id `run`.
   * Only for what the columns cannot render (store/chunk-pack.ts keeps such an event as its JSON text).
   */
  taskEvent(i: number, run: string): PlaygroundEvent {
    const type = this.typeOf(i);
    const seq = this.numbers[i * 3]!;
    const t = this.numbers[i * 3 + 1]!;
    const task = this.numbers[i * 3 + 2]!;
    const workerRef = this.refs[i * 2 + 1]!;
    const hasBody = this.kinds[i]! <= 2;
    const body = hasBody ? this.texts[this.textAt[i]!]! : '';
    let event: Record<string, unknown>;
    if (workerRef === NO_WORKER) event = hasBody ? { type, task, body, run, seq, t } : { type, task, run, seq, t };
    else {
      const worker = workerRef === NULL_WORKER ? null : this.names[workerRef]!;
      event = hasBody ? { type, task, worker, body, run, seq, t } : { type, task, worker, run, seq, t };
    }
    return event as PlaygroundEvent;
  }
}

/**
 * Events start..end of a posted batch: what a RunWriter writes in one transaction (writer.ts cuts a batch into
 * ranges of at most BATCH_SIZE, as it cuts an array of entries).
 */
export class PackedBatch {
  constructor(
    readonly columns: PackedColumns,
    readonly start = 0,
    readonly end = columns.count,
  ) {}

  static of(packed: PackedEvents): PackedBatch {
    return new PackedBatch(new PackedColumns(packed));
  }

  get length(): number {
    return this.end - this.start;
  }

  /** Like Array.prototype.slice, in the range's own positions. */
  slice(from: number, to: number): PackedBatch {
    return new PackedBatch(this.columns, this.start + from, this.start + Math.min(to, this.length));
  }
}

/**
 * One run's task events of one transaction, stored as chunks straight from a batch's columns: the positions of its
 * events in the columns, and the run id they are stored under (the live one, or another when a stored run had it).
 */
export class PackedTaskRows {
  readonly at: number[] = [];

  constructor(
    readonly columns: PackedColumns,
    readonly run: string,
  ) {}

  get length(): number {
    return this.at.length;
  }
}
