/**
 * Live frames of one playground, built and encoded once for every reader that is caught up (issue 9, presenter
 * mode: 200 watchers must not cost 200 serialisations of each frame).
 *
 * LiveFrames is the playground's hub: while some connection is caught up it holds one EventBatcher on the
 * playground's log, and each ~33 ms frame it makes is JSON-encoded once, turned into UTF-8 bytes once, and the same
 * bytes are handed to every caught-up connection (which frame them, and compress them when the connection
 * negotiated it, once for all: shared-frame.ts). A large audience gets its frames further apart (sharedIntervalMs:
 * every 100 ms for 200 readers), each with exact counters. It is also the playground's one listener of info
 * changes, so a `playground:updated` is encoded once and reaches each connection in order with its events.
 *
 * A StreamConnection is one WebSocket's way through this. It is on its own path, as every connection was before,
 * while it is behind: catching up a backlog, or with more than `congestedBytes` unsent (its own batcher then leaves
 * task events out, EventBatcher's rule). It switches between the two paths only at a moment when nothing is
 * waiting on the side it joins, so that no event is lost or sent twice:
 * - own -> shared: when the hub's batcher holds nothing (at once, or right after the hub's next frame), the
 *   connection sends what its own batcher holds, stops it, and gets every shared frame from then on;
 * - shared -> own: a shared frame finding the connection congested is not sent to it as is: the connection sends
 *   it with its task events left out, and its own batcher takes the log from that moment.
 * Outbox's rules stay: a reader past its budget is dropped, not fed (outbox.ts).
 *
 * Binary task frames (issue 12, SPEC [W5]): a connection whose `subscribe` asked for the binary layout this server
 * writes (TASK_FRAME_VERSION) gets each live frame with at least BINARY_FROM_TASK_EVENTS task events as one binary
 * message (shared/protocol/task-frame.ts), every other frame as JSON. A frame is encoded only in the forms its
 * readers take, each once: JSON for the others, binary for those who asked. Backlogs stay JSON.
 */
import type {
  Counters,
  PlaygroundEvent,
  PlaygroundInfo,
  PresenterState,
  ServerMessage,
} from '../../shared/protocol/index.ts';
import { TASK_FRAME_VERSION, encodeTaskFrame } from '../../shared/protocol/task-frame.ts';
import {
  EventBatcher,
  FRAME_INTERVAL_MS,
  MAX_TASK_EVENTS_PER_FRAME,
  SAMPLED_TYPES,
  type EventsFrame,
} from './event-batcher.ts';

/** What the hub and the connections need of a playground. */
export interface LiveSource {
  readonly log: {
    subscribe(listener: (event: PlaygroundEvent) => void): () => void;
    since(sinceSeq: number): PlaygroundEvent[];
  };
  counters(): Counters;
  onInfoChanged(listener: (info: PlaygroundInfo) => void): () => void;
  /** Presenter mode (SPEC [S6]): the state now, and its changes. */
  readonly presenter: PresenterState;
  onPresenterChanged(listener: (state: PresenterState) => void): () => void;
}

/** What a connection needs of its socket (Outbox). */
export interface FrameOutbox {
  send(frame: string | Buffer): void;
  /** A binary message (a binary task frame). */
  sendBinary(bytes: Buffer): void;
  readonly queuedBytes: number;
  readonly sendingBacklog: boolean;
  sendBacklog(frames: () => string | null, onDone: () => void): void;
}

/** The binary form of a frame as a Buffer (a view, not a copy), or null when it goes as JSON (task-frame.ts). */
function binaryFrame(message: EventsFrame): Buffer | null {
  const bytes = encodeTaskFrame(message);
  return bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : null;
}

/**
 * The most task events a live frame carries to a reader of binary task frames (the page; SPEC [W5]), where a JSON
 * reader gets MAX_TASK_EVENTS_PER_FRAME (400). The page draws at most 60 dots at a time (a burst's flights last
 * 150 ms: about 13 task and 13 result dots take off per frame) and its charts need a sample, not every task; the
 * 400 it was sent in a burst cost the server their encoding and the page their folding, frame after frame, for
 * nothing it shows (issue 12). 200 (50 whole tasks a frame, ~1,500 tasks/s) leaves interval 1 ms unsampled.
 */
export const BINARY_TASK_EVENTS_PER_FRAME = 200;

