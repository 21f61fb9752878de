/**
 * Message dots: a flight is one task travelling from an endpoint port to the node that took it, on the run's
 * own clock (ms since run start). `dotsAt` is pure, so live view and tests (and later replay) share it.
 */
import { linkBetween, nodeOf, pointOnLink, portOf, type DiagramLayout } from './layout.ts';

/** Node id used for messages taken by peers we do not control. */
export const EXTERNAL = 'external';
/** At most this many dots fly at once; more are sampled out (counters stay exact). */
export const MAX_CONCURRENT_DOTS = 60;
/** A task:sent with no task:received after this long (run time) is drawn going to the external peers. */
export const UNCLAIMED_AFTER_MS = 300;

/** One message's trip, in run time. */
export interface Flight {
  /** Unique and stable: the keyed each of SVG circles uses it. */
  key: string;
  task: number;
  body: string;
  /** Endpoint name the dot leaves from. */
  from: string;
  /** Worker id, or EXTERNAL. */
  to: string;
  /** Run time (ms) of departure. */
  start: number;
  duration: number;
}

/** A dot to draw at one instant. */
export interface Dot {
  key: string;
  task: number;
  body: string;
  to: string;
  x: number;
  y: number;
  /** Progress 0..1 along the link (after easing). */
  progress: number;
}

/** How long a dot flies: min(600 ms, max(150 ms, 0.8 × interval)), so fast runs do not pile dots up. */
export function flightDuration(intervalMs: number): number {
  return Math.round(Math.min(600, Math.max(150, 0.8 * intervalMs)));
}

/** Ease in-out (cubic): dots leave gently and land gently. */
export function ease(p: number): number {
  return p < 0.5 ? 4 * p * p * p : 1 - (-2 * p + 2) ** 3 / 2;
}

/** Whether a flight is in the air at run time t (departure inclusive, landing exclusive). */
export function isFlying(flight: Flight, t: number): boolean {
  return t >= flight.start && t < flight.start + flight.duration;
}

/** How many flights are in the air at time t. */
export function inFlight(flights: readonly Flight[], t: number): number {
  let n = 0;
  for (const f of flights) if (isFlying(f, t)) n++;
  return n;
}

/**
 * The dots to draw at run time t: one per flight in the air whose endpoint and target are in the layout.
 * @example dotsAt([{ key: 'a', task: 1, body: '1', from: 'tcp', to: 'w', start: 0, duration: 200 }], layout, 100)
 */
export function dotsAt(flights: readonly Flight[], layout: DiagramLayout, t: number): Dot[] {
  const dots: Dot[] = [];
  for (const flight of flights) {
    if (!isFlying(flight, t)) continue;
    const from = portOf(layout, flight.from);
    const node = nodeOf(layout, flight.to);
    if (!from || !node) continue;
    const progress = ease((t - flight.start) / flight.duration);
    const point = pointOnLink(linkBetween(from, node.anchor), progress);
    dots.push({ key: flight.key, task: flight.task, body: flight.body, to: flight.to, x: point.x, y: point.y, progress });
  }
  return dots;
}

/** Drops flights that landed before t; returns the same array when nothing changed (cheap for $state.raw). */
export function pruneLanded(flights: Flight[], t: number): Flight[] {
  const kept = flights.filter((f) => f.start + f.duration > t);
  return kept.length === flights.length ? flights : kept;
}
