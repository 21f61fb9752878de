/**
 * What every event of a run says about time, its run and task bodies (SPEC [E2], [E6]), and who a task is
 * attributed to when no built-in worker took it ([E4]), on real sockets.
 */
import * as zmq from 'zeromq';
import { afterEach, describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../shared/scenarios/index.ts';
import { Playground } from './playground.ts';
import { BODY_PREVIEW_CHARS } from './run.ts';
import { collect, freePort, ofType, runEnded, testPolicy } from '../../test/helpers.ts';

let policy: ReturnType<typeof testPolicy> | null = null;
let playground: Playground | null = null;
let peer: zmq.Pull | null = null;

afterEach(async () => {
  peer?.close();
  await playground?.close();
  policy?.cleanup();
  peer = playground = policy = null;
});

describe('the events of a run', () => {
  it('[E2] carry t in milliseconds since the run started, never decreasing, and the run they belong to', async () => {
    policy = testPolicy();
    // 20 tasks paced 10 ms apart: the last is sent at least 190 ms after the first, however fast the machine.
    playground = new Playground({
      scenario: SCENARIOS.get('pipeline')!,
      policy,
      params: { tasks: 20, intervalMs: 10, drainMs: 300 },
    });
    const events = collect(playground);
    const before = performance.now();
    const run = playground.startRun();
    const ended = await runEnded(playground, run.id);
    const elapsedMs = performance.now() - before;
    expect(events.every((event) => event.run === run.id)).toBe(true);
    expect(events[0]!.type).toBe('run:started');
    expect(events[0]!.t).toBeGreaterThanOrEqual(0);
    for (let i = 1; i < events.length; i++) expect(events[i]!.t).toBeGreaterThanOrEqual(events[i - 1]!.t);
    const sent = ofType(events, 'task:sent');
    expect(sent).toHaveLength(20);
    // Milliseconds (not seconds, not microseconds): the paced sends span >= 190 of them, and the whole run fits in
    // the wall-clock time measured around it.
    expect(sent.at(-1)!.t - sent[0]!.t).toBeGreaterThanOrEqual(190);
    expect(ended.t).toBeLessThanOrEqual(elapsedMs + 1);
  });

  it('[E6] carry body previews of at most 64 characters while the wire carries the whole body; [E4] a task no built-in worker received is unattributed', async () => {
    policy = testPolicy();
    const tasks = 5;
    const payloadBytes = 300;
    playground = new Playground({
      scenario: SCENARIOS.get('pipeline')!,
      policy,
      params: { builtInWorkers: false, tasks, payloadBytes, drainMs: 300 },
    });
    const port = await freePort();
    await playground.setEndpoint('tcp', `tcp://127.0.0.1:${port}`);
    // An external peer: a plain PULL socket reading what the ventilator really sent.
    peer = new zmq.Pull();
    peer.linger = 0;
    peer.receiveTimeout = 10_000;
    peer.connect(`tcp://127.0.0.1:${port}`);
    const events = collect(playground);
    const run = playground.startRun();
    const onTheWire: string[] = [];
    for (let i = 0; i < tasks; i++) {
      const frames = await peer.receive();
      onTheWire.push(frames.map((frame) => frame.toString()).join(' '));
    }
    const ended = await runEnded(playground, run.id);

    expect(BODY_PREVIEW_CHARS).toBe(64);
    const sent = ofType(events, 'task:sent');
    expect(sent).toHaveLength(tasks);
    for (const event of sent) {
      const whole = onTheWire.find((message) => message.includes(`task ${event.task} `))!;
      expect(whole.length).toBeGreaterThan(payloadBytes);
      expect(event.body.length).toBeLessThanOrEqual(64);
      expect(whole).toContain(event.body.slice(0, -1)); // the preview is the body's start, and an ellipsis
    }
    // Nobody of ours received them: no task:received, every task unattributed.
    expect(ofType(events, 'task:received')).toEqual([]);
    expect(ended.summary).toMatchObject({ sent: tasks, unattributed: tasks });
  });

  it('[E6] keep previews in what built-in workers received too', async () => {
    policy = testPolicy();
    playground = new Playground({
      scenario: SCENARIOS.get('pipeline')!,
      policy,
      params: { tasks: 6, payloadBytes: 300, drainMs: 300 },
    });
    const events = collect(playground);
    const run = playground.startRun();
    const ended = await runEnded(playground, run.id);
    const received = ofType(events, 'task:received');
    expect(received).toHaveLength(6);
    for (const event of received) expect(event.body.length).toBeLessThanOrEqual(64);
    expect(ended.summary).toMatchObject({ sent: 6, unattributed: 0 });
  });
});
