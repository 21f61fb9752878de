/**
 * StreamClient against a scripted socket: the hello -> subscribe -> events handshake, duplicate removal,
 * resuming from the last seq after a reconnect, the version banner and bad frames ([W1], [W3]).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flushSync } from 'svelte';
import { PROTOCOL_VERSION, type PlaygroundInfo, type ServerMessage } from '../../shared/protocol/index.ts';
import { VALID_SERVER_MESSAGES } from '../../shared/protocol/fixtures.ts';
import {
  StreamClient,
  backoffDelay,
  CONNECT_TIMEOUT_MS,
  RECONNECT_MAX_MS,
  type EventsFrame,
  type SocketLike,
} from './stream-client.svelte.ts';

/** A socket the test drives: it records what the client sends and delivers what the test says the server sent. */
class ScriptedSocket implements SocketLike {
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  readonly sent: unknown[] = [];
  closedWith: number | null = null;

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(code?: number): void {
    this.closedWith = code ?? 1005;
  }
  deliver(message: ServerMessage | string | ArrayBuffer): void {
    const data = typeof message === 'string' || message instanceof ArrayBuffer ? message : JSON.stringify(message);
    this.onmessage?.({ data } as MessageEvent);
  }
  drop(): void {
    this.onclose?.({ code: 1006 } as CloseEvent);
  }
}

const helloFixture = VALID_SERVER_MESSAGES.hello as Extract<ServerMessage, { type: 'hello' }>;
const eventsFixture = VALID_SERVER_MESSAGES.events as Extract<ServerMessage, { type: 'events' }>;

function hello(lastSeq: number, protocolVersion = PROTOCOL_VERSION): ServerMessage {
  return { ...helloFixture, protocolVersion, playground: { ...helloFixture.playground, lastSeq } as PlaygroundInfo };
}

/** An events frame whose events carry the given seqs (the fixture's first event, relabelled). */
function events(...seqs: number[]): ServerMessage {
  const template = eventsFixture.events[0]!;
  return { ...eventsFixture, events: seqs.map((seq) => ({ ...template, seq })) };
}

