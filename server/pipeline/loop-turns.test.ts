import { describe, expect, it } from 'vitest';
import { LoopTurns } from './loop-turns.ts';

describe('LoopTurns', () => {
  it('is due once its slice has lasted, and a turn starts the next slice', async () => {
    let now = 1000;
    const turns = new LoopTurns(4, () => now);
    expect(turns.due).toBe(false);
    now += 3.9;
    expect(turns.due).toBe(false);
    now += 0.1;
    expect(turns.due).toBe(true);
    await turns.turn();
    expect(turns.due).toBe(false);
    now += 4;
    expect(turns.due).toBe(true);
  });

  it('gives timers and I/O their turn: a timer due before the turn has fired when the turn resolves', async () => {
    const turns = new LoopTurns(0);
    let fired = false;
    setTimeout(() => (fired = true), 0);
    // A microtask chain as a batch's awaits make it: the timer cannot fire during it.
    for (let i = 0; i < 1000; i++) await Promise.resolve();
    expect(fired).toBe(false);
    // setImmediate runs in the check phase; the timer whose 1 ms has passed runs at the next timers phase, so give
    // the loop turns until it has (bounded: a due timer runs within a few turns on any machine).
    for (let i = 0; i < 1000 && !fired; i++) await turns.turn();
    expect(fired).toBe(true);
  });

  it('with an infinite slice is never due (how the bench measures the loop without turns)', () => {
    let now = 0;
    const turns = new LoopTurns(Infinity, () => now);
    now = 1e12;
    expect(turns.due).toBe(false);
  });
});
