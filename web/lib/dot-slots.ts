/**
 * A fixed pool of dot elements: each flying dot keeps one slot from take-off to landing, and a free slot is
 * reused by the next dot. The page then only moves and shows or hides a constant set of elements, never inserts
 * or removes any while tasks flow (which made Chromium lay out and paint on every frame).
 */
import type { Dot } from './flights.ts';

/** Assigns dots to a fixed number of slots, stable per dot key. Holds the assignment between frames. */
export class DotSlots {
  readonly size: number;
  readonly #slotOf = new Map<string, number>();
  readonly #keys: (string | null)[];
  /** Slots ever used (the page renders only these, so an idle pool costs nothing). */
  highWater = 0;

  constructor(size: number) {
    this.size = size;
    this.#keys = new Array<string | null>(size).fill(null);
  }

  /**
   * The dots of this frame by slot (null: an empty slot). A dot keeps the slot it had in the previous frame;
   * dots beyond the pool's size are left out.
   * @example new DotSlots(2).assign([a, b, c]) // [a, b]: c waits for a free slot
   */
  assign(dots: readonly Dot[]): (Dot | null)[] {
    const live = new Set<string>();
    for (const dot of dots) live.add(dot.key);
    for (const [key, slot] of this.#slotOf) {
      if (live.has(key)) continue;
      this.#slotOf.delete(key);
      this.#keys[slot] = null;
    }
    const out = new Array<Dot | null>(this.size).fill(null);
    let free = 0;
    for (const dot of dots) {
      let slot = this.#slotOf.get(dot.key);
      if (slot === undefined) {
        while (free < this.size && this.#keys[free] !== null) free++;
        if (free >= this.size) continue;
        slot = free;
        if (slot >= this.highWater) this.highWater = slot + 1;
        this.#slotOf.set(dot.key, slot);
        this.#keys[slot] = dot.key;
      }
      out[slot] = dot;
    }
    return out;
  }
}
