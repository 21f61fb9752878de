import { describe, expect, it } from 'vitest';
import {
  MAX_COLUMNS,
  MIN_WIDTH,
  ellipsize,
  layoutDiagram,
  linkBetween,
  nodeOf,
  pointOnLink,
  pointOnRoute,
  portOf,
  resultRoute,
  routePath,
  taskRoute,
  truncate,
  type Box,
  type Route,
} from './layout.ts';

const tutorial = { endpoints: ['tcp', 'ipc'], workers: ['worker-tcp', 'worker-ipc'], showExternal: false, width: 900 };

function overlaps(a: { x: number; y: number; width: number; height: number }, b: typeof a): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

describe('layoutDiagram', () => {
  it('is pure: the same input gives the same layout', () => {
    expect(layoutDiagram(tutorial)).toEqual(layoutDiagram({ ...tutorial }));
  });

  it('puts one port per endpoint on the right edge of the ventilator, top to bottom', () => {
    const layout = layoutDiagram(tutorial);
    const right = layout.ventilator.x + layout.ventilator.width;
    expect(layout.ports.map((p) => p.name)).toEqual(['tcp', 'ipc']);
    for (const p of layout.ports) {
      expect(p.port.x).toBe(right);
      expect(p.port.y).toBeGreaterThan(layout.ventilator.y);
      expect(p.port.y).toBeLessThan(layout.ventilator.y + layout.ventilator.height);
    }
    expect(layout.ports[0]!.port.y).toBeLessThan(layout.ports[1]!.port.y);
  });

  it('stacks workers on the right, then the external peers box, without overlaps', () => {
    const layout = layoutDiagram({ ...tutorial, showExternal: true });
    const nodes = [...layout.workers, layout.external!];
    expect(nodes.map((n) => n.id)).toEqual(['worker-tcp', 'worker-ipc', 'external']);
    for (const node of nodes) {
      expect(node.box.x).toBeGreaterThan(layout.ventilator.x + layout.ventilator.width);
      expect(node.box.x + node.box.width).toBeLessThanOrEqual(layout.width);
      expect(node.box.y + node.box.height).toBeLessThanOrEqual(layout.height);
      expect(node.anchor).toEqual({ x: node.box.x, y: node.box.y + node.box.height / 2 });
    }
    for (let i = 1; i < nodes.length; i++) expect(overlaps(nodes[i - 1]!.box, nodes[i]!.box)).toBe(false);
  });

  it('has no external box unless asked, and takes the width of its container once measured (before: a minimum)', () => {
    expect(layoutDiagram(tutorial).external).toBeNull();
    expect(layoutDiagram({ ...tutorial, width: 0 }).width).toBe(MIN_WIDTH);
    expect(layoutDiagram({ ...tutorial, width: 1400 }).width).toBe(1400);
  });

  it('grows tall enough for many workers', () => {
    const many = layoutDiagram({ ...tutorial, workers: ['a', 'b', 'c', 'd', 'e'] });
    expect(many.height).toBeGreaterThan(layoutDiagram(tutorial).height);
    const last = many.workers.at(-1)!;
    expect(last.box.y + last.box.height).toBeLessThanOrEqual(many.height);
  });

  it('finds ports and nodes by name', () => {
    const layout = layoutDiagram({ ...tutorial, showExternal: true });
    expect(portOf(layout, 'ipc')).toEqual(layout.ports[1]!.port);
    expect(portOf(layout, 'inproc')).toBeNull();
    expect(nodeOf(layout, 'external')).toBe(layout.external);
    expect(nodeOf(layout, 'worker-ipc')).toBe(layout.workers[1]);
    expect(nodeOf(layout, 'nobody')).toBeNull();
  });
});

function ids(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `worker-${i + 1}`);
}

/** Samples a route and says whether any point falls inside a box (shrunk by a margin). */
function crosses(route: Route, box: Box, margin = 2): boolean {
  for (let i = 0; i <= 200; i++) {
    const p = pointOnRoute(route, i / 200);
    if (
      p.x > box.x + margin &&
      p.x < box.x + box.width - margin &&
      p.y > box.y + margin &&
      p.y < box.y + box.height - margin
    )
      return true;
  }
  return false;
}

