/**
 * What one WebSocket connection may have waiting unsent, and how its backlog goes out (issue 9.5).
 *
 * A reader that stops reading does not stop the server from writing: every frame waits in this process's memory
 * (ws and net buffers) once the kernel's buffers are full. So a connection has a budget. The backlog (up to
 * 20,000 events) goes out frame by frame, each one only once the previous ones have left and fewer than
 * `backlogLowWater` bytes wait; a new subscribe replaces the backlog under way instead of adding another. A reader
 * that lets more than `maxQueuedBytes` pile up, or takes nothing for `stallMs` while bytes wait, is dropped:
 * close code 4008 with the reason, and the connection is cut shortly after if the close frame cannot get out.
 */
import type { WebSocket } from 'ws';
import { sendShared, sharedBytes, takesSharedDeflate } from './shared-frame.ts';

export interface OutboxLimits {
  /** Backlog frames go out only while fewer bytes than this wait unsent. */
  backlogLowWater: number;
  /** More than this waiting unsent and the reader is dropped. */
  maxQueuedBytes: number;
  /** Bytes waiting and none taken by the reader for this long: dropped. */
  stallMs: number;
}

export const DEFAULT_OUTBOX_LIMITS: OutboxLimits = {
  backlogLowWater: 1024 * 1024,
  maxQueuedBytes: 16 * 1024 * 1024,
  stallMs: 10_000,
};

/** Close code for a reader too slow to be fed (4000-4999 are free for applications). */
export const CLOSE_TOO_SLOW = 4008;
/** After the close frame, how long a dropped reader has to take it before the connection is cut. */
const CUT_AFTER_MS = 2000;
/** How often a connection with bytes waiting is checked for a stall. */
const STALL_CHECK_MS = 1000;

interface Backlog {
  frames: () => string | null;
  onDone: () => void;
}

export class Outbox {
  readonly #socket: WebSocket;
  readonly #limits: OutboxLimits;
  readonly #onDrop: (reason: string) => void;
  /** When the reader last took something, or when bytes started waiting after none did. */
  #lastProgress = Date.now();
  #backlog: Backlog | null = null;
  /** A backlog frame is on its way: the next waits for its callback (or the stall check). */
  #backlogInFlight = false;
  #dropped = false;
  readonly #watchdog: NodeJS.Timeout;
  /** Shared frames go to this connection compressed (once for all connections: shared-frame.ts). */
  readonly #deflate: boolean;

  constructor(socket: WebSocket, limits: OutboxLimits, onDrop: (reason: string) => void) {
    this.#socket = socket;
    this.#deflate = takesSharedDeflate(socket);
    this.#limits = limits;
    this.#onDrop = onDrop;
    this.#watchdog = setInterval(() => this.#check(), STALL_CHECK_MS);
    this.#watchdog.unref();
  }

  /** Bytes waiting unsent in this process (ws's queue and the net socket's buffer). */
  get queuedBytes(): number {
    return this.#socket.bufferedAmount;
  }

  get isOpen(): boolean {
    return !this.#dropped && this.#socket.readyState === this.#socket.OPEN;
  }

  /** True while a backlog is still going out (live frames wait behind it). */
  get sendingBacklog(): boolean {
    return this.#backlog !== null;
  }

  /**
   * Sends a frame unless the connection is closed or dropped; drops the reader past its budget. A Buffer is the
   * frame's UTF-8 bytes, encoded once for many readers (live-frames.ts): it goes out as a text frame all the same,
   * framed (and compressed, when this connection negotiated it) once for all of them (shared-frame.ts). It must not
   * change afterwards.
   */
  send(frame: string | Buffer): void {
    if (!this.isOpen) return;
    const bytes = typeof frame === 'string' ? frame.length : sharedBytes(frame, this.#deflate);
    if (this.queuedBytes + bytes > this.#limits.maxQueuedBytes) {
      this.#drop(`more than ${this.#limits.maxQueuedBytes} bytes waited unread`);
      return;
    }
    this.#write(frame);
  }

  /**
   * Sends a binary message (a binary task frame: shared/protocol/task-frame.ts), under the same budget, framed and
   * compressed as a shared frame is (once for every reader it is handed to). It must not change afterwards.
   */
  sendBinary(bytes: Buffer): void {
    if (!this.isOpen) return;
    if (this.queuedBytes + sharedBytes(bytes, this.#deflate, true) > this.#limits.maxQueuedBytes) {
      this.#drop(`more than ${this.#limits.maxQueuedBytes} bytes waited unread`);
      return;
    }
    if (this.queuedBytes === 0) this.#lastProgress = Date.now();
    sendShared(
      this.#socket,
      bytes,
      this.#deflate,
      (error) => {
        if (!error) this.#lastProgress = Date.now();
      },
      true,
    );
  }

  /**
   * Sends a backlog, frame by frame as the reader takes them (`frames` answers the next frame, null at the end),
   * then calls onDone. Replaces a backlog under way (whose onDone is never called).
   */
  sendBacklog(frames: () => string | null, onDone: () => void): void {
    this.#backlog = { frames, onDone };
    this.#pump();
  }

  close(): void {
    clearInterval(this.#watchdog);
    this.#backlog = null;
  }

  #write(frame: string | Buffer, after?: () => void): void {
    if (this.queuedBytes === 0) this.#lastProgress = Date.now();
    const sent = (error?: Error): void => {
      if (!error) this.#lastProgress = Date.now();
      after?.();
    };
    // A message for this connection alone is never compressed (see shared-frame.ts for why).
    if (typeof frame === 'string') this.#socket.send(frame, { binary: false, compress: false }, sent);
    else sendShared(this.#socket, frame, this.#deflate, sent);
  }

  #pump(): void {
    while (this.#backlog && !this.#backlogInFlight && this.isOpen && this.queuedBytes < this.#limits.backlogLowWater) {
      const backlog = this.#backlog;
      const frame = backlog.frames();
      if (frame === null) {
        this.#backlog = null;
        backlog.onDone();
        return;
      }
      this.#backlogInFlight = true;
      this.#write(frame, () => {
        this.#backlogInFlight = false;
        this.#pump();
      });
    }
  }

  #check(): void {
    if (!this.isOpen) return;
    if (this.queuedBytes > 0 && Date.now() - this.#lastProgress > this.#limits.stallMs) {
      this.#drop(
        `nothing was read for ${Math.round(this.#limits.stallMs / 1000)} s while ${this.queuedBytes} bytes waited`,
      );
      return;
    }
    // A backlog waiting for the queue to go down (no callback pending) tries again.
    this.#pump();
  }

  #drop(why: string): void {
    if (this.#dropped) return;
    this.#dropped = true;
    this.#backlog = null;
    this.#onDrop(why);
    // The close frame waits behind what is queued; a reader that takes nothing never sees it, so it is cut.
    this.#socket.close(CLOSE_TOO_SLOW, 'too slow: the server does not queue more for this reader');
    setTimeout(() => this.#socket.terminate(), CUT_AFTER_MS).unref();
    clearInterval(this.#watchdog);
  }
}
