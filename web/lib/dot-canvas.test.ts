import { describe, expect, it } from 'vitest';
import { drawDots, dotPalette, type DotContext, type DrawOptions } from './dot-canvas.ts';
import { MAX_CONCURRENT_DOTS, type Dot } from './flights.ts';

/** A 2D context that records what is drawn: circles (centre, radius, fill) and texts. */
function recorder() {
  const circles: { x: number; y: number; r: number; fill: string }[] = [];
  const texts: { text: string; x: number; y: number; kind: 'fill' | 'stroke' }[] = [];
  let clears = 0;
  let transform: number[] = [];
  const ctx = {
    canvas: { width: 200, height: 100 },
    fillStyle: '' as string,
    strokeStyle: '',
    lineWidth: 1,
    lineJoin: 'miter',
    font: '',
    textAlign: 'start',
    textBaseline: 'alphabetic',
    setTransform: (...args: number[]) => (transform = args),
    clearRect: () => clears++,
    beginPath: () => {},
    arc: (x: number, y: number, r: number) => circles.push({ x, y, r, fill: '' }),
    fill: () => (circles.at(-1)!.fill = ctx.fillStyle),
    fillText: (text: string, x: number, y: number) => texts.push({ text, x, y, kind: 'fill' }),
    strokeText: (text: string, x: number, y: number) => texts.push({ text, x, y, kind: 'stroke' }),
  };
  return {
    ctx: ctx as unknown as DotContext,
    circles,
    texts,
    clears: () => clears,
    transform: () => transform,
  };
}

function dot(key: string, x: number, y: number, kind: Dot['kind'] = 'task', to = 'worker-1'): Dot {
  return { key, kind, task: Number(key), body: `body ${key}`, to, worker: to, x, y, progress: 0.5 };
}

const palette = dotPalette({ getPropertyValue: (name: string) => (name === '--tcp' ? ' #123456 ' : '') });

function options(over: Partial<DrawOptions> = {}): DrawOptions {
  return {
    scale: 2,
    ratio: 1,
    palette,
    hasShadow: false,
    kindOf: (d) => (d.kind === 'result' ? 'result' : 'tcp'),
    labelOf: () => null,
    ...over,
  };
}

describe('drawDots', () => {
  it('clears the canvas and draws each dot as a white ring around its colour, at its place scaled', () => {
    const r = recorder();
    drawDots(r.ctx, [dot('1', 10, 20), dot('2', 30, 5, 'result')], options());
    expect(r.clears()).toBe(1);
    expect(r.circles).toEqual([
      { x: 20, y: 40, r: 8, fill: '#fff' },
      { x: 20, y: 40, r: 6, fill: '#123456' },
      { x: 60, y: 10, r: 6, fill: '#fff' },
      { x: 60, y: 10, r: 4.5, fill: '#137333' },
    ]);
  });

  it('only clears when there is nothing to draw', () => {
    const r = recorder();
    drawDots(r.ctx, [], options());
    expect(r.clears()).toBe(1);
    expect(r.circles).toEqual([]);
  });

  it('draws in CSS pixels on a dense screen (the ratio is the transform)', () => {
    const r = recorder();
    drawDots(r.ctx, [dot('1', 10, 20)], options({ ratio: 2 }));
    expect(r.transform()).toEqual([2, 0, 0, 2, 0, 0]);
  });

  it('writes labels above their dots with a halo, after every dot', () => {
    const r = recorder();
    drawDots(r.ctx, [dot('1', 10, 20), dot('2', 40, 20)], options({ scale: 1, labelOf: (d) => `#${d.task}` }));
    expect(r.texts).toEqual([
      { text: '#1', x: 10, y: 11, kind: 'stroke' },
      { text: '#1', x: 10, y: 11, kind: 'fill' },
      { text: '#2', x: 40, y: 11, kind: 'stroke' },
      { text: '#2', x: 40, y: 11, kind: 'fill' },
    ]);
  });

  it('draws a shadow under each dot when asked', () => {
    const r = recorder();
    drawDots(r.ctx, [dot('1', 10, 20)], options({ scale: 1, hasShadow: true }));
    expect(r.circles.map((c) => c.r)).toEqual([8.5, 8, 6]);
    expect(r.circles[0]).toMatchObject({ x: 10, y: 21 });
  });

  it('never draws more than MAX_CONCURRENT_DOTS dots', () => {
    const r = recorder();
    const many = Array.from({ length: MAX_CONCURRENT_DOTS + 10 }, (_, i) => dot(String(i), i, 0));
    drawDots(r.ctx, many, options());
    expect(r.circles.length).toBe(2 * MAX_CONCURRENT_DOTS);
  });
});