/** Events per backlog frame. */
export const BACKLOG_FRAME_EVENTS = 500;

/**
 * Frames a hub writes a second, all its readers together, before its frames come further apart. Once a frame is
 * encoded (and compressed) once, what each reader still costs the server is one socket write per frame, ~20 us
 * however small the frame (docs/benchmarks.md), so a large audience gets fewer frames, not fewer counts: 200
 * readers get one every 100 ms (as often as the page redraws its counters), 500 or more one every 250 ms.
 */
export const SHARED_WRITES_PER_SECOND = 2000;
/** The longest time between two shared frames, whatever the audience. */
export const MAX_SHARED_INTERVAL_MS = 250;

/** The interval of a hub's frames for `readers` readers (never under `baseMs`, the single reader's interval). */
export function sharedIntervalMs(readers: number, baseMs: number = FRAME_INTERVAL_MS): number {
  const spread = Math.round((readers * 1000) / SHARED_WRITES_PER_SECOND);
  return Math.max(baseMs, Math.min(MAX_SHARED_INTERVAL_MS, spread));
}

export class LiveFrames {
  readonly #source: LiveSource;
  readonly #onIdle: () => void;
  readonly #batcher: EventBatcher;
  /** The interval of frames for a few readers; a large audience stretches it (sharedIntervalMs). */
  readonly #baseIntervalMs: number;
  /** Every connection of the playground (info changes go to all of them). */
  readonly #attached = new Set<StreamConnection>();
  /** Caught up: each shared frame goes to them. */
  readonly #shared = new Set<StreamConnection>();
  /** Caught up, waiting for the hub's next frame to join (the hub's batcher held events when they asked). */
  readonly #joining = new Set<StreamConnection>();
  /** The hub's batcher holds events (or sampled-out counts) not sent yet: its timer will send them. */
  #pending = false;
  #stopLog: (() => void) | null = null;
  #stopInfo: (() => void) | null = null;
  #stopPresenter: (() => void) | null = null;
  /** The presenter state's message, encoded once per change and sent as is to every connection. */
  #presenterBytes: Buffer | null = null;
  /** How many shared frames were encoded (tests compare it with the frames the readers got). */
  framesEncoded = 0;

