/**
 * Where the patterns page's diagram draws things (issue 11), pure so it can be tested: the node boxes (their size
 * from the longest subscription they show), each link's two ports on the boxes' facing sides (spread when a box
 * has several links on one side, so a PUB's fan does not leave from one point), the curve between them, where a
 * link's label and a drop's mark go on it, and where a dot is at a moment of its flight: it starts inside the
 * sender's box, leaves through the sender's port, follows the curve, and lands inside the receiver's box.
 */
import type { GraphNode, GraphSpec } from '../../shared/protocol/graph.ts';
import { flows } from './graph-layout.ts';

export interface Point {
  x: number;
  y: number;
}

/** The box's width; its height depends on how many lines its longest subscription needs (boxHeight). */
export const BOX_W = 214;
/** Characters a line of a box holds at 12 px (a subscription wraps onto up to SUB_LINES_MAX lines). */
export const LINE_CHARS = 28;
export const SUB_LINES_MAX = 3;
const LINE_H = 16;
/** How deep inside a box a dot starts and lands (clear of the border, inside the box). */
export const DOT_INSET = 16;
/** The share of a flight spent inside each box (leaving the sender, entering the receiver). */
const INSIDE_SHARE = 0.12;

/**
 * A subscription's prefixes as the box shows them: whole words per line, wrapped at LINE_CHARS, at most
 * SUB_LINES_MAX lines (the last one says how many more there are). The text twin names them all.
 */
export function wrapWords(words: readonly string[], maxChars = LINE_CHARS, maxLines = SUB_LINES_MAX): string[] {
  const lines: { text: string; words: number }[] = [];
  for (const whole of words) {
    const word = whole.length > maxChars ? `${whole.slice(0, maxChars - 1)}…` : whole;
    const last = lines.at(-1);
    if (last && last.text.length + 1 + word.length <= maxChars) {
      last.text = `${last.text} ${word}`;
      last.words++;
    } else lines.push({ text: word, words: 1 });
  }
  if (lines.length <= maxLines) return lines.map((line) => line.text);
  const kept = lines.slice(0, maxLines);
  const left = lines.slice(maxLines).reduce((sum, line) => sum + line.words, 0);
  const more = ` +${left}`;
  const last = kept[maxLines - 1]!;
  last.text =
    last.text.length + more.length <= maxChars
      ? last.text + more
      : `${last.text.slice(0, maxChars - more.length - 1)}…${more}`;
  return kept.map((line) => line.text);
}

/** Lines a node's box has under its title: role, subscription lines, counts, one line kept for a problem. */
export function bodyLines(subscriptionLines: number): number {
  return 1 + subscriptionLines + 1 + 1;
}

/** The height of every box of a graph: the same for all, from the node that needs the most lines. */
export function boxHeight(maxSubscriptionLines: number): number {
  return 26 + bodyLines(maxSubscriptionLines) * LINE_H + 6;
}

export interface LinkGeometry {
  key: string;
  from: string;
  to: string;
  /** Where the link leaves `from`'s box and enters `to`'s, on their facing sides. */
  start: Point;
  end: Point;
  /** Control points of the cubic curve (horizontal tangents at both ports, as the pipeline's links). */
  c1: Point;
  c2: Point;
  /** How many links leave or enter the same side of the box at each end (a PUB's fan: all of them). */
  startShared: number;
  endShared: number;
}

