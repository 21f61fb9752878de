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
const KIND_OF: Record<string, number> = Object.fromEntries(TASK_TYPES.map((type, i) => [type, i + 1]));

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

/** A task event's worker ref when it has no worker key / a null worker. */
export const NO_WORKER = -1;
export const NULL_WORKER = -2;

export function packEvents(events: readonly PlaygroundEvent[]): PackedEvents {
  const count = events.length;
  const kinds = new Uint8Array(count);
  const numbers = new Float64Array(count * 3);
  const refs = new Int32Array(count * 2);
  const names: string[] = [];
  const index = new Map<string, number>();
  const texts: string[] = [];
  const nameOf = (name: string): number => {
    let i = index.get(name);
    if (i === undefined) {
      i = names.push(name) - 1;
      index.set(name, i);
    }
    return i;
  };
  for (let i = 0; i < count; i++) {
    const event = events[i]!;
    const kind = KIND_OF[event.type] ?? OTHER;
    kinds[i] = kind;
    if (kind === OTHER) {
      texts.push(JSON.stringify(event));
      continue;
    }
    const task = event as TaskEvent;
    numbers[i * 3] = task.seq;
    numbers[i * 3 + 1] = task.t;
    numbers[i * 3 + 2] = task.task;
    refs[i * 2] = nameOf(task.run);
    refs[i * 2 + 1] = !('worker' in task) ? NO_WORKER : task.worker === null ? NULL_WORKER : nameOf(task.worker);
    if ('body' in task) texts.push(task.body);
  }
  return { count, kinds, numbers, refs, names, texts };
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
