import { describe, expect, it } from 'vitest';
import { translatorFor } from './i18n/translate.ts';
import { lateJoinText, lateJoiners, type JoinEvent } from './late-join.ts';

const handshake = (seq: number, worker: string): JoinEvent => ({ seq, worker, kind: 'handshake' });
const received = (seq: number, worker: string): JoinEvent => ({ seq, worker, kind: 'received' });

/**
 * The tutorial at 100 ms, as a run's events order it: worker-tcp shakes hands and receives "1", "2", "3"; the ipc
 * endpoint is bound; worker-tcp receives two more texts before worker-ipc's handshake; then they alternate.
 */
function tutorialAt100ms(): JoinEvent[] {
  return [
    handshake(4, 'worker-tcp'),
    received(6, 'worker-tcp'), // 1
    received(7, 'worker-tcp'), // 2
    received(8, 'worker-tcp'), // 3
    received(11, 'worker-tcp'), // Esta es una prueba,1
    received(12, 'worker-tcp'), // Desde zeroMQ,2
    handshake(14, 'worker-ipc'),
    received(15, 'worker-ipc'),
    received(16, 'worker-tcp'),
    received(17, 'worker-ipc'),
    received(18, 'worker-tcp'),
    received(19, 'worker-tcp'),
    received(20, 'worker-ipc'), // x
    received(21, 'worker-tcp'), // x
  ];
}

describe('why a tutorial run split unevenly (issue 10.13)', () => {
  it('finds the worker whose first handshake came after the first messages, with how many it missed', () => {
    const events = tutorialAt100ms();
    expect(lateJoiners(events, { 'worker-tcp': 9, 'worker-ipc': 3 })).toEqual([{ worker: 'worker-ipc', before: 5 }]);
    // The order of the list does not matter: seq does.
    expect(lateJoiners([...events].reverse(), { 'worker-tcp': 9, 'worker-ipc': 3 })).toEqual([
      { worker: 'worker-ipc', before: 5 },
    ]);
    // A worker that reconnects later (moved) is judged by its first handshake.
    expect(lateJoiners([...events, handshake(30, 'worker-tcp')], { 'worker-tcp': 9, 'worker-ipc': 3 })).toEqual([
      { worker: 'worker-ipc', before: 5 },
    ]);
  });

  it('says nothing when the split is even, when the late worker got nothing, or when the events cannot tell', () => {
    // Both connected before the first message: an even split (round-robin's one apart at most).
    const together = [
      handshake(1, 'worker-tcp'),
      handshake(2, 'worker-ipc'),
      received(3, 'worker-tcp'),
      received(4, 'worker-ipc'),
      received(5, 'worker-tcp'),
    ];
    expect(lateJoiners(together, { 'worker-tcp': 2, 'worker-ipc': 1 })).toEqual([]);
    // A burst: everything went before the ipc worker connected; one peer took everything (said elsewhere).
    const burst = [
      handshake(1, 'worker-tcp'),
      ...Array.from({ length: 11 }, (_, i) => received(2 + i, 'worker-tcp')),
      handshake(20, 'worker-ipc'),
    ];
    expect(lateJoiners(burst, { 'worker-tcp': 11, 'worker-ipc': 0 })).toEqual([]);
    // Messages restored from a run's detail have no seq (negative keys): no guess.
    const restored = tutorialAt100ms().map((event) =>
      event.kind === 'received' ? { ...event, seq: -event.seq } : event,
    );
    expect(lateJoiners(restored, { 'worker-tcp': 9, 'worker-ipc': 3 })).toEqual([]);
    // No handshake seen for the worker (the log did not keep it): no guess either.
    expect(
      lateJoiners(
        tutorialAt100ms().filter((event) => event.kind !== 'handshake'),
        { 'worker-tcp': 9, 'worker-ipc': 3 },
      ),
    ).toEqual([]);
  });

  it("explains it in both languages, with the count in each language's plural", () => {
    const en = lateJoinText([{ worker: 'worker-ipc', before: 5 }], translatorFor('en'))!;
    expect(en).toContain('worker-ipc');
    expect(en).toContain('5 messages');
    expect(en).toMatch(/round-robin/);
    const es = lateJoinText([{ worker: 'worker-ipc', before: 1 }], translatorFor('es'))!;
    expect(es).toContain('worker-ipc');
    expect(es).toContain('1 mensaje');
    expect(es).not.toContain('1 mensajes');
    expect(lateJoinText([], translatorFor('en'))).toBeNull();
  });
});
