/**
 * Where every box, port and link of the pipeline diagram goes, as a pure function of the topology and the width.
 *
 *   +--------------------+                 +-------------------+
 *   | Ventilator (PUSH)  |   link (curve)  | worker-tcp (PULL) |-----.
 *   |  tcp  tcp://...   o|---------------->|                   |      \    +-----------+
 *   |  ipc  ipc://...   o|-------.         +-------------------+       `-->| Sink      |
 *   +--------------------+        `------->| worker-ipc (PULL) |---------->| (PULL)    |
 *                                          +-------------------+           +-----------+
 *
 * Up to 8 nodes stand in one column; more spread over up to 4 columns of compact boxes. A link to a node in a
 * later column runs along the corridor above that node's row (between the boxes of the earlier columns), so no
 * link crosses a box; results run along the corridor below the row to the sink.
 *
 * The drawing is never scaled down (its text would shrink below 11 px): fewer columns are used when the width is
 * short, and where even one column does not fit beside the ventilator (a phone), the diagram stacks (isNarrow):
 *
 *   +------------------+   task links leave the ports on the right, run down the right gutter and enter
 *   | Ventilator  tcp o|--.  each box from its right edge; results leave each box on the left, run down
 *   +------------------+  |  the left gutter and enter the sink.
 *    +--------------+     |
 *  .-| worker-1     |<----|
 *  | +--------------+     |
 *  | +--------------+     |
 *  |-| worker-2     |<----'
 *  | +--------------+
 *  `>| Sink          |
 *    +--------------+
 *
 * The geometry of links and routes lives in web/lib/layout/geometry.ts and the shortening of text in
 * web/lib/layout/text.ts; both are re-exported here, so the diagram's components import from this module alone.
 */
import { bend, clamp, gutterRoute, linkBetween, routeOf, straight, type Point, type Route } from './layout/geometry.ts';

export {
  linkBetween,
  pointOnLink,
  pointOnRoute,
  routeOf,
  routePath,
  straight,
  type Link,
  type Point,
  type Route,
} from './layout/geometry.ts';
export { ellipsize, truncate } from './layout/text.ts';

/** A rectangle in SVG user units. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One endpoint row of the ventilator and its port circle. */
export interface PortLayout {
  name: string;
  /** The port circle on the ventilator's right edge. */
  port: Point;
  /** Top-left of the text row inside the ventilator box. */
  row: Box;
}

/** A box: a worker, the external peers or the sink. */
export interface NodeLayout {
  id: string;
  box: Box;
  /** Where task links and dots arrive (middle of the left edge). */
  anchor: Point;
  /** Where result links leave for the sink (middle of the right edge). */
  out: Point;
  column: number;
  row: number;
}

/** Everything the diagram draws, positioned. */
export interface DiagramLayout {
  width: number;
  height: number;
  ventilator: Box;
  ports: PortLayout[];
  workers: NodeLayout[];
  external: NodeLayout | null;
  sink: NodeLayout | null;
  /** Longest address (in characters) that fits in a port row. */
  addressChars: number;
  /** Small worker boxes (more than FULL_NODES_MAX nodes). */
  isCompact: boolean;
  columns: number;
  rows: number;
  /** Vertical gap between rows: the corridors links run along. */
  rowGap: number;
  /** Left x of each column. */
  columnX: number[];
  nodeWidth: number;
  nodeHeight: number;
  /** Stacked top to bottom (a narrow container): see the picture above. */
  isNarrow: boolean;
}

/** What the layout depends on: names only, never live counts, so it changes rarely. */
export interface LayoutInput {
  endpoints: readonly string[];
  workers: readonly string[];
  showExternal: boolean;
  /** Draw the sink on the right. */
  showSink?: boolean;
  /** Width available in CSS pixels; below the minimum the SVG scales down instead. */
  width: number;
}

