/**
 * Reading a task chunk (the format is described in chunk-format.ts): decoded whole into typed arrays when the
 * row is read, each event's JSON text rendered when asked for. Bytes that do not decode are a DamagedChunkError
 * that names the run and seq, never a wrong answer or a crash.
 */
import {
  FLAG_MICROS,
  KEYS,
  PACKED,
  PRESET,
  RUN,
  TYPE,
  WORKER,
  WORKER_NULL,
  DamagedChunkError,
  makeBody,
  makeShape,
  microsText,
  render,
  type Body,
  type ChunkRow,
  type Shape,
  type TaskFields,
} from './chunk-format.ts';

/** Past this, a varint no longer fits a double exactly (the encoder never writes one). */
const MAX_SCALE = 2 ** 49;

/** Reads a chunk's bytes; every overrun or out-of-range id is a DamagedChunkError. */
class Input {
  #at = 0;

  constructor(readonly bytes: Buffer) {}

  get left(): number {
    return this.bytes.length - this.#at;
  }

  varint(): number {
    // Most numbers of a chunk are one byte.
    const byte = this.bytes[this.#at];
    if (byte !== undefined && byte < 128) {
      this.#at++;
      return byte;
    }
    return this.#longVarint();
  }

  #longVarint(): number {
    const bytes = this.bytes;
    let value = 0;
    let scale = 1;
    for (;;) {
      if (this.#at >= bytes.length) throw new DamagedChunkError('it ends too early');
      const byte = bytes[this.#at++]!;
      value += (byte & 127) * scale;
      if (byte < 128) return value;
      scale *= 128;
      if (scale > MAX_SCALE) throw new DamagedChunkError('a number in it is too long');
    }
  }

  signed(): number {
    const n = this.varint();
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  /** A varint that must be below `limit` (an id into a table, a count that must fit in what is left). */
  below(limit: number, what: string): number {
    const n = this.varint();
    if (n >= limit) throw new DamagedChunkError(`${what} ${n} is out of range`);
    return n;
  }

  double(): number {
    if (this.left < 8) throw new DamagedChunkError('it ends too early');
    const n = this.bytes.readDoubleLE(this.#at);
    this.#at += 8;
    return n;
  }

  string(): string {
    const size = this.below(this.left + 1, 'a string length');
    const text = this.bytes.toString('utf8', this.#at, this.#at + size);
    this.#at += size;
    return text;
  }
}

/** A task chunk, decoded: per event its seq, t and what renders its JSON text. */
export class Chunk {
  readonly count: number;
  readonly #seqs: Float64Array;
  readonly #ts: Float64Array;
  /** The times in whole microseconds, when the chunk stores them so (they render as microsText). */
  readonly #micros: Float64Array | null;
  readonly #tasks: Float64Array;
  readonly #shapeOf: Uint32Array;
  /** Per event: its body id, or its text's string id when verbatim. */
  readonly #refs: Int32Array;
  readonly #strings: string[];
  readonly #shapes: Shape[] = [];
  readonly #bodies: Body[] = [];
  readonly #where: string;

  constructor(row: ChunkRow) {
    this.#where = `the task events of run ${row.run} stored from seq ${row.first_seq}`;
    try {
      if (!Buffer.isBuffer(row.data)) throw new DamagedChunkError('it is not a BLOB');
      const input = new Input(row.data);
      const format = input.varint();
      if (format !== PACKED) throw new DamagedChunkError(`its format ${format} is unknown to this server`);
      // Every event takes at least two bytes: a count beyond that is damage, not a reason to allocate.
      const count = input.below(input.left, 'its event count');
      if (count !== row.count || count === 0) throw new DamagedChunkError(`it holds ${count} events, not ${row.count}`);
      this.count = count;
      const flags = input.varint();
      if (flags > FLAG_MICROS) throw new DamagedChunkError(`its flags ${flags} are unknown`);
      const strings = [...PRESET];
      const ownStrings = input.below(input.left + 1, 'its string count');
      for (let i = 0; i < ownStrings; i++) strings.push(input.string());
      this.#strings = strings;
      const shapes = input.below(input.left + 1, 'its shape count');
      for (let i = 0; i < shapes; i++) this.#shapes.push(this.#readShape(input));
      const bodies = input.below(input.left + 1, 'its body count');
      for (let i = 0; i < bodies; i++) {
        const packed = input.below(strings.length * 2, 'a body');
        const tail = packed % 2 === 1 ? input.below(strings.length, 'a body tail') : -1;
        this.#bodies.push(makeBody(Math.floor(packed / 2), tail, strings));
      }
      this.#shapeOf = new Uint32Array(count);
      for (let i = 0; i < count; i++) this.#shapeOf[i] = input.below(this.#shapes.length, 'a shape');
      this.#seqs = new Float64Array(count);
      let seq = 0;
      for (let i = 0; i < count; i++) {
        const next = seq + input.signed();
        if (i > 0 && next <= seq) throw new DamagedChunkError(`its seqs do not increase (${next} after ${seq})`);
        this.#seqs[i] = seq = next;
      }
      if (this.#seqs[0] !== row.first_seq || seq !== row.last_seq)
        throw new DamagedChunkError(
          `its seqs ${this.#seqs[0]}..${seq} are not the row's ${row.first_seq}..${row.last_seq}`,
        );
      this.#ts = new Float64Array(count);
      this.#micros = (flags & FLAG_MICROS) !== 0 ? new Float64Array(count) : null;
      if (this.#micros) {
        let micros = 0;
        for (let i = 0; i < count; i++) {
          micros += input.signed();
          if (micros < 0) throw new DamagedChunkError('a time in it is negative');
          this.#micros[i] = micros;
          this.#ts[i] = micros / 1000;
        }
      } else for (let i = 0; i < count; i++) this.#ts[i] = input.double();
      this.#tasks = new Float64Array(count);
      const lastTask = new Float64Array(strings.length);
      for (let i = 0; i < count; i++) {
        const shape = this.#shapes[this.#shapeOf[i]!]!;
        if (!shape.hasTask) continue;
        const task = lastTask[shape.type]! + input.signed();
        this.#tasks[i] = task;
        lastTask[shape.type] = task;
      }
      this.#refs = new Int32Array(count).fill(-1);
      for (let i = 0; i < count; i++) {
        if (this.#shapes[this.#shapeOf[i]!]!.hasBody) this.#refs[i] = input.below(this.#bodies.length, 'a body id');
      }
      for (let i = 0; i < count; i++) {
        if (this.#shapes[this.#shapeOf[i]!]!.keys.length === 0)
          this.#refs[i] = input.below(strings.length, 'a text id');
      }
      if (input.left !== 0) throw new DamagedChunkError(`${input.left} bytes follow its last column`);
    } catch (error) {
      throw this.#damaged(error);
    }
  }

  #readShape(input: Input): Shape {
    const size = input.below(KEYS.length + 1, 'a key count');
    const keys: number[] = [];
    for (let k = 0; k < size; k++) {
      const key = input.below(KEYS.length, 'a key');
      if (keys.includes(key)) throw new DamagedChunkError(`a shape repeats the key "${KEYS[key]}"`);
      keys.push(key);
    }
    if (size === 0) return makeShape([], 0, 0, 0, this.#strings);
    if (!keys.includes(TYPE)) throw new DamagedChunkError('a shape has no type');
    const type = input.below(this.#strings.length, 'a type');
    const worker = keys.includes(WORKER) ? input.below(this.#strings.length + 1, 'a worker') - 1 : WORKER_NULL;
    const run = keys.includes(RUN) ? input.below(this.#strings.length, 'a run') : 0;
    return makeShape(keys, type, worker, run, this.#strings);
  }

  #damaged(error: unknown): DamagedChunkError {
    const reason = (error as Error).message;
    return new DamagedChunkError(
      `The run database is damaged: ${this.#where} cannot be read (${reason}). ` +
        `sqlite3 on a copy of the file, ".recover", may save the rest of it.`,
    );
  }

  seq(i: number): number {
    return this.#seqs[i]!;
  }

  t(i: number): number {
    return this.#ts[i]!;
  }

  /** The event's JSON text, exactly as it was stored. */
  json(i: number): string {
    const shape = this.#shapes[this.#shapeOf[i]!]!;
    if (shape.keys.length === 0) return this.#strings[this.#refs[i]!]!;
    const t = this.#micros ? microsText(this.#micros[i]!) : String(this.#ts[i]!);
    return render(shape, this.#bodies[this.#refs[i]!], this.#tasks[i]!, this.#seqs[i]!, t);
  }

  /** What JSON.parse(json(i)) says of the event's type, task, worker and body (each null when absent). */
  fields(i: number): TaskFields {
    const shape = this.#shapes[this.#shapeOf[i]!]!;
    if (shape.keys.length === 0) {
      let event: Partial<Record<keyof TaskFields, unknown>>;
      try {
        event = JSON.parse(this.#strings[this.#refs[i]!]!) as typeof event;
      } catch (error) {
        throw this.#damaged(new Error(`the text of seq ${this.seq(i)} is not JSON: ${(error as Error).message}`));
      }
      return {
        type: event.type as string,
        task: (event.task ?? null) as number | null,
        worker: (event.worker ?? null) as string | null,
        body: (event.body ?? null) as string | null,
      };
    }
    const strings = this.#strings;
    const task = this.#tasks[i]!;
    let body: string | null = null;
    if (shape.hasBody) {
      const entry = this.#bodies[this.#refs[i]!]!;
      body = entry.tail < 0 ? strings[entry.head]! : strings[entry.head]! + task + strings[entry.tail]!;
    }
    const hasWorker = shape.keys.includes(WORKER);
    return {
      type: strings[shape.type]!,
      task: shape.hasTask ? task : null,
      worker: hasWorker && shape.worker !== WORKER_NULL ? strings[shape.worker]! : null,
      body,
    };
  }

  /** The first index whose seq is >= `seq` (count if none). */
  indexOfSeq(seq: number): number {
    return this.#firstIndexWhere((i) => this.#seqs[i]! >= seq);
  }

  /** The first index whose t is >= `t` (count if none). */
  indexOfT(t: number): number {
    return this.#firstIndexWhere((i) => this.#ts[i]! >= t);
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
