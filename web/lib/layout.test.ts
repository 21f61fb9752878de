import { describe, expect, it } from 'vitest';
import { MIN_WIDTH, ellipsize, layoutDiagram, linkBetween, nodeOf, pointOnLink, portOf, truncate } from './layout.ts';

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

  it('has no external box unless asked, and keeps a minimum width (narrower containers scale the SVG)', () => {
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
