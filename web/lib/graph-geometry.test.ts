/**
 * Where the patterns page draws links, ports and dots (issue 11): a dot starts inside the sender's box and lands
 * inside the receiver's (a reply too, on its request's link), a fan's links leave from distinct ports, and a
 * subscription wraps whole words instead of being cut.
 */
import { describe, expect, it } from 'vitest';
import { BOX_W, LINE_CHARS, dotAt, linkGeometry, wrapWords, type Box, type Point } from './graph-geometry.ts';
import { part3, part4 } from '../../shared/scenarios/series.ts';
import { layoutGraph } from './graph-layout.ts';
import type { GraphSpec } from '../../shared/protocol/graph.ts';

function boxesOf(graph: GraphSpec, height = 100): Record<string, Box> {
  const layout = layoutGraph(graph);
  return Object.fromEntries(
    Object.entries(layout.positions).map(([id, p]) => [id, { x: p.x * 1.6, y: p.y * 1.4, width: BOX_W, height }]),
  );
}

const within = (box: Box, point: Point) =>
  point.x > box.x - box.width / 2 &&
  point.x < box.x + box.width / 2 &&
  point.y > box.y - box.height / 2 &&
  point.y < box.y + box.height / 2;

describe('graph geometry', () => {
  it("starts a dot inside the sender's box and lands it inside the receiver's, along the link between them", () => {
    const boxes = boxesOf(part4.graph);
    const { links } = linkGeometry(part4.graph, boxes);
    for (const to of ['fan-1', 'fan-2']) {
      const start = dotAt('narrator', to, 0, links, boxes)!;
      const end = dotAt('narrator', to, 1, links, boxes)!;
      expect(within(boxes.narrator!, start), JSON.stringify(start)).toBe(true);
      expect(within(boxes[to]!, end), JSON.stringify(end)).toBe(true);
      // Half way it is between the boxes, not inside either.
      const middle = dotAt('narrator', to, 0.5, links, boxes)!;
      expect(within(boxes.narrator!, middle) || within(boxes[to]!, middle)).toBe(false);
    }
  });

  it("flies a reply back along its request's link, from inside the replier's box", () => {
    const boxes = boxesOf(part3.graph);
    const { links } = linkGeometry(part3.graph, boxes);
    const start = dotAt('server-5000', 'client', 0, links, boxes)!;
    expect(within(boxes['server-5000']!, start)).toBe(true);
    expect(within(boxes.client!, dotAt('server-5000', 'client', 1, links, boxes)!)).toBe(true);
  });

  it('draws nothing for a node the diagram does not show', () => {
    const boxes = boxesOf(part4.graph);
    expect(dotAt('outside', 'fan-1', 0.3, linkGeometry(part4.graph, boxes).links, boxes)).toBeNull();
  });

  it("gives each link of a fan its own port on the publisher's side facing the subscribers", () => {
    const boxes = boxesOf(part3.graph);
    const { links } = linkGeometry(part3.graph, boxes);
    const starts = links.map((link) => `${link.start.x},${link.start.y}`);
    expect(new Set(starts).size).toBe(3);
    for (const link of links) expect(link.start.x).toBe(boxes.client!.x + BOX_W / 2);
  });

  it('wraps a subscription on whole words, and counts what does not fit', () => {
    const lines = wrapWords('subscribes to “argentina”, “venezuela”'.split(' '));
    expect(lines.join(' ')).toBe('subscribes to “argentina”, “venezuela”');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(LINE_CHARS);
    const many = wrapWords(['subscribes', 'to', ...Array.from({ length: 12 }, (_, i) => `“country-${i}”,`)]);
    expect(many).toHaveLength(3);
    expect(many.at(-1)).toMatch(/\+\d+$/);
    for (const line of many) expect(line.length).toBeLessThanOrEqual(LINE_CHARS);
  });
});
