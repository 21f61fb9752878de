/**
 * The playground's event stream over a WebSocket: hello -> subscribe(sinceSeq) -> events frames.
 *
 *   server                                   browser
 *   hello {protocolVersion, playground} ---> check version (mismatch: banner, stop for good)
 *                                       <--- subscribe {sinceSeq: last seq seen}
 *   events {events[], dropped, counters} --> onEvents (duplicates at or below last seq are skipped)
 *   binary task frame ---------------------> onEvents, its task events as columns (`binaryFrames`: SPEC [W5])
 *   playground:updated {playground} -------> onPlayground
 *   presenter {presenter} -----------------> onPresenter (right after hello, then on each change: presenter mode)
 *                                       <--- presenter:set {presenter} (an owner or driver presenting: send())
 *
 * Reconnects with exponential backoff; a frame that fails the shared codec is counted and dropped (a binary one
 * that fails is also said once in the console, with what was wrong).
 *
 * With `binaryFrames`, subscribe asks for binary task frames (shared/protocol/task-frame.ts) of the layout this
 * page reads: a frame with many task events then comes as one binary message, its task events as packed columns
 * (EventsFrame.tasks), folded without an object per event. A server that writes another layout sends JSON; a server
 * that predates them refuses the field ([W4]), and the client subscribes again without it.
 */
import {
  PROTOCOL_VERSION,
  assertNever,
  decodeServerMessage,
  type Counters,
  type PlaygroundEvent,
  type ClientCommand,
  type PlaygroundInfo,
  type PresenterState,
  type WireServerText,
} from '../../shared/protocol/index.ts';
import { TASK_FRAME_VERSION, decodeTaskFrame, type TaskColumns } from '../../shared/protocol/task-frame.ts';
import { streamProtocols } from './embed.ts';

/** Shown in the status bar; 'closed' is final (closed by us or a protocol mismatch). */
export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** The part of WebSocket the client uses; tests hand in a fake. */
export interface SocketLike {
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  /** Binary messages as ArrayBuffers (set by the client when it asks for binary frames). */
  binaryType?: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** One `events` message after duplicate removal. */
export interface EventsFrame {
  /** The frame's events in seq order; in a binary frame, all but its task events (those are in `tasks`). */
  events: PlaygroundEvent[];
  /** A binary frame's task events as columns, in seq order among `events` (task-frame.ts `allEvents` merges them). */
  tasks?: TaskColumns;
  dropped: number;
  counters: Counters;
  /** Events with seq up to this were stamped before we connected: history being replayed, not live news. */
  historyUntil: number;
}

/** Callbacks and the socket factory (tests pass a fake socket). */
export interface StreamClientOptions {
  url: string;
  /** After every (re)connection's hello; `isReset` when the server's seq went backwards (it lost our history). */
  onHello(playground: PlaygroundInfo, isReset: boolean): void;
  onEvents(frame: EventsFrame): void;
  onPlayground(playground: PlaygroundInfo): void;
  /** What the playground's presenter shows (presenter mode); absent: ignored. */
  onPresenter?(presenter: PresenterState): void;
  onServerError(code: string, message: string, text?: WireServerText): void;
  /** Called on each failed attempt to (re)connect, with the number of consecutive failures. */
  onConnectFailure?(failures: number): void;
  /** Ask for binary task frames (the live page does; scripts and tests that read JSON frames need not). */
  binaryFrames?: boolean;
  createSocket?(url: string): SocketLike;
}

/** First reconnect delay (ms); doubles up to RECONNECT_MAX_MS, with ±20 % jitter. */
export const RECONNECT_MIN_MS = 500;
/** Longest wait between reconnect attempts (ms). */
export const RECONNECT_MAX_MS = 10_000;
/**
 * How long an attempt may go without the server's hello before it counts as failed (ms). A server that accepted
 * the connection but never answers (a process being torn down, a frozen one), or a proxy waiting on such a server
 * for its own timeout (a minute in deploy/haproxy.cfg), would otherwise hold the page on "reconnecting" without the
 * failures that make the session ask whether the playground's server stopped. Generous: a loaded server's hello
 * comes within a second or two.
 */
export const CONNECT_TIMEOUT_MS = 10_000;

/** Delay before reconnect attempt n (1-based), jitter r in [0, 1). */
export function backoffDelay(attempt: number, r: number): number {
  const base = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * r));
}