describe('layoutDiagram with many workers and a sink', () => {
  const pipeline = { endpoints: ['tcp', 'ipc', 'inproc'], showExternal: false, showSink: true, width: 1140 };

  it('keeps the tutorial layout for two workers (full-size boxes, one column, no sink)', () => {
    const layout = layoutDiagram(tutorial);
    expect(layout.isCompact).toBe(false);
    expect(layout.columns).toBe(1);
    expect(layout.sink).toBeNull();
  });

  it('puts 8 workers in one column of compact boxes, and 32 in four columns, all inside the drawing', () => {
    const eight = layoutDiagram({ ...pipeline, workers: ids(8) });
    expect(eight.columns).toBe(1);
    expect(eight.isCompact).toBe(true);
    const many = layoutDiagram({ ...pipeline, workers: ids(32), width: 1300 });
    expect(many.columns).toBe(MAX_COLUMNS);
    expect(many.workers).toHaveLength(32);
    expect(many.height).toBeLessThan(600);
    for (const node of many.workers) {
      expect(node.box.x).toBeGreaterThan(many.ventilator.x + many.ventilator.width);
      expect(node.box.x + node.box.width).toBeLessThan(many.sink!.box.x);
      expect(node.box.y + node.box.height).toBeLessThanOrEqual(many.height);
    }
    for (let i = 0; i < many.workers.length; i++) {
      for (let j = i + 1; j < many.workers.length; j++)
        expect(overlaps(many.workers[i]!.box, many.workers[j]!.box)).toBe(false);
    }
  });

  it('routes every task link and every result link without crossing another box', () => {
    const layout = layoutDiagram({ ...pipeline, workers: ids(32), width: 1300 });
    const port = portOf(layout, 'ipc')!;
    for (const node of layout.workers) {
      const task = taskRoute(layout, port, node);
      const result = resultRoute(layout, node)!;
      expect(pointOnRoute(task, 0)).toEqual(port);
      expect(pointOnRoute(task, 1).x).toBeCloseTo(node.anchor.x);
      expect(pointOnRoute(task, 1).y).toBeCloseTo(node.anchor.y);
      expect(pointOnRoute(result, 1).x).toBeCloseTo(layout.sink!.anchor.x);
      for (const other of layout.workers) {
        if (other === node) continue;
        expect(crosses(task, other.box), `${node.id} task link crosses ${other.id}`).toBe(false);
        expect(crosses(result, other.box), `${node.id} result link crosses ${other.id}`).toBe(false);
      }
    }
  });

  it('draws a route as one SVG path', () => {
    const layout = layoutDiagram({ ...pipeline, workers: ids(12) });
    const far = layout.workers.at(-1)!;
    expect(far.column).toBe(1);
    const d = routePath(taskRoute(layout, portOf(layout, 'tcp')!, far));
    expect(d.startsWith('M ')).toBe(true);
    expect(d.match(/ C /g)).toHaveLength(3);
  });

  it('finds the sink by id and has none without showSink', () => {
    const layout = layoutDiagram({ ...pipeline, workers: ids(2) });
    expect(nodeOf(layout, 'sink')).toBe(layout.sink);
    expect(resultRoute(layoutDiagram(tutorial), layoutDiagram(tutorial).workers[0]!)).toBeNull();
  });

  it('never scales down: fewer columns where four do not fit, stacked where one does not (issue 10.9)', () => {
    const desktop = layoutDiagram({ ...pipeline, workers: ids(32), width: 948 });
    expect(desktop.width).toBe(948);
    expect(desktop.isNarrow).toBe(false);
    expect(desktop.columns).toBe(2);
    expect(desktop.nodeWidth).toBeGreaterThanOrEqual(128);
    const tablet = layoutDiagram({ ...pipeline, workers: ids(32), width: 600 });
    expect(tablet.width).toBe(600);
    expect(tablet.isNarrow).toBe(true);
  });
});