export interface Box {
  /** Centre. */
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A point on the cubic curve at t in [0, 1]. */
export function onCurve(link: Pick<LinkGeometry, 'start' | 'end' | 'c1' | 'c2'>, t: number): Point {
  const u = 1 - t;
  const a = u * u * u;
  const b = 3 * u * u * t;
  const c = 3 * u * t * t;
  const d = t * t * t;
  return {
    x: a * link.start.x + b * link.c1.x + c * link.c2.x + d * link.end.x,
    y: a * link.start.y + b * link.c1.y + c * link.c2.y + d * link.end.y,
  };
}

export function curvePath(link: Pick<LinkGeometry, 'start' | 'end' | 'c1' | 'c2'>): string {
  const r = (n: number) => Math.round(n * 10) / 10;
  return `M ${r(link.start.x)} ${r(link.start.y)} C ${r(link.c1.x)} ${r(link.c1.y)}, ${r(link.c2.x)} ${r(link.c2.y)}, ${r(link.end.x)} ${r(link.end.y)}`;
}

/**
 * Every link's ports and curve. A link leaves the box on the side facing the other box (right to left when the
 * other is further right); a box with several links on one side spreads their ports along it, in the order of
 * the boxes they go to, so that they do not cross at the box. Forwards inside one program (a worker's PULL to
 * its PUSH, a proxy's two sockets) are links too here, keyed `fwd:`.
 */
export function linkGeometry(
  graph: GraphSpec,
  boxes: Readonly<Record<string, Box>>,
): { links: LinkGeometry[]; forwards: LinkGeometry[] } {
  const pairs: { key: string; from: string; to: string; forward: boolean }[] = [];
  const linked = new Set<string>();
  for (const link of graph.links) {
    if (!boxes[link.from] || !boxes[link.to]) continue;
    pairs.push({ key: `${link.from}>${link.to}`, from: link.from, to: link.to, forward: false });
    linked.add(`${link.from}>${link.to}`).add(`${link.to}>${link.from}`);
  }
  for (const [from, to] of flows(graph)) {
    if (linked.has(`${from}>${to}`) || !boxes[from] || !boxes[to]) continue;
    pairs.push({ key: `fwd:${from}>${to}`, from, to, forward: true });
  }

  // Which side of each box a pair uses, and the other end's place (to order the ports along the side).
  type Side = 'left' | 'right' | 'top' | 'bottom';
  const sideOf = (me: Box, other: Box): Side => {
    if (Math.abs(other.x - me.x) >= me.width / 2) return other.x > me.x ? 'right' : 'left';
    return other.y > me.y ? 'bottom' : 'top';
  };
  const ends = new Map<string, { pair: number; end: 'start' | 'end'; along: number }[]>();
  pairs.forEach((pair, index) => {
    const a = boxes[pair.from]!;
    const b = boxes[pair.to]!;
    for (const [node, me, other, end] of [
      [pair.from, a, b, 'start'],
      [pair.to, b, a, 'end'],
    ] as const) {
      const side = sideOf(me, other);
      const key = `${node}|${side}`;
      const along = side === 'left' || side === 'right' ? other.y : other.x;
      const list = ends.get(key) ?? [];
      list.push({ pair: index, end, along });
      ends.set(key, list);
    }
  });
  const points = pairs.map(() => ({ start: { x: 0, y: 0 }, end: { x: 0, y: 0 } }));
  const sides = pairs.map(() => ({ start: 'right' as Side, end: 'left' as Side }));
  const shared = pairs.map(() => ({ start: 1, end: 1 }));
  for (const [key, list] of ends) {
    const [node, side] = key.split('|') as [string, Side];
    const box = boxes[node]!;
    list.sort((p, q) => p.along - q.along || p.pair - q.pair);
    const vertical = side === 'left' || side === 'right';
    const room = (vertical ? box.height : box.width) - 28;
    const step = list.length > 1 ? Math.min(18, room / (list.length - 1)) : 0;
    list.forEach((item, k) => {
      const offset = (k - (list.length - 1) / 2) * step;
      const point = vertical
        ? { x: box.x + (side === 'right' ? box.width / 2 : -box.width / 2), y: box.y + offset }
        : { x: box.x + offset, y: box.y + (side === 'bottom' ? box.height / 2 : -box.height / 2) };
      points[item.pair]![item.end] = point;
      sides[item.pair]![item.end] = side;
      shared[item.pair]![item.end] = list.length;
    });
  }
  const control = (p: Point, side: Side, reach: number): Point => {
    if (side === 'right') return { x: p.x + reach, y: p.y };
    if (side === 'left') return { x: p.x - reach, y: p.y };
    if (side === 'bottom') return { x: p.x, y: p.y + reach };
    return { x: p.x, y: p.y - reach };
  };
  const all = pairs.map((pair, i): LinkGeometry & { forward: boolean } => {
    const { start, end } = points[i]!;
    const reach = Math.max(30, Math.hypot(end.x - start.x, end.y - start.y) * 0.45);
    return {
      key: pair.key,
      from: pair.from,
      to: pair.to,
      forward: pair.forward,
      start,
      end,
      c1: control(start, sides[i]!.start, reach),
      c2: control(end, sides[i]!.end, reach),
      startShared: shared[i]!.start,
      endShared: shared[i]!.end,
    };
  });
  const strip = ({ forward: _forward, ...link }: LinkGeometry & { forward: boolean }): LinkGeometry => link;
  return { links: all.filter((l) => !l.forward).map(strip), forwards: all.filter((l) => l.forward).map(strip) };
}

/** A point `inset` inside a box from a port on its edge, towards its centre. */
export function inside(box: Box, port: Point, inset = DOT_INSET): Point {
  const dx = box.x - port.x;
  const dy = box.y - port.y;
  const length = Math.hypot(dx, dy);
  if (length === 0) return { ...port };
  const step = Math.min(inset, length);
  return { x: port.x + (dx / length) * step, y: port.y + (dy / length) * step };
}

/**
 * Where a message's dot is at `progress` (0: just sent, 1: received): inside the sender's box, out through its
 * port, along the link (backwards for a reply on a request's link), into the receiver's box. With no link or
 * forward between the two drawn (a peer the diagram does not show), null: nothing to draw.
 */
export function dotAt(
  from: string,
  to: string,
  progress: number,
  links: readonly LinkGeometry[],
  boxes: Readonly<Record<string, Box>>,
): Point | null {
  const a = boxes[from];
  const b = boxes[to];
  if (!a || !b) return null;
  const forward = links.find((link) => link.from === from && link.to === to);
  const backward = forward ? undefined : links.find((link) => link.from === to && link.to === from);
  const link = forward ?? backward;
  const f = Math.min(1, Math.max(0, progress));
  if (!link) {
    // No drawn link: straight from inside one box to inside the other.
    const s = inside(a, { x: a.x + Math.sign(b.x - a.x) * (a.width / 2), y: a.y });
    const e = inside(b, { x: b.x + Math.sign(a.x - b.x) * (b.width / 2), y: b.y });
    return { x: s.x + (e.x - s.x) * f, y: s.y + (e.y - s.y) * f };
  }
  const curveAt = (t: number) => onCurve(link, backward ? 1 - t : t);
  const leave = backward ? link.end : link.start;
  const arrive = backward ? link.start : link.end;
  if (f < INSIDE_SHARE) {
    const s = inside(a, leave);
    const k = f / INSIDE_SHARE;
    return { x: s.x + (leave.x - s.x) * k, y: s.y + (leave.y - s.y) * k };
  }
  if (f > 1 - INSIDE_SHARE) {
    const e = inside(b, arrive);
    const k = (f - (1 - INSIDE_SHARE)) / INSIDE_SHARE;
    return { x: arrive.x + (e.x - arrive.x) * k, y: arrive.y + (e.y - arrive.y) * k };
  }
  return curveAt((f - INSIDE_SHARE) / (1 - 2 * INSIDE_SHARE));
}

/** The transport a node's box is striped with: that of its first link (tcp when it has none). */
export function transportOf(graph: GraphSpec, node: GraphNode): 'tcp' | 'ipc' | 'inproc' {
  return graph.links.find((link) => link.from === node.id || link.to === node.id)?.transport ?? 'tcp';
}