/** One playground's event stream: reconnects with backoff, resumes from the last seq seen. */
export class StreamClient {
  status = $state<ConnectionStatus>('connecting');
  /** Frames that failed to decode (dropped). */
  badFrames = $state(0);
  /** What was wrong with the last binary frame dropped (shown beside the count), null when none was. */
  lastBadFrame = $state<string | null>(null);
  /** Set when the server speaks another protocol version; the client then stops for good. */
  versionMismatch = $state<{ server: number; client: number } | null>(null);
  /** Highest event seq applied. */
  lastSeq = $state(0);

  readonly #options: StreamClientOptions;
  #socket: SocketLike | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** Gives up on the attempt in progress when no hello came within CONNECT_TIMEOUT_MS. */
  #connectTimer: ReturnType<typeof setTimeout> | null = null;
  #failures = 0;
  #isClosed = false;
  #hasEverConnected = false;
  #historyUntil = 0;
  /** Binary frames are asked for (until a server refuses the field). */
  #asksBinary: boolean;
  /** The last bad binary frame was said in the console (once per connection, not per frame). */
  #saidBadBinary = false;

  constructor(options: StreamClientOptions) {
    this.#options = options;
    this.#asksBinary = options.binaryFrames ?? false;
  }

  /** Opens the socket (idempotent). */
  start(): void {
    if (this.#isClosed || this.#socket || this.#timer) return;
    this.#open();
  }

  /** Closes for good (idempotent). */
  close(): void {
    this.#isClosed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#clearConnectTimer();
    const socket = this.#socket;
    this.#socket = null;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null;
      socket.close(1000, 'client closed');
    }
    this.status = 'closed';
  }

  /** Sends a command on the open socket; false when there is none (connecting): the caller may try again later. */
  send(command: ClientCommand): boolean {
    if (!this.#socket || this.status !== 'connected') return false;
    this.#socket.send(JSON.stringify(command));
    return true;
  }

  #open(): void {
    this.#timer = null;
    this.status = this.#hasEverConnected || this.#failures > 0 ? 'reconnecting' : 'connecting';
    // An embedded page names its own visitor in the handshake's subprotocols (embed.ts); others send none.
    const create = this.#options.createSocket ?? ((url: string) => new WebSocket(url, streamProtocols()) as SocketLike);
    let socket: SocketLike;
    try {
      socket = create(this.#options.url);
    } catch {
      this.#scheduleReconnect();
      return;
    }
    this.#socket = socket;
    if (this.#asksBinary) socket.binaryType = 'arraybuffer';
    this.#saidBadBinary = false;
    let isHelloSeen = false;
    socket.onmessage = (event) => {
      if (event.data instanceof ArrayBuffer) {
        this.#handleBinary(new Uint8Array(event.data));
        return;
      }
      if (typeof event.data !== 'string') {
        this.badFrames++;
        return;
      }
      if (this.#handle(event.data) === 'hello') {
        isHelloSeen = true;
        this.#clearConnectTimer();
      }
    };
    socket.onclose = () => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      this.#clearConnectTimer();
      if (this.#isClosed || this.versionMismatch) {
        this.status = 'closed';
        return;
      }
      if (!isHelloSeen) {
        this.#failures++;
        this.#options.onConnectFailure?.(this.#failures);
      }
      this.#scheduleReconnect();
    };
    // onerror is always followed by onclose, which does the work.
    socket.onerror = () => {};
    this.#connectTimer = setTimeout(() => {
      this.#connectTimer = null;
      if (this.#socket !== socket || isHelloSeen) return;
      // The attempt hangs: drop it (its late events are ignored) and count it as the failure it is.
      socket.onopen = socket.onmessage = socket.onerror = null;
      socket.close(1000, 'no hello in time');
      socket.onclose?.({ code: 1006 } as CloseEvent);
      socket.onclose = null;
    }, CONNECT_TIMEOUT_MS);
  }