/** Width laid out before the container is measured (0); once measured, the drawing takes the container's width. */
export const MIN_WIDTH = 560;
/** Narrowest stacked drawing; a narrower container (under 300 px) scales it down. */
export const MIN_NARROW_WIDTH = 280;
/** The gutter on the right of a stacked drawing, where task links run down to the boxes. */
export const NARROW_GUTTER = 30;
/** Vertical gap between the ventilator, the stack of boxes and the sink of a stacked drawing. */
const NARROW_GAP = 26;
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
/** Height of a compact worker box (many workers). */
export const COMPACT_HEIGHT = 42;
/** Up to this many nodes get full-size boxes. */
export const FULL_NODES_MAX = 4;
/** Most rows in one column before another column opens. */
export const MAX_ROWS = 8;
/** Most columns of workers. */
export const MAX_COLUMNS = 4;
/** Width and height of the sink box. */
export const SINK_WIDTH = 170;
export const SINK_HEIGHT = 96;
/** Horizontal gap between worker columns (room for the bends into each box). */
const COLUMN_GAP = 46;
/** How far before a column a corridor link bends down (or up) into its box. */
const BEND = 28;
/** Corridors carry task links slightly above and results slightly below their middle. */
const LANE_OFFSET = 3;
/** Approximate width of one character of the 12 px monospace address text. */
const MONO_CHAR = 7.3;

/** The width a side-by-side drawing with this many columns needs (nothing scaled). */
function requiredWidth(columns: number, showSink: boolean): number {
  const isMulti = columns > 1;
  const sinkWidth = showSink ? SINK_WIDTH : 0;
  const sinkGap = showSink ? (isMulti ? 60 : 90) : 0;
  const columnGap = isMulti ? COLUMN_GAP : 0;
  const ventGap = isMulti || showSink ? 110 : 90;
  const minNode = isMulti ? 128 : 180;
  const minVent = isMulti ? 230 : 250;
  return 2 * PAD + minVent + ventGap + columns * minNode + (columns - 1) * columnGap + sinkWidth + sinkGap;
}

