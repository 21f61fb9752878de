import { describe, expect, it } from 'vitest';
import { externalSource, externalTaken, formatMs, nextLinkState, summarySentence } from './run-model.ts';

describe('nextLinkState', () => {
  it('follows a worker from connecting to connected at the handshake, not at connect', () => {
    let state = nextLinkState('idle', 'connect');
    expect(state).toBe('connecting');
    state = nextLinkState(state, 'handshake');
    expect(state).toBe('connected');
  });

  it('retries while the ipc endpoint is not bound yet, then connects', () => {
    let state = nextLinkState('connecting', 'connect:retry');
    expect(state).toBe('retrying');
    state = nextLinkState(state, 'connect');
    expect(state).toBe('connecting');
    expect(nextLinkState(state, 'handshake')).toBe('connected');
  });

  it('treats a closed descriptor as a failed attempt, not a stopped worker (ipc before the bind)', () => {
    // Seen from libzmq 4.3.5: connect(ipc) -> close -> connect:retry -> ... -> connect -> handshake
    let state = nextLinkState('connecting', 'close');
    expect(state).toBe('retrying');
    state = nextLinkState(state, 'connect:retry');
    expect(state).toBe('retrying');
    expect(nextLinkState(nextLinkState(state, 'connect'), 'handshake')).toBe('connected');
  });

  it('greys out on disconnect; stopped is final', () => {
    expect(nextLinkState('connected', 'disconnect')).toBe('disconnected');
    expect(nextLinkState('connected', 'close')).toBe('disconnected');
    expect(nextLinkState('stopped', 'handshake')).toBe('stopped');
    expect(nextLinkState('stopped', 'connect')).toBe('stopped');
  });
});

describe('externalTaken', () => {
  it('is what was sent minus what built-in workers received, never negative', () => {
    expect(externalTaken(12, { 'worker-tcp': 7, 'worker-ipc': 5 })).toBe(0);
    expect(externalTaken(12, {})).toBe(12);
    expect(externalTaken(3, { a: 4 })).toBe(0);
  });
});

describe('externalSource', () => {
  const endpoints = [
    { name: 'tcp', isBound: true, external: 1 },
    { name: 'ipc', isBound: true, external: 1 },
  ];
  it('rotates among endpoints with external peers', () => {
    expect(externalSource(endpoints, 1)).toBe('ipc');
    expect(externalSource(endpoints, 2)).toBe('tcp');
  });
  it('falls back to bound endpoints, then to the first', () => {
    expect(externalSource([{ name: 'tcp', isBound: true, external: 0 }, { name: 'ipc', isBound: false, external: 0 }], 1)).toBe('tcp');
    expect(externalSource([{ name: 'ipc', isBound: false, external: 0 }], 1)).toBe('ipc');
    expect(externalSource([], 1)).toBeNull();
  });
});

describe('summarySentence', () => {
  const summary = { sent: 12, received: { 'worker-tcp': 7, 'worker-ipc': 5 }, unattributed: 0, externalPeersMax: 0, durationMs: 12000 };
  it('explains round-robin between built-in workers', () => {
    const text = summarySentence({ reason: 'completed', summary, workers: ['worker-tcp', 'worker-ipc'], builtInWorkers: true });
    expect(text).toContain('round-robined the 12 messages');
    expect(text).toContain('worker-tcp got 7, worker-ipc got 5');
    expect(text).toContain('exactly one worker');
  });
  it('credits external peers when built-in workers are off', () => {
    const text = summarySentence({
      reason: 'completed',
      summary: { ...summary, received: {}, unattributed: 12, externalPeersMax: 2 },
      workers: [],
      builtInWorkers: false,
    });
    expect(text).toContain('12 messages went to peers we do not control (up to 2 connected at once)');
  });
  it('explains a blocked ventilator that sent nothing', () => {
    const text = summarySentence({
      reason: 'stopped',
      summary: { ...summary, sent: 0, received: {}, externalPeersMax: 0 },
      workers: [],
      builtInWorkers: false,
    });
    expect(text).toContain('You stopped the run after 0 messages');
    expect(text).toContain('blocks on send');
  });
});

describe('summarySentence for a burst', () => {
  it('says one worker took everything and counts what was lost, with correct grammar', () => {
    const text = summarySentence({
      reason: 'completed',
      summary: { sent: 12, received: { 'worker-tcp': 11, 'worker-ipc': 0 }, unattributed: 1, externalPeersMax: 0, durationMs: 1500 },
      workers: ['worker-tcp', 'worker-ipc'],
      builtInWorkers: true,
    });
    expect(text).toContain('only one peer was connected');
    expect(text).toContain('1 message was sent but never received');
  });
});

describe('formatMs', () => {
  it('reads naturally', () => {
    expect(formatMs(850)).toBe('850 ms');
    expect(formatMs(1234)).toBe('1.2 s');
    expect(formatMs(12_400)).toBe('12 s');
  });
});
