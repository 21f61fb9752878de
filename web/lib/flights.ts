/**
 * Message dots: a flight is one task travelling from an endpoint port to the node that took it (or one result
 * travelling from a worker to the sink), on the run's own clock (ms since run start). `dotsAt` is pure, so live
 * view and tests (and later replay) share it.
 */
import { nodeOf, pointOnRoute, portOf, resultRoute, taskRoute, type DiagramLayout, type Route } from './layout.ts';

/** Node id used for messages taken by peers we do not control. */
export const EXTERNAL = 'external';
/** Node id of the sink. */
export const SINK = 'sink';
/** At most this many dots fly at once; more are sampled out (counters stay exact). */
export const MAX_CONCURRENT_DOTS = 60;
/** A task:sent with no task:received after this long (run time) is drawn going to the external peers. */
export const UNCLAIMED_AFTER_MS = 300;

/** task: ventilator -> worker (or external peers); result: worker -> sink. */
export type FlightKind = 'task' | 'result';

/** One message's trip, in run time. */
export interface Flight {
  /** Unique and stable: the keyed each of SVG circles uses it. */
  key: string;
  kind?: FlightKind;
  task: number;
  body: string;
  /** Endpoint name the dot leaves from (task), or the worker id (result). */
  from: string;
  /** Worker id or EXTERNAL (task), SINK (result). */
  to: string;
  /** Run time (ms) of departure. */
  start: number;
  duration: number;
}

/** A dot to draw at one instant. */
export interface Dot {
  key: string;
  kind: FlightKind;
  task: number;
  body: string;
  /** Worker id for a task (its transport colours the dot), the worker id for a result too. */
  to: string;
  worker: string;
  x: number;
  y: number;
  /** Progress 0..1 along the link (after easing). */
  progress: number;
}

/** How long a dot flies: min(600 ms, max(150 ms, 0.8 × interval)), so fast runs do not pile dots up. */
export function flightDuration(intervalMs: number): number {
  return Math.round(Math.min(600, Math.max(150, 0.8 * intervalMs)));
}

/**
 * Minimum run time between two dots of one kind so that at most `share` of them are in the air at once when
 * events come faster than that: a steady sample instead of bursts that hit the cap and then nothing.
 */
export function dotSpacing(duration: number, share: number): number {
  return duration / Math.max(1, share);
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

const routeCache = new WeakMap<DiagramLayout, Map<string, Route | null>>();

/** The route a flight follows in this layout (memoised per layout), or null when an end is not drawn. */
export function flightRoute(layout: DiagramLayout, flight: Pick<Flight, 'kind' | 'from' | 'to'>): Route | null {
  let cache = routeCache.get(layout);
  if (!cache) {
    cache = new Map();
    routeCache.set(layout, cache);
  }
  const kind = flight.kind ?? 'task';
  const key = `${kind}:${flight.from}>${flight.to}`;
  let route = cache.get(key);
  if (route === undefined) {
    if (kind === 'result') {
      const node = nodeOf(layout, flight.from);
      route = node ? resultRoute(layout, node) : null;
    } else {
      const from = portOf(layout, flight.from);
      const node = nodeOf(layout, flight.to);
      route = from && node ? taskRoute(layout, from, node) : null;
    }
    cache.set(key, route);
  }
  return route;
}

/**
 * The dots to draw at run time t: one per flight in the air whose ends are in the layout.
 * @example dotsAt([{ key: 'a', task: 1, body: '1', from: 'tcp', to: 'w', start: 0, duration: 200 }], layout, 100)
 */
export function dotsAt(flights: readonly Flight[], layout: DiagramLayout, t: number): Dot[] {
  const dots: Dot[] = [];
  for (const flight of flights) {
    if (!isFlying(flight, t)) continue;
    const route = flightRoute(layout, flight);
    if (!route) continue;
    const progress = ease((t - flight.start) / flight.duration);
    const point = pointOnRoute(route, progress);
    const kind = flight.kind ?? 'task';
    dots.push({
      key: flight.key,
      kind,
      task: flight.task,
      body: flight.body,
      to: flight.to,
      worker: kind === 'result' ? flight.from : flight.to,
      x: point.x,
      y: point.y,
      progress,
    });
  }
  return dots;
}

/** Drops flights that landed before t; returns the same array when nothing changed (cheap for $state.raw). */
export function pruneLanded(flights: Flight[], t: number): Flight[] {
  const kept = flights.filter((f) => f.start + f.duration > t);
  return kept.length === flights.length ? flights : kept;
}