/** Lays out the diagram; the same input always gives the same output. */
export function layoutDiagram(input: LayoutInput): DiagramLayout {
  const showSink = input.showSink ?? false;
  const nodeIds = [...input.workers];
  if (input.showExternal) nodeIds.push('external');
  const nodeCount = nodeIds.length;
  const isCompact = nodeCount > FULL_NODES_MAX;
  const isMeasured = input.width > 0;
  // As many columns as the nodes need (MAX_ROWS each), and no more than the width holds unscaled.
  let columns = clamp(Math.ceil(nodeCount / MAX_ROWS), 1, MAX_COLUMNS);
  while (isMeasured && columns > 1 && requiredWidth(columns, showSink) > input.width) columns--;
  if (isMeasured && requiredWidth(columns, showSink) > input.width) return layoutNarrow(input, nodeIds, isCompact);
  const rows = Math.max(1, Math.ceil(nodeCount / columns));
  const isMulti = columns > 1;

  const sinkWidth = showSink ? SINK_WIDTH : 0;
  const sinkGap = showSink ? (isMulti ? 60 : 90) : 0;
  const columnGap = isMulti ? COLUMN_GAP : 0;
  const ventGap = isMulti || showSink ? 110 : 90;
  const minNode = isMulti ? 128 : 180;
  const required = requiredWidth(columns, showSink);
  const width = Math.max(MIN_WIDTH, Math.round(required), Math.round(input.width));

  const ventWidth = Math.round(
    isMulti ? clamp(width * 0.24, 230, 300) : clamp(width * (showSink ? 0.3 : 0.4), 250, 380),
  );
  const region = width - 2 * PAD - ventWidth - ventGap - sinkWidth - sinkGap;
  const nodeMax = isMulti ? 210 : Math.round(clamp(width * 0.28, 180, 250));
  const nodeWidth = Math.floor(clamp((region - (columns - 1) * columnGap) / columns, minNode, nodeMax));
  const nodeHeight = isCompact ? COMPACT_HEIGHT : NODE_HEIGHT;
  const rowGap = isCompact ? (isMulti ? 18 : 9) : NODE_GAP;

  const ventHeight = VENT_HEADER + Math.max(1, input.endpoints.length) * PORT_ROW + 10;
  const stackHeight = nodeCount === 0 ? 0 : rows * nodeHeight + (rows - 1) * rowGap;
  const inner = Math.max(ventHeight, stackHeight, showSink ? SINK_HEIGHT : 0);
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

  const lastRight = width - PAD - sinkWidth - sinkGap;
  const columnX = Array.from(
    { length: columns },
    (_, c) => lastRight - (columns - c) * nodeWidth - (columns - 1 - c) * columnGap,
  );
  const stackTop = PAD + (inner - stackHeight) / 2;
  const place = (id: string, i: number): NodeLayout => {
    const column = Math.floor(i / rows);
    const row = i % rows;
    const box: Box = {
      x: columnX[column] ?? lastRight - nodeWidth,
      y: stackTop + row * (nodeHeight + rowGap),
      width: nodeWidth,
      height: nodeHeight,
    };
    const mid = box.y + box.height / 2;
    return { id, box, anchor: { x: box.x, y: mid }, out: { x: box.x + box.width, y: mid }, column, row };
  };
  const nodes = nodeIds.map(place);
  const external = input.showExternal ? (nodes.pop() ?? null) : null;

  let sink: NodeLayout | null = null;
  if (showSink) {
    const box: Box = {
      x: width - PAD - sinkWidth,
      y: PAD + (inner - SINK_HEIGHT) / 2,
      width: sinkWidth,
      height: SINK_HEIGHT,
    };
    const mid = box.y + box.height / 2;
    sink = {
      id: 'sink',
      box,
      anchor: { x: box.x, y: mid },
      out: { x: box.x + box.width, y: mid },
      column: columns,
      row: 0,
    };
  }

  // Badge (~44 px) and port circle take the rest of the row.
  const addressChars = Math.max(12, Math.floor((ventWidth - 24 - 44 - 14) / MONO_CHAR));
  return {
    width,
    height,
    ventilator,
    ports,
    workers: nodes,
    external,
    sink,
    addressChars,
    isCompact,
    columns,
    rows,
    rowGap,
    columnX,
    nodeWidth,
    nodeHeight,
    isNarrow: false,
  };
}

/**
 * The stacked drawing of a narrow container, at its own width (so at scale 1): the ventilator on top, the boxes in
 * one column below it, the sink at the bottom. Tasks arrive at a box's right edge, results leave from its left.
 */
