/** Axis scales and the median, shared by every chart of the panel (web/lib/charts.ts). */

/** A "nice" step (1, 2, 2.5 or 5 times a power of ten) so that `span` is covered in at most `maxSteps` steps. */
export function niceStep(span: number, maxSteps: number): number {
  if (!(span > 0) || maxSteps < 1) return 1;
  const raw = span / maxSteps;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) {
    const step = m * power;
    if (step >= raw - 1e-9 * raw) return step;
  }
  return 10 * power;
}

/** Axis ticks from 0 to at least `max` (a multiple of a nice step); [0, 1] when max is 0. */
export function ticks(max: number, maxTicks = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const step = niceStep(max, maxTicks);
  const top = Math.ceil(max / step - 1e-9) * step;
  const out: number[] = [];
  for (let v = 0; v <= top + step / 2; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** The median (mean of the two middle values for an even count); null for none. O(n) on a copy. */
export function median(values: readonly number[]): number | null {
  const n = values.length;
  if (n === 0) return null;
  const a = Float64Array.from(values);
  const hi = select(a, n >> 1);
  if (n % 2 === 1) return hi;
  // The lower middle is the largest value left of position n/2 after selection.
  let lo = -Infinity;
  for (let i = 0; i < n >> 1; i++) if (a[i]! > lo) lo = a[i]!;
  return (lo + hi) / 2;
}

/** Hoare quickselect: the k-th smallest, partially ordering `a` in place. */
function select(a: Float64Array, k: number): number {
  let left = 0;
  let right = a.length - 1;
  while (left < right) {
    const pivot = a[(left + right) >> 1]!;
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const tmp = a[i]!;
        a[i] = a[j]!;
        a[j] = tmp;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return a[k]!;
  }
  return a[k]!;
}
