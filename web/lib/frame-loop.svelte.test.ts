/**
 * The page's frame loop (frame-loop.svelte.ts) with a scripted requestAnimationFrame: it draws every frame the
 * browser offers, or, with `minIntervalMs` (the live session's cadence while the stream is sampled, issue 12), passes
 * over the frames that come too soon without going to sleep.
 */
import { describe, expect, it } from 'vitest';
import { FrameLoop } from './frame-loop.svelte.ts';

/** A loop whose frames come when the test says, ~16.7 ms apart as on a 60 Hz screen. */
function scripted() {
  let pending: ((now: number) => void) | null = null;
  let clock = 0;
  const loop = new FrameLoop({
    requestFrame: (callback) => {
      pending = callback;
      return 1;
    },
    cancelFrame: () => (pending = null),
    now: () => clock,
  });
  return {
    loop,
    /** The browser offers `n` frames; returns how many it was asked for (a sleeping loop asks for none). */
    frames(n: number): number {
      let asked = 0;
      for (let i = 0; i < n; i++) {
        const callback = pending;
        pending = null;
        clock += 1000 / 60;
        if (!callback) continue;
        asked++;
        callback(clock);
      }
      return asked;
    },
  };
}

describe('FrameLoop', () => {
  it('calls its callbacks on every frame by default, and sleeps once none needs more', () => {
    const { loop, frames } = scripted();
    const drawn: number[] = [];
    let busyFrames = 6;
    loop.add((now) => {
      drawn.push(now);
      return --busyFrames > 0;
    });
    loop.wake();
    expect(frames(10)).toBe(6);
    expect(drawn).toHaveLength(6);
    expect(loop.time).toBe(drawn.at(-1));
  });

  it('with minIntervalMs 33, draws every other 60 Hz frame (~30 a second) and keeps going over the ones it passes', () => {
    const { loop, frames } = scripted();
    const drawn: number[] = [];
    loop.add((now) => {
      drawn.push(now);
      return true;
    });
    loop.minIntervalMs = 33;
    loop.wake();
    expect(frames(60)).toBe(60); // asked for every frame: never asleep while busy
    expect(drawn).toHaveLength(30);
    for (let i = 1; i < drawn.length; i++) expect(drawn[i]! - drawn[i - 1]!).toBeCloseTo(2000 / 60, 5);
    expect(loop.time).toBe(drawn.at(-1)); // what the live clock reads changes only with a drawn frame

    loop.minIntervalMs = 0; // frames come whole again: every frame is drawn
    drawn.length = 0;
    frames(10);
    expect(drawn).toHaveLength(10);
  });
});