function layoutNarrow(input: LayoutInput, nodeIds: readonly string[], isCompact: boolean): DiagramLayout {
  const showSink = input.showSink ?? false;
  const width = Math.max(MIN_NARROW_WIDTH, Math.round(input.width));
  const leftGutter = showSink ? NARROW_GUTTER - 4 : 0;
  const ventWidth = width - 2 * PAD - NARROW_GUTTER;
  const ventHeight = VENT_HEADER + Math.max(1, input.endpoints.length) * PORT_ROW + 10;
  const ventilator: Box = { x: PAD, y: PAD, width: ventWidth, height: ventHeight };
  const ports: PortLayout[] = input.endpoints.map((name, i) => {
    const rowY = ventilator.y + VENT_HEADER + i * PORT_ROW;
    return {
      name,
      port: { x: ventilator.x + ventWidth, y: rowY + PORT_ROW / 2 },
      row: { x: ventilator.x + 12, y: rowY, width: ventWidth - 24, height: PORT_ROW },
    };
  });

  const nodeX = PAD + leftGutter;
  const nodeWidth = width - PAD - NARROW_GUTTER - nodeX;
  const nodeHeight = isCompact ? COMPACT_HEIGHT : NODE_HEIGHT;
  const rowGap = isCompact ? 9 : NODE_GAP;
  const stackTop = ventilator.y + ventHeight + NARROW_GAP;
  const nodes: NodeLayout[] = nodeIds.map((id, i) => {
    const box: Box = { x: nodeX, y: stackTop + i * (nodeHeight + rowGap), width: nodeWidth, height: nodeHeight };
    const mid = box.y + box.height / 2;
    return { id, box, anchor: { x: box.x + box.width, y: mid }, out: { x: box.x, y: mid }, column: 0, row: i };
  });
  const stackBottom = nodes.length === 0 ? stackTop - NARROW_GAP : nodes.at(-1)!.box.y + nodeHeight;
  const external = input.showExternal ? (nodes.pop() ?? null) : null;

  let sink: NodeLayout | null = null;
  let bottom = stackBottom;
  if (showSink) {
    const box: Box = { x: nodeX, y: stackBottom + NARROW_GAP, width: nodeWidth, height: SINK_HEIGHT };
    const mid = box.y + box.height / 2;
    sink = { id: 'sink', box, anchor: { x: box.x, y: mid }, out: { x: box.x + box.width, y: mid }, column: 1, row: 0 };
    bottom = box.y + box.height;
  }

  return {
    width,
    height: bottom + PAD,
    ventilator,
    ports,
    workers: nodes,
    external,
    sink,
    addressChars: Math.max(12, Math.floor((ventWidth - 24 - 44 - 14) / MONO_CHAR)),
    isCompact,
    columns: 1,
    rows: Math.max(1, nodeIds.length),
    rowGap,
    columnX: [nodeX],
    nodeWidth,
    nodeHeight,
    isNarrow: true,
  };
}
/** The route of a task from an endpoint port to a node: direct to the first column, along a corridor beyond. */
export function taskRoute(layout: DiagramLayout, from: Point, node: NodeLayout): Route {
  if (layout.isNarrow) {
    // Each endpoint has its own lane in the gutter, so links of different transports run side by side.
    const lane = layout.ports.findIndex((p) => p.port.x === from.x && p.port.y === from.y);
    const offset = lane < 0 ? 0 : (lane - (layout.ports.length - 1) / 2) * 6;
    return gutterRoute(from, node.anchor, layout.width - PAD - NARROW_GUTTER / 2 + offset);
  }
  if (node.column === 0 || layout.columns === 1) return routeOf([linkBetween(from, node.anchor)]);
  const lane = node.box.y - layout.rowGap / 2 - LANE_OFFSET;
  const entry = { x: (layout.columnX[0] ?? node.box.x) - BEND, y: lane };
  const turn = { x: node.box.x - BEND, y: lane };
  return routeOf([linkBetween(from, entry), straight(entry, turn), bend(turn, node.anchor)]);
}

/** The route of a result from a worker to the sink, or null without a sink. */
export function resultRoute(layout: DiagramLayout, node: NodeLayout): Route | null {
  const sink = layout.sink;
  if (!sink) return null;
  if (layout.isNarrow) return gutterRoute(node.out, sink.anchor, PAD + (NARROW_GUTTER - 4) / 2 - 4);
  if (node.column >= layout.columns - 1) return routeOf([linkBetween(node.out, sink.anchor)]);
  const lane = node.box.y + node.box.height + layout.rowGap / 2 + LANE_OFFSET;
  const lastColumn = layout.columnX[layout.columns - 1] ?? node.box.x;
  const exit = { x: node.out.x + BEND, y: lane };
  const past = { x: lastColumn + layout.nodeWidth + BEND, y: lane };
  return routeOf([bend(node.out, exit), straight(exit, past), linkBetween(past, sink.anchor)]);
}
/** Port of an endpoint by name, or null when the layout has no such endpoint. */
export function portOf(layout: DiagramLayout, endpoint: string): Point | null {
  return layout.ports.find((p) => p.name === endpoint)?.port ?? null;
}

/** Node (worker id, "external" or "sink") by id. */
export function nodeOf(layout: DiagramLayout, id: string): NodeLayout | null {
  if (id === 'external') return layout.external;
  if (id === 'sink') return layout.sink;
  return layout.workers.find((w) => w.id === id) ?? null;
}
