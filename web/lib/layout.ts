/**
 * Where every box, port and link of the pipeline diagram goes, as a pure function of the topology and the width.
 *
 *   +--------------------+                 +-------------------+
 *   | Ventilator (PUSH)  |   link (curve)  | worker-tcp (PULL) |
 *   |  tcp  tcp://...   o|---------------->|                   |
 *   |  ipc  ipc://...   o|-------.         +-------------------+
 *   +--------------------+        `------->| worker-ipc (PULL) |
 *                                          +-------------------+
 *                                          | External peers    |
 *                                          +-------------------+
 */

/** SVG user units. */
export interface Point {
  x: number;
  y: number;
}

/** A rectangle in SVG user units. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A cubic Bézier from an endpoint port to a node's left edge; dots fly along it. */
export interface Link {
  from: Point;
  c1: Point;
  c2: Point;
  to: Point;
}

/** One endpoint row of the ventilator and its port circle. */
export interface PortLayout {
  name: string;
  /** The port circle on the ventilator's right edge. */
  port: Point;
  /** Top-left of the text row inside the ventilator box. */
  row: Box;
}

/** A box on the right: a worker or the external peers. */
export interface NodeLayout {
  id: string;
  box: Box;
  /** Where links and dots arrive (middle of the left edge). */
  anchor: Point;
}

/** Everything the diagram draws, positioned. */
export interface DiagramLayout {
  width: number;
  height: number;
  ventilator: Box;
  ports: PortLayout[];
  workers: NodeLayout[];
  external: NodeLayout | null;
  /** Longest address (in characters) that fits in a port row. */
  addressChars: number;
}

/** What the layout depends on: names only, never live counts, so it changes rarely. */
export interface LayoutInput {
  endpoints: readonly string[];
  workers: readonly string[];
  showExternal: boolean;
  /** Width available in CSS pixels; below MIN_WIDTH the SVG scales down instead. */
  width: number;
}

/** Narrowest width laid out as is; a narrower container scales the whole SVG through its viewBox. */
export const MIN_WIDTH = 560;
/** Outer padding of the drawing. */
export const PAD = 16;
/** Height of the ventilator's title area above the first port row. */
export const VENT_HEADER = 58;
/** Height of one endpoint row in the ventilator box. */
export const PORT_ROW = 46;
/** Height of a worker (or external peers) box. */
export const NODE_HEIGHT = 70;
/** Vertical gap between worker boxes. */
export const NODE_GAP = 14;
/** Approximate width of one character of the 12 px monospace address text. */
const MONO_CHAR = 7.3;

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** Lays out the diagram; the same input always gives the same output. */
export function layoutDiagram(input: LayoutInput): DiagramLayout {
  const width = Math.max(MIN_WIDTH, Math.round(input.width));
  const ventWidth = Math.round(clamp(width * 0.4, 250, 380));
  const nodeWidth = Math.round(clamp(width * 0.28, 180, 250));
  const nodeIds = [...input.workers];
  const nodeCount = nodeIds.length + (input.showExternal ? 1 : 0);

  const ventHeight = VENT_HEADER + Math.max(1, input.endpoints.length) * PORT_ROW + 10;
  const stackHeight = nodeCount === 0 ? 0 : nodeCount * NODE_HEIGHT + (nodeCount - 1) * NODE_GAP;
  const inner = Math.max(ventHeight, stackHeight);
  const height = inner + PAD * 2;

  const ventilator: Box = { x: PAD, y: PAD + (inner - ventHeight) / 2, width: ventWidth, height: ventHeight };
  const ports: PortLayout[] = input.endpoints.map((name, i) => {
    const rowY = ventilator.y + VENT_HEADER + i * PORT_ROW;
    return {
      name,
      port: { x: ventilator.x + ventWidth, y: rowY + PORT_ROW / 2 },
      row: { x: ventilator.x + 12, y: rowY, width: ventWidth - 24, height: PORT_ROW },
    };
  });

  const nodeX = width - PAD - nodeWidth;
  const stackTop = PAD + (inner - stackHeight) / 2;
  const place = (id: string, i: number): NodeLayout => {
    const box: Box = { x: nodeX, y: stackTop + i * (NODE_HEIGHT + NODE_GAP), width: nodeWidth, height: NODE_HEIGHT };
    return { id, box, anchor: { x: box.x, y: box.y + box.height / 2 } };
  };
  const workers = nodeIds.map(place);
  const external = input.showExternal ? place('external', nodeIds.length) : null;

  // Badge (~44 px) and port circle take the rest of the row.
  const addressChars = Math.max(12, Math.floor((ventWidth - 24 - 44 - 14) / MONO_CHAR));
  return { width, height, ventilator, ports, workers, external, addressChars };
}

/** The curve from a port to a node anchor: leaves and arrives horizontally. */
export function linkBetween(from: Point, to: Point): Link {
  const dx = Math.max(40, (to.x - from.x) * 0.5);
  return { from, c1: { x: from.x + dx, y: from.y }, c2: { x: to.x - dx, y: to.y }, to };
}

/** SVG path data for a link. */
export function linkPath(link: Link): string {
  const { from, c1, c2, to } = link;
  return `M ${from.x} ${from.y} C ${c1.x} ${c1.y}, ${c2.x} ${c2.y}, ${to.x} ${to.y}`;
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

/** Port of an endpoint by name, or null when the layout has no such endpoint. */
export function portOf(layout: DiagramLayout, endpoint: string): Point | null {
  return layout.ports.find((p) => p.name === endpoint)?.port ?? null;
}

/** Node (worker id or "external") by id. */
export function nodeOf(layout: DiagramLayout, id: string): NodeLayout | null {
  if (id === 'external') return layout.external;
  return layout.workers.find((w) => w.id === id) ?? null;
}

/** Shortens text to at most max characters with an ellipsis in the middle (addresses keep both ends). */
export function ellipsize(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 1) return '…';
  const head = Math.ceil((max - 1) / 2);
  const tail = Math.floor((max - 1) / 2);
  return `${text.slice(0, head)}…${tail > 0 ? text.slice(-tail) : ''}`;
}

/** Shortens text to at most max characters with a trailing ellipsis (message bodies read from the start). */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return max <= 1 ? '…' : `${text.slice(0, max - 1)}…`;
}
