import { describe, expect, it } from 'vitest';
import { drawDots, dotPalette, makeDotSprites, type DotContext, type DrawOptions } from './dot-canvas.ts';
import { MAX_CONCURRENT_DOTS, type Dot } from './flights.ts';

/** A 2D context that records what is drawn: circles (centre, radius, fill) and texts. */
function recorder() {
  const circles: { x: number; y: number; r: number; fill: string }[] = [];
  const texts: { text: string; x: number; y: number; kind: 'fill' | 'stroke' }[] = [];
  const images: { image: unknown; x: number; y: number; width: number; height: number }[] = [];
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
    drawImage: (image: unknown, x: number, y: number, width: number, height: number) =>
      images.push({ image, x, y, width, height }),
  };
  return {
    ctx: ctx as unknown as DotContext,
    circles,
    texts,
    images,
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

  it('with sprites, paints each kind once (the same circles) and stamps one image per dot, centred on whole pixels', () => {
    const painted: { image: HTMLCanvasElement; width: number; height: number; r: ReturnType<typeof recorder> }[] = [];
    const create = (width: number, height: number) => {
      const r = recorder();
      const image = { getContext: () => r.ctx, width, height } as unknown as HTMLCanvasElement;
      painted.push({ image, width, height, r });
      return image;
    };
    const sprites = makeDotSprites(create, palette, 2, true);
    const r = recorder();
    const dots = [dot('1', 10, 20), dot('2', 30.3, 5, 'result'), dot('3', 12, 20)];
    drawDots(r.ctx, dots, options({ sprites, ratio: 2 }));
    expect(r.circles).toEqual([]); // no circle on the frame itself
    expect(painted).toHaveLength(2); // tcp and result, each painted once
    expect(painted[0]!.width).toBe(painted[0]!.height);
    // The sprite holds the circles the frame would have drawn, centred in it: shadow, ring, colour.
    const [task] = painted;
    const centre = task!.width / 2 / 2; // CSS px (ratio 2)
    expect(task!.r.transform()).toEqual([2, 0, 0, 2, 0, 0]);
    expect(task!.r.circles).toEqual([
      { x: centre, y: centre + 1, r: 8.5, fill: 'rgba(0, 0, 0, 0.22)' },
      { x: centre, y: centre, r: 8, fill: '#fff' },
      { x: centre, y: centre, r: 6, fill: '#123456' },
    ]);
    // One image per dot, its middle at the dot's place (scale 2), on a whole device pixel (ratio 2: halves).
    expect(r.images.map((i) => i.image)).toEqual([painted[0]!.image, painted[1]!.image, painted[0]!.image]);
    for (const [i, image] of r.images.entries()) {
      expect(Math.abs(image.x + image.width / 2 - dots[i]!.x * 2)).toBeLessThanOrEqual(0.25);
      expect(Math.abs(image.y + image.height / 2 - dots[i]!.y * 2)).toBeLessThanOrEqual(0.25);
      expect(Number.isInteger(image.x * 2) && Number.isInteger(image.y * 2)).toBe(true);
    }
  });
});