  #clearConnectTimer(): void {
    if (this.#connectTimer) clearTimeout(this.#connectTimer);
    this.#connectTimer = null;
  }

  #scheduleReconnect(): void {
    if (this.#isClosed) return;
    this.status = 'reconnecting';
    this.#timer = setTimeout(() => this.#open(), backoffDelay(Math.max(1, this.#failures), Math.random()));
  }

  #subscribe(): void {
    const command = this.#asksBinary
      ? { type: 'subscribe', sinceSeq: this.lastSeq, binary: TASK_FRAME_VERSION }
      : { type: 'subscribe', sinceSeq: this.lastSeq };
    this.#socket?.send(JSON.stringify(command));
  }

  /** A binary task frame: decoded into columns, its rows at or below the last seq seen skipped. */
  #handleBinary(bytes: Uint8Array): void {
    const decoded = decodeTaskFrame(bytes);
    if (!decoded.ok) {
      this.badFrames++;
      this.lastBadFrame = decoded.error;
      if (!this.#saidBadBinary) console.warn(`Dropped a frame from the server: ${decoded.error}`);
      this.#saidBadBinary = true;
      return;
    }
    const { events, tasks, dropped, counters } = decoded.value;
    const fresh = events.filter((e) => e.seq > this.lastSeq);
    let first = 0;
    while (first < tasks.count && tasks.seq[first]! <= this.lastSeq) first++;
    const rows = tasks.from(first);
    for (const e of fresh) if (e.seq > this.lastSeq) this.lastSeq = e.seq;
    if (rows.count > 0 && rows.seq[rows.count - 1]! > this.lastSeq) this.lastSeq = rows.seq[rows.count - 1]!;
    this.#options.onEvents({ events: fresh, tasks: rows, dropped, counters, historyUntil: this.#historyUntil });
  }

  /** Decodes and dispatches one frame; returns its type when valid. */
  #handle(text: string): string | null {
    const decoded = decodeServerMessage(text);
    if (!decoded.ok) {
      this.badFrames++;
      return null;
    }
    const message = decoded.value;
    switch (message.type) {
      case 'hello': {
        if (message.protocolVersion !== PROTOCOL_VERSION) {
          this.versionMismatch = { server: message.protocolVersion, client: PROTOCOL_VERSION };
          this.close();
          return 'hello';
        }
        // The server's history restarted below what we saw: start over from its beginning.
        const isReset = message.playground.lastSeq < this.lastSeq;
        if (isReset) this.lastSeq = 0;
        this.#failures = 0;
        this.#hasEverConnected = true;
        this.status = 'connected';
        this.#options.onHello(message.playground, isReset);
        this.#historyUntil = message.playground.lastSeq;
        this.#subscribe();
        return 'hello';
      }
      case 'events': {
        const fresh = message.events.filter((e) => e.seq > this.lastSeq);
        for (const e of fresh) if (e.seq > this.lastSeq) this.lastSeq = e.seq;
        this.#options.onEvents({
          events: fresh,
          dropped: message.dropped,
          counters: message.counters,
          historyUntil: this.#historyUntil,
        });
        return 'events';
      }
      case 'playground:updated':
        this.#options.onPlayground(message.playground);
        return 'playground:updated';
      case 'presenter':
        this.#options.onPresenter?.(message.presenter);
        return 'presenter';
      case 'error':
        // A server that predates binary frames refuses the subscribe's field ([W4]): subscribe again without it.
        if (this.#asksBinary && message.code === 'PG_ERR_VALIDATION' && /^subscribe\b/.test(message.message)) {
          this.#asksBinary = false;
          this.#subscribe();
          return 'error';
        }
        this.#options.onServerError(message.code, message.message, message.text);
        return 'error';
      default:
        return assertNever(message);
    }
  }
}
