/**
 * Draws a frame's dots on a canvas in one pass: clear, then for each dot an optional shadow, a white ring, its
 * colour and an optional label. A frame then costs a few canvas calls and one layer's bitmap, where an element
 * per dot cost Chromium style, paint and layer updates on every frame (issue 12).
 */
import { MAX_CONCURRENT_DOTS, type Dot } from './flights.ts';

/** The colours and font the page's style sheet gives dots (CSS custom properties of app.css). */
export interface DotPalette {
  /** Fill per kind: a transport ("tcp", "ipc", "inproc"), "external" or "result". */
  fills: Record<string, string>;
  text: string;
  font: string;
}

/** Reads the palette from the computed style of an element under the page's root (its custom properties). */
export function dotPalette(style: Pick<CSSStyleDeclaration, 'getPropertyValue'>): DotPalette {
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    fills: {
      tcp: read('--tcp', '#2563eb'),
      ipc: read('--ipc', '#7c3aed'),
      inproc: read('--inproc', '#0f766e'),
      external: read('--external', '#c2410c'),
      result: read('--good', '#137333'),
    },
    text: read('--text', '#1c2333'),
    font: `11px ${read('--mono', 'monospace')}`,
  };
}

export interface DrawOptions {
  /** CSS pixels per diagram unit (the SVG's viewBox scale). */
  scale: number;
  /** Canvas pixels per CSS pixel (devicePixelRatio). */
  ratio: number;
  palette: DotPalette;
  hasShadow: boolean;
  /** Transport (or "result", "external") that colours a dot. */
  kindOf(dot: Dot): string;
  /** Text above a dot, or null. */
  labelOf(dot: Dot): string | null;
}

/** The part of CanvasRenderingContext2D the drawing uses (tests pass a recorder). */
export type DotContext = Pick<
  CanvasRenderingContext2D,
  | 'setTransform'
  | 'clearRect'
  | 'beginPath'
  | 'arc'
  | 'fill'
  | 'fillText'
  | 'strokeText'
  | 'fillStyle'
  | 'strokeStyle'
  | 'lineWidth'
  | 'lineJoin'
  | 'font'
  | 'textAlign'
  | 'textBaseline'
> & { readonly canvas: { width: number; height: number } };

/** Radius (CSS px) of a task dot and its white ring; a result dot is smaller, as the legend shows. */
const TASK_RADIUS = 8;
const TASK_RING = 2;
const RESULT_RADIUS = 6;
const RESULT_RING = 1.5;
/** The label's baseline sits this far above the dot's centre (CSS px). */
const LABEL_RISE = 9;

function circle(ctx: DotContext, x: number, y: number, r: number, fill: string): void {
  ctx.fillStyle = fill;
  ctx.beginPath();
  ctx.arc(x, y, r, 0, 2 * Math.PI);
  ctx.fill();
}

/**
 * Clears the canvas and draws `dots` (at most MAX_CONCURRENT_DOTS, the first ones), positions in diagram units.
 * @example drawDots(canvas.getContext('2d'), dotsAt(flights, layout, t), { scale: 1, ratio: 1, palette, ... })
 */
export function drawDots(ctx: DotContext, dots: readonly Dot[], options: DrawOptions): void {
  const { scale, ratio, palette } = options;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
  if (dots.length === 0) return;
  // Drawing in CSS pixels from here on; the ratio keeps circles and text sharp on dense screens.
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  const count = Math.min(dots.length, MAX_CONCURRENT_DOTS);
  const labels: { text: string; x: number; y: number }[] = [];
  for (let i = 0; i < count; i++) {
    const dot = dots[i]!;
    const x = dot.x * scale;
    const y = dot.y * scale;
    const kind = options.kindOf(dot);
    const isResult = kind === 'result';
    const radius = isResult ? RESULT_RADIUS : TASK_RADIUS;
    if (options.hasShadow) circle(ctx, x, y + 1, radius + 0.5, 'rgba(0, 0, 0, 0.22)');
    circle(ctx, x, y, radius, '#fff');
    circle(ctx, x, y, radius - (isResult ? RESULT_RING : TASK_RING), palette.fills[kind] ?? palette.fills['tcp']!);
    const text = options.labelOf(dot);
    if (text) labels.push({ text, x, y: y - LABEL_RISE });
  }
  if (labels.length === 0) return;
  // Labels after every dot, so a dot never covers another's label; a white halo keeps them readable on links.
  ctx.font = palette.font;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'bottom';
  ctx.lineJoin = 'round';
  ctx.lineWidth = 3;
  ctx.strokeStyle = '#fff';
  ctx.fillStyle = palette.text;
  for (const label of labels) {
    ctx.strokeText(label.text, label.x, label.y);
    ctx.fillText(label.text, label.x, label.y);
  }
}
