import { describe, expect, it } from 'vitest';
import { DotSlots } from './dot-slots.ts';
import type { Dot } from './flights.ts';

function dot(key: string): Dot {
  return { key, kind: 'task', task: 0, body: '', to: 'w', worker: 'w', x: 0, y: 0, progress: 0 };
}

describe('DotSlots', () => {
  it('keeps a dot in its slot from one frame to the next', () => {
    const slots = new DotSlots(3);
    expect(slots.assign([dot('a'), dot('b')]).map((d) => d?.key ?? null)).toEqual(['a', 'b', null]);
    expect(slots.assign([dot('b'), dot('c')]).map((d) => d?.key ?? null)).toEqual(['c', 'b', null]);
    expect(slots.assign([dot('c'), dot('b'), dot('d')]).map((d) => d?.key ?? null)).toEqual(['c', 'b', 'd']);
  });

  it('leaves out dots beyond its size until a slot frees up', () => {
    const slots = new DotSlots(2);
    expect(slots.assign([dot('a'), dot('b'), dot('c')]).map((d) => d?.key ?? null)).toEqual(['a', 'b']);
    expect(slots.assign([dot('b'), dot('c')]).map((d) => d?.key ?? null)).toEqual(['c', 'b']);
    expect(slots.assign([]).every((d) => d === null)).toBe(true);
    expect(slots.highWater).toBe(2);
  });
});