  /** `onIdle` is called once the last connection has left (the caller forgets this hub). */
  constructor(source: LiveSource, onIdle: () => void = () => {}, intervalMs?: number) {
    this.#source = source;
    this.#onIdle = onIdle;
    this.#baseIntervalMs = intervalMs ?? FRAME_INTERVAL_MS;
    this.#batcher = new EventBatcher({
      // Encoded here, in the forms the readers take (JSON, binary), once each.
      encodes: false,
      send: (_frame, message) => this.#deliver(message),
      counters: () => source.counters(),
      ...(intervalMs === undefined ? {} : { intervalMs }),
    });
  }

  /** How many connections take the shared frames now. */
  get sharedReaders(): number {
    return this.#shared.size;
  }

  attach(connection: StreamConnection): void {
    this.#attached.add(connection);
    this.#stopInfo ??= this.#source.onInfoChanged((info) => this.#infoChanged(info));
    this.#stopPresenter ??= this.#source.onPresenterChanged(() => this.#presenterChanged());
  }

  /** The current presenter message (sent right after `hello`); encoded once until the state changes. */
  presenterBytes(): Buffer {
    this.#presenterBytes ??= Buffer.from(
      JSON.stringify({ type: 'presenter', presenter: this.#source.presenter } satisfies ServerMessage),
      'utf8',
    );
    return this.#presenterBytes;
  }

  detach(connection: StreamConnection): void {
    this.leave(connection);
    this.#attached.delete(connection);
    if (this.#attached.size > 0) return;
    this.#stopInfo?.();
    this.#stopInfo = null;
    this.#stopPresenter?.();
    this.#stopPresenter = null;
    this.#presenterBytes = null;
    this.#batcher.close();
    this.#onIdle();
  }

  /** A connection that is caught up asks to take the shared frames (StreamConnection.joined() says when). */
  requestJoin(connection: StreamConnection): void {
    if (this.#shared.has(connection) || this.#joining.has(connection) || !this.#attached.has(connection)) return;
    if (this.#pending) {
      this.#joining.add(connection);
      this.#fitInterval();
      return;
    }
    this.#listen();
    this.#shared.add(connection);
    this.#fitInterval();
    connection.joined();
  }

  /** A connection goes back to its own path (a new subscribe): it takes no more shared frames. */
  leave(connection: StreamConnection): void {
    this.#shared.delete(connection);
    this.#joining.delete(connection);
    this.#fitInterval();
    this.#quietIfAlone();
  }

  /**
   * The audience changed: the next frames come as far apart as its size asks (sharedIntervalMs), and carry at most
   * BINARY_TASK_EVENTS_PER_FRAME task events while every reader takes binary frames (one JSON reader: 400 for all).
   */
  #fitInterval(): void {
    this.#batcher.intervalMs = sharedIntervalMs(this.#shared.size + this.#joining.size, this.#baseIntervalMs);
    let isAllBinary = true;
    for (const connection of this.#shared) isAllBinary &&= connection.takesBinary;
    for (const connection of this.#joining) isAllBinary &&= connection.takesBinary;
    this.#batcher.maxTaskEventsPerFrame = isAllBinary ? BINARY_TASK_EVENTS_PER_FRAME : MAX_TASK_EVENTS_PER_FRAME;
  }

  #listen(): void {
    this.#stopLog ??= this.#source.log.subscribe((event) => {
      this.#pending = true;
      this.#batcher.push(event);
    });
  }

  /** Nobody takes shared frames: the hub stops gathering them (what it held was for nobody). */
  #quietIfAlone(): void {
    if (this.#shared.size > 0 || this.#joining.size > 0 || !this.#stopLog) return;
    this.#stopLog();
    this.#stopLog = null;
    this.#batcher.clear();
    this.#pending = false;
  }

  #deliver(message: EventsFrame): void {
    this.#pending = false;
    this.framesEncoded++;
    // The one UTF-8 encoding of this frame (ws writes these bytes as they are to every socket), and its one binary
    // encoding (null: it goes as JSON), each made when the first reader that takes it comes.
    let text: Buffer | undefined;
    let binary: Buffer | null | undefined;
    for (const connection of [...this.#shared]) {
      if (connection.congested) {
        this.#shared.delete(connection);
        connection.leaveWith(message);
        continue;
      }
      if (connection.takesBinary) {
        binary = binary === undefined ? binaryFrame(message) : binary;
        if (binary) {
          connection.deliverBinary(binary);
          continue;
        }
      }
      text ??= Buffer.from(JSON.stringify(message), 'utf8');
      connection.deliver(text);
    }
    // The hub's batcher is empty now: whoever waited joins at this moment.
    for (const connection of [...this.#joining]) {
      this.#joining.delete(connection);
      this.#shared.add(connection);
      connection.joined();
    }
    this.#fitInterval();
    this.#quietIfAlone();
  }

  /**
   * The presenter moved: one encoding, the same bytes to every connection. It does not depend on the events, so it
   * goes out at once, even to a connection still catching up its backlog.
   */
  #presenterChanged(): void {
    this.#presenterBytes = null;
    const bytes = this.presenterBytes();
    for (const connection of [...this.#attached]) connection.deliver(bytes);
  }

  #infoChanged(info: PlaygroundInfo): void {
    this.#batcher.flush(); // events logged before the change go out first (and waiting joiners join)
    const bytes = Buffer.from(
      JSON.stringify({ type: 'playground:updated', playground: info } satisfies ServerMessage),
      'utf8',
    );
    for (const connection of [...this.#attached]) connection.infoChanged(info, bytes);
  }
}

type Mode = 'idle' | 'backlog' | 'own' | 'shared';

/** One stream connection's frames: its backlog, its own batcher while it is behind, the hub's frames otherwise. */
export class StreamConnection {
  readonly #hub: LiveFrames;
  readonly #source: LiveSource;
  readonly #outbox: FrameOutbox;
  readonly #congestedBytes: number;
  readonly #batcher: EventBatcher;
  #mode: Mode = 'idle';
  #stopOwn: (() => void) | null = null;
  /** The newest playground info that changed while a backlog was going out; only the last one matters. */
  #heldInfo: PlaygroundInfo | null = null;
  /** The client reads binary task frames of this server's layout (its subscribe said so). */
  #takesBinary = false;

  constructor(
    hub: LiveFrames,
    source: LiveSource,
    outbox: FrameOutbox,
    options: { congestedBytes: number; intervalMs?: number },
  ) {
    this.#hub = hub;
    this.#source = source;
    this.#outbox = outbox;
    this.#congestedBytes = options.congestedBytes;
    this.#batcher = new EventBatcher({
      encodes: false,
      send: (_frame, message) => {
        const binary = this.#takesBinary ? binaryFrame(message) : null;
        if (binary) outbox.sendBinary(binary);
        else outbox.send(JSON.stringify(message));
        // Caught up again (reader took its bytes): back to the shared frames.
        if (this.#mode === 'own' && !this.congested) this.#hub.requestJoin(this);
      },
      counters: () => source.counters(),
      isCongested: () => this.congested,
      ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
    });
    hub.attach(this);
  }

  get mode(): Mode {
    return this.#mode;
  }

  get congested(): boolean {
    return this.#outbox.queuedBytes > this.#congestedBytes;
  }

  /** Whether live frames with many task events go to this connection as binary task frames. */
  get takesBinary(): boolean {
    return this.#takesBinary;
  }

  /**
   * The backlog since `sinceSeq`, then live events. A subscribe while a backlog is going out replaces it: the
   * events waiting behind it are forgotten and the new backlog starts at its own seq. `binary`: the binary task
   * frame layout the client reads (its frames are binary when it is this server's, JSON otherwise).
   */
  subscribe(sinceSeq: number, binary?: number): void {
    this.#takesBinary = binary === TASK_FRAME_VERSION;
    this.#batcher.maxTaskEventsPerFrame = this.#takesBinary ? BINARY_TASK_EVENTS_PER_FRAME : MAX_TASK_EVENTS_PER_FRAME;
    this.#hub.leave(this);
    this.#stopOwn?.();
    this.#batcher.clear();
    this.#batcher.pause();
    this.#mode = 'backlog';
    // The backlog is taken and live events are subscribed in one synchronous step: none is missed or repeated.
    const backlog = this.#source.log.since(sinceSeq);
    this.#stopOwn = this.#source.log.subscribe((event) => this.#batcher.push(event));
    let next = 0;
    this.#outbox.sendBacklog(
      () => {
        if (next >= backlog.length) return null;
        const events = backlog.slice(next, next + BACKLOG_FRAME_EVENTS);
        next += events.length;
        return JSON.stringify({
          type: 'events',
          events,
          dropped: 0,
          counters: this.#source.counters(),
        } satisfies ServerMessage);
      },
      () => {
        this.#mode = 'own';
        this.#batcher.resume();
        if (this.#heldInfo)
          this.#outbox.send(
            JSON.stringify({ type: 'playground:updated', playground: this.#heldInfo } satisfies ServerMessage),
          );
        this.#heldInfo = null;
        if (!this.congested) this.#hub.requestJoin(this);
      },
    );
  }

  /** The hub took this connection in: from now on its frames carry every event after this moment. */
  joined(): void {
    this.#mode = 'shared';
    this.#batcher.flush(); // what the own path gathered up to now goes first
    this.#stopOwn?.();
    this.#stopOwn = null;
  }

  /** A shared frame: the same bytes every caught-up reader gets. */
  deliver(bytes: Buffer): void {
    this.#outbox.send(bytes);
  }

  /** A shared frame in its binary form: the same bytes every caught-up reader that asked for it gets. */
  deliverBinary(bytes: Buffer): void {
    this.#outbox.sendBinary(bytes);
  }

  /** Congested at a shared frame: this one goes out with its task events left out, then the own path takes over. */
  leaveWith(message: EventsFrame): void {
    this.#mode = 'own';
    const kept = message.events.filter((event) => !SAMPLED_TYPES.has(event.type));
    const dropped = message.dropped + message.events.length - kept.length;
    this.#outbox.send(JSON.stringify({ ...message, events: kept, dropped } satisfies ServerMessage));
    this.#batcher.clear();
    this.#stopOwn = this.#source.log.subscribe((event) => this.#batcher.push(event));
  }

  infoChanged(info: PlaygroundInfo, bytes: Buffer): void {
    if (this.#mode === 'backlog') {
      this.#heldInfo = info;
      return;
    }
    if (this.#mode !== 'shared') this.#batcher.flush(); // keep order: events logged before the change go out first
    this.#outbox.send(bytes);
  }

  close(): void {
    this.#hub.detach(this);
    this.#stopOwn?.();
    this.#stopOwn = null;
    this.#batcher.close();
  }
}