describe('layoutDiagram in a narrow container (issue 10.9: a phone)', () => {
  const phone = {
    endpoints: ['tcp', 'ipc', 'inproc'],
    workers: ['worker-1', 'worker-2', 'worker-3'],
    showExternal: true,
    showSink: true,
    width: 346,
  };

  it('stacks ventilator, boxes and sink at the width of the container, so the text keeps its size', () => {
    const layout = layoutDiagram(phone);
    expect(layout.isNarrow).toBe(true);
    expect(layout.width).toBe(346);
    const boxes = [layout.ventilator, ...layout.workers.map((n) => n.box), layout.external!.box, layout.sink!.box];
    for (const box of boxes) {
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(layout.width);
      expect(box.y + box.height).toBeLessThanOrEqual(layout.height);
    }
    for (let i = 1; i < boxes.length; i++) {
      expect(boxes[i]!.y, 'each below the one before').toBeGreaterThanOrEqual(boxes[i - 1]!.y + boxes[i - 1]!.height);
    }
    // Wide enough for a worker's words and an address.
    expect(layout.nodeWidth).toBeGreaterThanOrEqual(250);
    expect(layout.addressChars).toBeGreaterThanOrEqual(24);
  });

  it('runs task links down the right gutter into each box, and results down the left one into the sink, crossing no box', () => {
    const layout = layoutDiagram(phone);
    const nodes = [...layout.workers, layout.external!];
    for (const port of layout.ports) {
      for (const node of nodes) {
        const task = taskRoute(layout, port.port, node);
        expect(pointOnRoute(task, 0)).toEqual(port.port);
        expect(pointOnRoute(task, 1).x).toBeCloseTo(node.anchor.x);
        expect(pointOnRoute(task, 1).y).toBeCloseTo(node.anchor.y);
        for (const other of [...nodes, layout.sink!])
          expect(crosses(task, other.box), `${port.name} -> ${node.id} crosses ${other.id}`).toBe(false);
      }
    }
    for (const node of layout.workers) {
      const result = resultRoute(layout, node)!;
      expect(pointOnRoute(result, 0)).toEqual(node.out);
      expect(pointOnRoute(result, 1).x).toBeCloseTo(layout.sink!.anchor.x);
      for (const other of nodes)
        if (other !== node) expect(crosses(result, other.box), `${node.id} result crosses ${other.id}`).toBe(false);
    }
  });

  it('keeps the side-by-side drawing wherever it fits unscaled', () => {
    expect(layoutDiagram({ ...phone, width: 948 }).isNarrow).toBe(false);
    expect(layoutDiagram({ ...phone, width: 0 }).isNarrow).toBe(false);
  });
});

describe('links', () => {
  it('start at the port and end at the anchor', () => {
    const link = linkBetween({ x: 10, y: 20 }, { x: 310, y: 120 });
    expect(pointOnLink(link, 0)).toEqual({ x: 10, y: 20 });
    expect(pointOnLink(link, 1)).toEqual({ x: 310, y: 120 });
    expect(pointOnLink(link, -1)).toEqual({ x: 10, y: 20 });
    const mid = pointOnLink(link, 0.5);
    expect(mid.x).toBeCloseTo(160);
    expect(mid.y).toBeCloseTo(70);
  });
});

describe('ellipsize', () => {
  it('keeps both ends of a long address', () => {
    expect(ellipsize('tcp://127.0.0.1:12345', 40)).toBe('tcp://127.0.0.1:12345');
    const short = ellipsize('ipc:///tmp/zmq-playground-1234/abcdef/zmqdemo', 20);
    expect(short).toHaveLength(20);
    expect(short.startsWith('ipc://')).toBe(true);
    expect(short.endsWith('zmqdemo')).toBe(true);
  });
});

describe('truncate', () => {
  it('keeps the start of a message body', () => {
    expect(truncate('Esta es una prueba,1', 10)).toBe('Esta es u…');
    expect(truncate('x', 10)).toBe('x');
  });
});
