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
  /**
   * Each kind of dot drawn once on a small canvas (makeDotSprites), then stamped with one drawImage per dot; without
   * it every dot is drawn as circles (two or three antialiased fills a dot, every frame).
   */
  sprites?: DotSprites;
}

/** A dot's picture, centred on its middle: `size` CSS px square. */
export interface DotSprite {
  image: CanvasImageSource;
  size: number;
}

/** The pictures of the dots of each kind (one canvas each, made on first use, kept while palette and ratio hold). */
export interface DotSprites {
  ratio: number;
  palette: DotPalette;
  hasShadow: boolean;
  get(kind: string): DotSprite;
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
  | 'drawImage'
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

/** The circles of one dot centred at (x, y): its shadow when asked, its white ring, its colour. */
function paintDot(ctx: DotContext, x: number, y: number, kind: string, palette: DotPalette, hasShadow: boolean): void {
  const isResult = kind === 'result';
  const radius = isResult ? RESULT_RADIUS : TASK_RADIUS;
  if (hasShadow) circle(ctx, x, y + 1, radius + 0.5, 'rgba(0, 0, 0, 0.22)');
  circle(ctx, x, y, radius, '#fff');
  circle(ctx, x, y, radius - (isResult ? RESULT_RING : TASK_RING), palette.fills[kind] ?? palette.fills['tcp']!);
}

/** A sprite's side (CSS px): the largest dot with its shadow, and a pixel of margin for antialiasing. */
const SPRITE_SIZE = 2 * (TASK_RADIUS + 2) + 2;

/**
 * Sprites for drawDots: each kind's dot painted once, at the screen's pixel ratio, on a canvas from `create`
 * (document.createElement('canvas') on the page). A frame then costs one image copy per dot instead of two or
 * three antialiased circle fills (issue 12: the page's drawing is most of what it costs in a burst).
 */
export function makeDotSprites(
  create: (width: number, height: number) => { getContext(id: '2d'): DotContext | null } & CanvasImageSource,
  palette: DotPalette,
  ratio: number,
  hasShadow: boolean,
): DotSprites {
  const made = new Map<string, DotSprite>();
  return {
    ratio,
    palette,
    hasShadow,
    get(kind: string): DotSprite {
      let sprite = made.get(kind);
      if (!sprite) {
        const side = Math.ceil(SPRITE_SIZE * ratio);
        const image = create(side, side);
        const ctx = image.getContext('2d');
        if (ctx) {
          ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
          paintDot(ctx, SPRITE_SIZE / 2, SPRITE_SIZE / 2, kind, palette, hasShadow);
        }
        sprite = { image, size: side / ratio };
        made.set(kind, sprite);
      }
      return sprite;
    },
  };
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
  const sprites = options.sprites;
  const labels: { text: string; x: number; y: number }[] = [];
  for (let i = 0; i < count; i++) {
    const dot = dots[i]!;
    const x = dot.x * scale;
    const y = dot.y * scale;
    const kind = options.kindOf(dot);
    if (sprites) {
      // Placed on whole device pixels: a sprite between two pixels would be resampled (blurred) on every frame.
      const sprite = sprites.get(kind);
      const left = Math.round((x - sprite.size / 2) * ratio) / ratio;
      const top = Math.round((y - sprite.size / 2) * ratio) / ratio;
      ctx.drawImage(sprite.image, left, top, sprite.size, sprite.size);
    } else paintDot(ctx, x, y, kind, palette, options.hasShadow);
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
