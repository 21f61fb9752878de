import { describe, expect, it } from 'vitest';
import type { PlaygroundEvent } from '../../shared/protocol/index.ts';
import { translatorFor } from './i18n/translate.ts';
import {
  LIVE_GAP_MS,
  LIVE_GATHER_MS,
  LiveDigest,
  endpointLine,
  headerAnnouncement,
  ventilatorLine,
  workerLine,
  type HeaderFacts,
  type WorkerFacts,
} from './diagram-text.ts';

const en = translatorFor('en');
const es = translatorFor('es');

let seq = 0;
function received(worker: string, task: number, body = String(task)): PlaygroundEvent {
  return { type: 'task:received', seq: ++seq, run: 'run-1', t: seq, worker, task, body } as PlaygroundEvent;
}
function counts(received: Record<string, number>, lost = 0, collected = 0) {
  return { received, lost, collected };
}

describe('the diagram as text', () => {
  const worker: WorkerFacts = {
    id: 'worker-2',
    transport: 'tcp',
    mode: 'process',
    pid: 4242,
    state: 'connected',
    view: 'connected',
    stopReason: null,
    received: 12,
    done: 11,
    queue: 1,
    lost: 0,
    lastBodies: [],
  };

  it('says every worker with its state and counts, in both languages', () => {
    expect(workerLine(worker, true, en)).toBe(
      'worker-2 (PULL, tcp, process 4242): connected · received: 12 · done: 11 · queued: 1 · lost: 0',
    );
    expect(workerLine({ ...worker, state: 'killed', view: 'killed', lost: 3 }, true, es)).toBe(
      'worker-2 (PULL, tcp, proceso 4242): matado · recibidas: 12 · hechas: 11 · en cola: 1 · perdidas: 3',
    );
    const tutorial = {
      ...worker,
      id: 'worker-ipc',
      transport: 'ipc',
      mode: 'in-process' as const,
      pid: null,
      received: 1,
      lastBodies: ['q,5'],
    };
    expect(workerLine(tutorial, false, en)).toBe(
      'worker-ipc (PULL, ipc, in-process): connected · received 1 message · last: “q,5”',
    );
    expect(workerLine({ ...tutorial, view: 'retrying', state: 'connecting' }, false, es)).toBe(
      'worker-ipc (PULL, ipc, interno): reintentando (aún no hay endpoint) · recibió 1 mensaje · últimos: «q,5»',
    );
  });

  it('says the ventilator and each endpoint whole (the box may shorten them)', () => {
    expect(ventilatorLine('sending', 40, en)).toBe('Ventilator (PUSH): sending · sent 40');
    expect(
      endpointLine({ name: 'tcp', address: 'tcp://127.0.0.1:12345', isBound: true, builtIn: 1, external: 0 }, es),
    ).toBe('tcp tcp://127.0.0.1:12345: asociado · 1 worker conectado');
    expect(
      endpointLine({ name: 'ipc', address: 'ipc:///tmp/zmqdemo', isBound: false, builtIn: 0, external: 0 }, en),
    ).toBe('ipc ipc:///tmp/zmqdemo: not bound yet');
  });
});