describe('StreamClient', () => {
  let sockets: ScriptedSocket[];
  let frames: EventsFrame[];
  let hellos: { lastSeq: number; isReset: boolean }[];
  let client: StreamClient;
  let connectFailures: number[];

  beforeEach(() => {
    connectFailures = [];
    vi.useFakeTimers();
    sockets = [];
    frames = [];
    hellos = [];
    client = new StreamClient({
      url: 'ws://127.0.0.1/test',
      onHello: (playground, isReset) => hellos.push({ lastSeq: playground.lastSeq, isReset }),
      onEvents: (frame) => frames.push(frame),
      onPlayground: () => {},
      onServerError: () => {},
      onConnectFailure: (failures) => connectFailures.push(failures),
      createSocket: () => {
        const socket = new ScriptedSocket();
        sockets.push(socket);
        return socket;
      },
    });
  });

  afterEach(() => {
    client.close();
    vi.useRealTimers();
  });

  it('subscribes from seq 0 after the hello, then skips events it has already applied', () => {
    client.start();
    expect(client.status).toBe('connecting');
    sockets[0]!.deliver(hello(0));
    flushSync();
    expect(client.status).toBe('connected');
    expect(sockets[0]!.sent).toEqual([{ type: 'subscribe', sinceSeq: 0 }]);

    sockets[0]!.deliver(events(1, 2, 3));
    sockets[0]!.deliver(events(2, 3, 4));
    expect(frames.map((frame) => frame.events.map((e) => e.seq))).toEqual([[1, 2, 3], [4]]);
    expect(client.lastSeq).toBe(4);
  });

  it('resumes from the last seq it saw after the connection drops, with backoff', () => {
    client.start();
    sockets[0]!.deliver(hello(0));
    sockets[0]!.deliver(events(1, 2));
    sockets[0]!.drop();
    expect(client.status).toBe('reconnecting');
    expect(sockets).toHaveLength(1);

    vi.advanceTimersByTime(backoffDelay(1, 0.999) + 1);
    expect(sockets).toHaveLength(2);
    sockets[1]!.deliver(hello(2));
    expect(sockets[1]!.sent).toEqual([{ type: 'subscribe', sinceSeq: 2 }]);
    expect(hellos.at(-1)).toEqual({ lastSeq: 2, isReset: false });
  });

  it('starts over when the server lost the history it had sent (its seq went backwards)', () => {
    client.start();
    sockets[0]!.deliver(hello(0));
    sockets[0]!.deliver(events(1, 2, 3));
    sockets[0]!.drop();
    vi.advanceTimersByTime(backoffDelay(1, 0.999) + 1);
    sockets[1]!.deliver(hello(1));
    expect(hellos.at(-1)).toEqual({ lastSeq: 1, isReset: true });
    expect(sockets[1]!.sent).toEqual([{ type: 'subscribe', sinceSeq: 0 }]);
  });

  it('stops for good on another protocol version and says which', () => {
    client.start();
    sockets[0]!.deliver(hello(0, PROTOCOL_VERSION + 1));
    expect(client.versionMismatch).toEqual({ server: PROTOCOL_VERSION + 1, client: PROTOCOL_VERSION });
    expect(client.status).toBe('closed');
    vi.advanceTimersByTime(RECONNECT_MAX_MS * 4);
    expect(sockets).toHaveLength(1);
  });

  it('counts and drops frames that are binary, not JSON or not a server message ([W1])', () => {
    client.start();
    sockets[0]!.deliver(hello(0));
    sockets[0]!.deliver(new ArrayBuffer(4));
    sockets[0]!.deliver('{not json');
    sockets[0]!.deliver('{"type":"no-such-message"}');
    expect(client.badFrames).toBe(3);
    expect(client.status).toBe('connected');
  });

  it('counts an attempt that hangs without a hello as failed, drops it and tries again (issue 13)', () => {
    client.start();
    sockets[0]!.deliver(hello(0));
    sockets[0]!.drop();
    vi.advanceTimersToNextTimer(); // the reconnection
    expect(sockets).toHaveLength(2);
    // The server accepted the connection and never answers (a process being torn down, or a proxy waiting on one).
    vi.advanceTimersByTime(CONNECT_TIMEOUT_MS - 1);
    expect(connectFailures).toEqual([]);
    expect(sockets[1]!.closedWith).toBeNull();
    vi.advanceTimersByTime(1);
    expect(connectFailures).toEqual([1]);
    expect(sockets[1]!.closedWith).toBe(1000);
    expect(client.status).toBe('reconnecting');
    // Its late close is not a second failure; the next attempt comes after the backoff.
    sockets[1]!.drop();
    expect(connectFailures).toEqual([1]);
    vi.advanceTimersToNextTimer();
    expect(sockets).toHaveLength(3);
    sockets[2]!.deliver(hello(0));
    vi.advanceTimersByTime(CONNECT_TIMEOUT_MS * 2);
    expect(client.status).toBe('connected');
    expect(sockets[2]!.closedWith).toBeNull();
  });

  it('reconnects ever more slowly while the server stays away, never beyond the ceiling', () => {
    client.start();
    for (let attempt = 1; attempt <= 8; attempt++) {
      sockets.at(-1)!.drop();
      const before = sockets.length;
      vi.advanceTimersByTime(backoffDelay(attempt, 0) - 1);
      expect(sockets).toHaveLength(before);
      // Up to the longest jitter (less than CONNECT_TIMEOUT_MS: the new attempt is still waiting for its hello).
      vi.advanceTimersByTime(backoffDelay(attempt, 0.999) - backoffDelay(attempt, 0) + 2);
      expect(backoffDelay(attempt, 0.999)).toBeLessThanOrEqual(RECONNECT_MAX_MS * 1.2);
      expect(sockets).toHaveLength(before + 1);
    }
  });
});
