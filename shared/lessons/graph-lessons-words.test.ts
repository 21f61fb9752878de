/**
 * The graph lessons' verdicts say their counts in the language's own number (issue 11, the patterns page in
 * Spanish): "respondió 1 suma correcta", never "1 sumas correctas"; "recibió 1 evento", "1 línea". Events made
 * by hand: the verdict's words are what is checked here; the goals themselves are checked on real sockets in
 * server/engine/graph-lessons.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { PlaygroundEvent } from '../protocol/index.ts';
import { graphLessonFor } from './graph-lessons.ts';

let seq = 0;
const base = () => ({ seq: ++seq, run: 'r1', t: seq });
const started = (): PlaygroundEvent =>
  ({
    type: 'graph:started',
    ...base(),
    scenario: 'x',
    graph: { title: 'x', nodes: [], links: [] },
    capabilities: {},
  }) as PlaygroundEvent;
const sent = (node: string, message: number, body: string): PlaygroundEvent => ({
  type: 'message:sent',
  ...base(),
  node,
  message,
  body,
  frames: 1,
});
const received = (node: string, message: number, from: string, body: string): PlaygroundEvent => ({
  type: 'message:received',
  ...base(),
  node,
  message,
  from,
  body,
});

describe("the graph lessons' counts agree in number", () => {
  it('part 1: one sum is "1 suma correcta", two are "2 sumas correctas"', () => {
    const lesson = graphLessonFor('series-1')!;
    const one = lesson.check([started(), received('server', 0, 'client', '1:2'), sent('server', 1, '3')]);
    expect(one.detail.es).toMatch(/^El servidor respondió 1 suma correcta,/);
    expect(one.detail.en).toMatch(/^The server answered 1 sum correctly,/);
    const two = lesson.check([
      started(),
      received('server', 0, 'client', '1:2'),
      sent('server', 1, '3'),
      received('server', 2, 'client', '2:2'),
      sent('server', 3, '4'),
    ]);
    expect(two.detail.es).toMatch(/^El servidor respondió 2 sumas correctas,/);
  });

  it('part 4: "recibió 1 evento", the narrator filtered "1 evento más"', () => {
    const lesson = graphLessonFor('series-4')!;
    const verdict = lesson.check([
      started(),
      sent('narrator', 0, 'argentina gol'),
      sent('narrator', 1, 'brasil gol'),
      received('fan-1', 0, 'narrator', 'argentina gol'),
      { type: 'message:dropped', ...base(), message: 1, node: 'narrator', peer: 'fan-1', reason: 'filtered' },
    ]);
    expect(verdict.detail.es).toContain('fan-1 recibió 1 evento (argentina); el narrador le filtró 1 evento más');
    expect(verdict.detail.en).toContain('fan-1 received 1 match (argentina); the narrator filtered 1 other for it');
  });
});