describe('the live digest (a polite live region, throttled)', () => {
  it('names single messages at the tutorial pace, at most one sentence every 2 s', () => {
    const digest = new LiveDigest();
    digest.feed([received('worker-tcp', 1, '1')], counts({ 'worker-tcp': 1 }), 0);
    expect(digest.dueAt()).toBe(LIVE_GATHER_MS);
    expect(digest.take(LIVE_GATHER_MS - 1, en)).toBeNull();
    expect(digest.take(LIVE_GATHER_MS, en)).toBe('worker-tcp received “1”.');
    // The next messages wait for the gap, and are said together.
    digest.feed([received('worker-tcp', 2, '2')], counts({ 'worker-tcp': 2 }), 1000);
    digest.feed([received('worker-ipc', 5, 'q,5')], counts({ 'worker-tcp': 2, 'worker-ipc': 1 }), 2000);
    expect(digest.dueAt()).toBe(LIVE_GATHER_MS + LIVE_GAP_MS);
    expect(digest.take(2000, en)).toBeNull();
    expect(digest.take(LIVE_GATHER_MS + LIVE_GAP_MS, es)).toBe('worker-tcp recibió «2». worker-ipc recibió «q,5».');
    // Nothing new: nothing to say, no timer needed.
    expect(digest.dueAt()).toBeNull();
    expect(digest.take(10_000, en)).toBeNull();
  });

  it('says rates from the exact counters at a batch pace, even when task events are sampled out', () => {
    const digest = new LiveDigest();
    digest.unit = 'task';
    digest.feed([], counts({}), 0);
    // 6 task events arrive (the rest sampled out); the counters say 240 were received in 2 s.
    digest.feed(
      [1, 2, 3, 4, 5, 6].map((n) => received(`worker-${(n % 3) + 1}`, n)),
      counts({ 'worker-1': 80, 'worker-2': 80, 'worker-3': 78 }),
      0,
    );
    digest.feed([], counts({ 'worker-1': 80, 'worker-2': 80, 'worker-3': 80 }, 2, 100), 1500);
    expect(digest.take(2000, en)).toBe(
      '120 tasks a second: worker-1 40, worker-2 40, worker-3 40. 2 tasks lost. 100 results collected by the sink.',
    );
    digest.feed([received('worker-1', 300)], counts({ 'worker-1': 81, 'worker-2': 80, 'worker-3': 80 }, 2, 101), 2100);
    expect(digest.take(4000, es)).toBe('worker-1 recibió #300. 1 resultado recogido por el sink.');
  });

  it('says what changed in the topology, once, before the tasks', () => {
    const digest = new LiveDigest();
    digest.unit = 'task';
    const events = [
      {
        type: 'socket:event',
        seq: 1,
        run: 'run-1',
        t: 1,
        node: 'worker-1',
        kind: 'handshake',
        address: 'tcp://127.0.0.1:1',
      },
      {
        type: 'socket:event',
        seq: 2,
        run: 'run-1',
        t: 2,
        node: 'worker-2',
        kind: 'handshake',
        address: 'tcp://127.0.0.1:1',
      },
      // The sink's socket and a worker's socket to the sink shake hands too: not workers joining the rotation.
      {
        type: 'socket:event',
        seq: 2,
        run: 'run-1',
        t: 2,
        node: 'sink',
        kind: 'handshake',
        address: 'tcp://127.0.0.1:2',
      },
      {
        type: 'socket:event',
        seq: 2,
        run: 'run-1',
        t: 2,
        node: 'worker-2:results',
        kind: 'handshake',
        address: 'tcp://127.0.0.1:2',
      },
      { type: 'worker:updated', seq: 3, run: 'run-1', t: 3, worker: { id: 'worker-1' }, change: 'connected' },
      { type: 'worker:updated', seq: 4, run: 'run-1', t: 4, worker: { id: 'worker-2' }, change: 'killed (SIGKILL)' },
      { type: 'ventilator:state', seq: 5, run: 'run-1', t: 5, state: 'blocked' },
    ] as unknown as PlaygroundEvent[];
    digest.feed(events, null, 0);
    expect(digest.take(LIVE_GATHER_MS, en)).toBe(
      'worker-1 and worker-2 connected. worker-2: killed (SIGKILL). send() is waiting: no pipe can take the next task.',
    );
    digest.feed(events.slice(5, 6), null, 5000);
    expect(digest.take(6000, es)).toBe('worker-2: matado (SIGKILL).');
  });

  it('counts a crowd of workers instead of naming them all', () => {
    const digest = new LiveDigest();
    digest.unit = 'task';
    const many = Object.fromEntries(
      Array.from({ length: 12 }, (_, i) => [`worker-${String(i + 1).padStart(2, '0')}`, 10]),
    );
    digest.feed([], counts({}), 0);
    digest.feed(
      Object.keys(many).map((w, i) => received(w, i)),
      counts(many),
      0,
    );
    const said = digest.take(1000, en)!;
    expect(said).toMatch(/^120 tasks a second: worker-01 10, .*worker-08 10, 4 more\.$/);
  });
});

describe('the header says only what matters', () => {
  const base: HeaderFacts = {
    connection: 'connected',
    runId: 'run-1',
    runStatus: 'idle',
    endReason: null,
    sent: 0,
    unit: 'message',
  };

  it('is silent while counts go up, and speaks when a run starts or ends or the connection drops or returns', () => {
    expect(headerAnnouncement(null, base, en)).toBeNull();
    expect(headerAnnouncement({ ...base, connection: 'connecting' }, base, en)).toBeNull();
    const running = { ...base, runStatus: 'running' as const, sent: 3 };
    expect(headerAnnouncement(base, running, en)).toBe('Run run-1 started.');
    expect(headerAnnouncement(running, { ...running, sent: 4 }, en)).toBeNull();
    const ended = { ...running, runStatus: 'ended' as const, endReason: 'completed' as const, sent: 12 };
    expect(headerAnnouncement(running, ended, en)).toBe('Run run-1 ended (completed): 12 messages sent.');
    expect(headerAnnouncement(running, { ...ended, unit: 'task', sent: 1 }, es)).toBe(
      'Terminó la ejecución run-1 (completada). Envíos: 1 tarea.',
    );
    expect(headerAnnouncement(ended, { ...ended, connection: 'reconnecting' }, en)).toBe(
      'Connection to the server lost: reconnecting.',
    );
    expect(headerAnnouncement({ ...ended, connection: 'reconnecting' }, ended, es)).toBe('Conexión restablecida.');
    // A new run straight after another (the header never saw it idle).
    expect(headerAnnouncement(ended, { ...running, runId: 'run-2' }, en)).toBe('Run run-2 started.');
  });
});
