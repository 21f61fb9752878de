/**
 * The geometry under the pipeline diagram (web/lib/layout.ts): points, cubic links, routes made of them, their
 * lengths and the point at a fraction of a route, so dots move at an even speed along any path.
 */

/** SVG user units. */
export interface Point {
  x: number;
  y: number;
}

/** One cubic Bézier segment; a link is one, a route through corridors several. */
export interface Link {
  from: Point;
  c1: Point;
  c2: Point;
  to: Point;
}

/** A path made of cubic segments, with their approximate lengths so dots move at an even speed. */
export interface Route {
  segments: Link[];
  lengths: number[];
  total: number;
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** A rounded corner: leaves `from` horizontally (or vertically) and reaches `to` vertically (or horizontally). */
function corner(from: Point, to: Point, startsHorizontal: boolean): Link {
  const turn = startsHorizontal ? { x: to.x, y: from.y } : { x: from.x, y: to.y };
  return { from, c1: turn, c2: turn, to };
}

/** Down a gutter at x from `from` (leaving sideways) to `to` (arriving sideways), with rounded corners. */
export function gutterRoute(from: Point, to: Point, x: number): Route {
  const radius = Math.min(12, Math.abs(to.y - from.y) / 2);
  const down = Math.sign(to.y - from.y) || 1;
  const top = { x, y: from.y + down * radius };
  const end = { x, y: to.y - down * radius };
  return routeOf([corner(from, top, true), straight(top, end), corner(end, to, false)]);
}

/** The curve from a port to a node anchor: leaves and arrives horizontally. */
export function linkBetween(from: Point, to: Point): Link {
  const dx = Math.max(40, (to.x - from.x) * 0.5);
  return { from, c1: { x: from.x + dx, y: from.y }, c2: { x: to.x - dx, y: to.y }, to };
}

/** A straight segment as a cubic (so routes are uniform). */
export function straight(from: Point, to: Point): Link {
  return {
    from,
    c1: { x: from.x + (to.x - from.x) / 3, y: from.y + (to.y - from.y) / 3 },
    c2: { x: from.x + (2 * (to.x - from.x)) / 3, y: from.y + (2 * (to.y - from.y)) / 3 },
    to,
  };
}

/** A short S-bend between two points at different heights, horizontal at both ends. */
export function bend(from: Point, to: Point): Link {
  const dx = (to.x - from.x) * 0.55;
  return { from, c1: { x: from.x + dx, y: from.y }, c2: { x: to.x - dx, y: to.y }, to };
}

function distance(a: Point, b: Point): number {
  return Math.hypot(b.x - a.x, b.y - a.y);
}

/** Approximate arc length of a cubic: the mean of its chord and its control polygon. */
function segmentLength(link: Link): number {
  const chord = distance(link.from, link.to);
  const polygon = distance(link.from, link.c1) + distance(link.c1, link.c2) + distance(link.c2, link.to);
  return (chord + polygon) / 2;
}

/** Builds a route from segments, dropping empty ones. */
export function routeOf(segments: Link[]): Route {
  const kept = segments.filter((s) => segmentLength(s) > 0.01);
  const used = kept.length > 0 ? kept : segments.slice(0, 1);
  const lengths = used.map(segmentLength);
  return { segments: used, lengths, total: lengths.reduce((a, b) => a + b, 0) };
}
/** SVG path data for a route. */
export function routePath(route: Route): string {
  const first = route.segments[0];
  if (!first) return '';
  let d = `M ${first.from.x} ${first.from.y}`;
  for (const { c1, c2, to } of route.segments) d += ` C ${c1.x} ${c1.y}, ${c2.x} ${c2.y}, ${to.x} ${to.y}`;
  return d;
}

/** The point at parameter p (0..1, clamped) along a link. */
export function pointOnLink(link: Link, p: number): Point {
  const s = clamp(p, 0, 1);
  const r = 1 - s;
  const a = r * r * r;
  const b = 3 * r * r * s;
  const c = 3 * r * s * s;
  const d = s * s * s;
  return {
    x: a * link.from.x + b * link.c1.x + c * link.c2.x + d * link.to.x,
    y: a * link.from.y + b * link.c1.y + c * link.c2.y + d * link.to.y,
  };
}

/** The point at fraction p (0..1, clamped) of a route's length. */
export function pointOnRoute(route: Route, p: number): Point {
  const segments = route.segments;
  if (segments.length === 1) return pointOnLink(segments[0]!, p);
  let left = clamp(p, 0, 1) * route.total;
  for (let i = 0; i < segments.length; i++) {
    const length = route.lengths[i] ?? 0;
    if (left <= length || i === segments.length - 1) return pointOnLink(segments[i]!, length > 0 ? left / length : 1);
    left -= length;
  }
  return segments.at(-1)?.to ?? { x: 0, y: 0 };
}
