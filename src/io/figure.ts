// Figures (charts, picture sheets) drawn once against a small Painter interface and rendered two
// ways in Node: as SVG that sharp (librsvg, with real fonts) turns into a PNG, or, when sharp is
// not installed or finds no font to draw text with, onto a raster with plot.ts's bitmap font. The
// layout code asks the painter how wide a text is, so both renderings keep labels inside the frame.
import { blankImage, drawLine, drawText, fillRect, paste, scaleImage, textWidth as bitmapTextWidth, type RGB } from './plot.js';
import { encodePNG, savePNG, type RasterImage } from './png.js';
import { writeFileAtomic } from './files.js';
import { nodeModule } from './node.js';

export type { RGB };

export interface TextStyle {
  /** Font size in pixels (default 12). */
  size?: number;
  colour?: RGB;
  /** Where x is: the start of the text (default), its middle or its end. */
  anchor?: 'start' | 'middle' | 'end';
  bold?: boolean;
}

export interface LineStyle {
  width?: number;
  /** Dash and gap lengths in pixels. */
  dash?: readonly number[];
  opacity?: number;
}

/** What a figure is drawn with. Coordinates in pixels, origin top left; text y is the baseline. */
export interface Painter {
  readonly width: number;
  readonly height: number;
  rect(x: number, y: number, w: number, h: number, fill: RGB, opacity?: number): void;
  /** A rectangle's outline, `width` pixels wide, drawn inside the rectangle. */
  frame(x: number, y: number, w: number, h: number, colour: RGB, width?: number): void;
  polyline(points: readonly (readonly [number, number])[], colour: RGB, style?: LineStyle): void;
  dot(x: number, y: number, radius: number, fill: RGB): void;
  text(x: number, y: number, text: string, style?: TextStyle): void;
  /** The width the painter will give `text` at `size` (an estimate for SVG, exact for the raster). */
  textWidth(text: string, size?: number, bold?: boolean): number;
  /** An image at (x, y), enlarged by a whole `scale` with square pixels. */
  image(img: RasterImage, x: number, y: number, scale?: number): void;
}

const DEFAULT_SIZE = 12;
const INK: RGB = [29, 35, 42];

// ------------------------------------------------------------------ SVG

const FONT = "'DejaVu Sans', 'Liberation Sans', Arial, Helvetica, sans-serif";

// Advance widths of DejaVu Sans (the font Debian's fontconfig picks for sans-serif) in em, by
// character class; a little generous, so that a label measured here never runs into its neighbour.
function emWidth(ch: string): number {
  if (' ijlft.,:;\'!|()[]'.includes(ch)) return 0.34;
  if ('mwMW%'.includes(ch)) return 0.95;
  if (/[A-Z]/.test(ch)) return 0.72;
  if (/[0-9]/.test(ch)) return 0.64;
  if ('rs-'.includes(ch)) return 0.5;
  return 0.62;
}

function svgColour(c: RGB): string {
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const num = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2));

/** Collects the figure as SVG elements; `svg()` gives the document. */
export class SvgPainter implements Painter {
  private readonly parts: string[] = [];
  constructor(readonly width: number, readonly height: number, background: RGB = [255, 255, 255]) {
    this.parts.push(`<rect width="${width}" height="${height}" fill="${svgColour(background)}"/>`);
  }

  rect(x: number, y: number, w: number, h: number, fill: RGB, opacity = 1): void {
    this.parts.push(`<rect x="${num(x)}" y="${num(y)}" width="${num(w)}" height="${num(h)}" fill="${svgColour(fill)}"${opacity < 1 ? ` fill-opacity="${opacity}"` : ''}/>`);
  }

  frame(x: number, y: number, w: number, h: number, colour: RGB, width = 1): void {
    const o = width / 2;
    this.parts.push(`<rect x="${num(x + o)}" y="${num(y + o)}" width="${num(w - width)}" height="${num(h - width)}" fill="none" stroke="${svgColour(colour)}" stroke-width="${width}"/>`);
  }

  polyline(points: readonly (readonly [number, number])[], colour: RGB, style: LineStyle = {}): void {
    if (points.length === 0) return;
    const pts = points.map(([x, y]) => `${num(x)},${num(y)}`).join(' ');
    const dash = style.dash?.length ? ` stroke-dasharray="${style.dash.join(' ')}"` : '';
    const opacity = style.opacity !== undefined && style.opacity < 1 ? ` stroke-opacity="${style.opacity}"` : '';
    this.parts.push(`<polyline points="${pts}" fill="none" stroke="${svgColour(colour)}" stroke-width="${style.width ?? 1.5}" stroke-linejoin="round" stroke-linecap="round"${dash}${opacity}/>`);
  }

  dot(x: number, y: number, radius: number, fill: RGB): void {
    this.parts.push(`<circle cx="${num(x)}" cy="${num(y)}" r="${radius}" fill="${svgColour(fill)}"/>`);
  }

  text(x: number, y: number, text: string, style: TextStyle = {}): void {
    const anchor = style.anchor && style.anchor !== 'start' ? ` text-anchor="${style.anchor}"` : '';
    const weight = style.bold ? ' font-weight="bold"' : '';
    this.parts.push(`<text x="${num(x)}" y="${num(y)}" font-size="${style.size ?? DEFAULT_SIZE}"${weight} fill="${svgColour(style.colour ?? INK)}"${anchor}>${escapeXml(text)}</text>`);
  }

  textWidth(text: string, size = DEFAULT_SIZE, bold = false): number {
    let em = 0;
    for (const ch of text) em += emWidth(ch);
    return em * size * (bold ? 1.12 : 1);
  }

  image(img: RasterImage, x: number, y: number, scale = 1): void {
    // Enlarged here, so the renderer never resamples (no blur between pixels).
    const big = scale > 1 ? scaleImage(img, scale) : img;
    const b64 = Buffer.from(encodePNG(big)).toString('base64');
    this.parts.push(`<image x="${num(x)}" y="${num(y)}" width="${big.width}" height="${big.height}" xlink:href="data:image/png;base64,${b64}"/>`);
  }

  svg(): string {
    return `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${this.width}" height="${this.height}" font-family="${FONT}">\n${this.parts.join('\n')}\n</svg>\n`;
  }
}

// ------------------------------------------------------------------ raster (bitmap font)

// The 5×7 font has ASCII only; these print as their nearest ASCII.
const ASCII_FOR: Record<string, string> = { '✓': 'v', '✗': 'x', '→': '->', '…': '...', '×': 'x', '≥': '>=', '≤': '<=', '·': '.' };

function toAscii(text: string): string {
  let out = '';
  for (const ch of text) out += ASCII_FOR[ch] ?? ch;
  return out;
}

/** Bitmap glyphs come in whole multiples of 7 px tall: 1× up to 13 px text, 2× above. */
function glyphScale(size: number): number {
  return size >= 14 ? 2 : 1;
}

/** Draws onto an RGB raster with plot.ts's primitives. */
export class RasterPainter implements Painter {
  /** What has been drawn so far. */
  readonly raster: RasterImage;
  constructor(readonly width: number, readonly height: number, background: RGB = [255, 255, 255]) {
    this.raster = blankImage(width, height, background);
  }

  rect(x: number, y: number, w: number, h: number, fill: RGB, opacity = 1): void {
    fillRect(this.raster, x, y, w, h, fill, opacity);
  }

  frame(x: number, y: number, w: number, h: number, colour: RGB, width = 1): void {
    fillRect(this.raster, x, y, w, width, colour);
    fillRect(this.raster, x, y + h - width, w, width, colour);
    fillRect(this.raster, x, y, width, h, colour);
    fillRect(this.raster, x + w - width, y, width, h, colour);
  }

  polyline(points: readonly (readonly [number, number])[], colour: RGB, style: LineStyle = {}): void {
    const width = style.width ?? 1.5;
    const dash = style.dash?.length ? style.dash : null;
    let along = 0;
    for (let i = 1; i < points.length; i++) {
      const [x0, y0] = points[i - 1]!, [x1, y1] = points[i]!;
      const len = Math.hypot(x1 - x0, y1 - y0);
      if (!dash) {
        drawLine(this.raster, x0, y0, x1, y1, colour, width);
        continue;
      }
      // Dashes continue across vertices: `along` is the distance into the dash pattern.
      const period = dash.reduce((a, b) => a + b, 0);
      let t = 0;
      while (t < len) {
        const phase = along % period;
        let acc = 0, k = 0;
        while (acc + dash[k]! <= phase) acc += dash[k++]!;
        const run = Math.min(len - t, acc + dash[k]! - phase);
        if (k % 2 === 0) {
          const a = t / len, b = (t + run) / len;
          drawLine(this.raster, x0 + (x1 - x0) * a, y0 + (y1 - y0) * a, x0 + (x1 - x0) * b, y0 + (y1 - y0) * b, colour, width);
        }
        t += run;
        along += run;
      }
    }
    if (points.length === 1) this.dot(points[0]![0], points[0]![1], width, colour);
  }

  dot(x: number, y: number, radius: number, fill: RGB): void {
    for (let yy = Math.floor(y - radius); yy <= Math.ceil(y + radius); yy++) {
      for (let xx = Math.floor(x - radius); xx <= Math.ceil(x + radius); xx++) {
        if (xx < 0 || yy < 0 || xx >= this.width || yy >= this.height) continue;
        const cover = Math.min(1, Math.max(0, radius + 0.5 - Math.hypot(xx + 0.5 - x, yy + 0.5 - y)));
        if (cover > 0) fillRect(this.raster, xx, yy, 1, 1, fill, cover);
      }
    }
  }

  text(x: number, y: number, text: string, style: TextStyle = {}): void {
    const s = toAscii(text);
    const scale = glyphScale(style.size ?? DEFAULT_SIZE);
    const w = bitmapTextWidth(s, scale);
    const shift = style.anchor === 'middle' ? w / 2 : style.anchor === 'end' ? w : 0;
    const colour = style.colour ?? INK;
    // The glyphs' capitals are 7 rows tall, so the baseline is 7 rows below their top.
    drawText(this.raster, s, Math.round(x - shift), Math.round(y - 7 * scale), colour, scale);
    if (style.bold) drawText(this.raster, s, Math.round(x - shift) + 1, Math.round(y - 7 * scale), colour, scale);
  }

  textWidth(text: string, size = DEFAULT_SIZE, bold = false): number {
    return bitmapTextWidth(toAscii(text), glyphScale(size)) + (bold ? 1 : 0);
  }

  image(img: RasterImage, x: number, y: number, scale = 1): void {
    paste(this.raster, scale > 1 ? scaleImage(img, scale) : img, Math.round(x), Math.round(y));
  }
}

// ------------------------------------------------------------------ rendering to a file (Node)

interface SharpInstance {
  png(opts?: Record<string, unknown>): SharpInstance;
  removeAlpha(): SharpInstance;
  raw(): SharpInstance;
  toBuffer(opts: { resolveWithObject: true }): Promise<{ data: Uint8Array; info: { width: number; height: number; channels: number } }>;
  toBuffer(): Promise<Uint8Array>;
}
type SharpFactory = (input: Uint8Array, opts?: Record<string, unknown>) => SharpInstance;

export type FigureBackend = 'svg' | 'raster';

let svgRenderer: Promise<SharpFactory | null> | null = null;

/**
 * sharp, if it is installed and draws text: librsvg takes its fonts from fontconfig, and on a
 * machine without any font the labels would come out blank, so a probe text must leave ink.
 * Checked once per process (the first SVG render also pays for fontconfig's start, about 0.5 s).
 */
export function sharpForFigures(): Promise<SharpFactory | null> {
  svgRenderer ??= (async () => {
    let sharp: SharpFactory;
    try {
      sharp = (await nodeModule<{ default: SharpFactory }>('sharp', 'drawing figures with real text')).default;
    } catch {
      return null;
    }
    try {
      const probe = new SvgPainter(60, 24);
      probe.text(4, 18, 'Ag 0%', { size: 16, colour: [0, 0, 0] });
      const { data } = await sharp(new TextEncoder().encode(probe.svg())).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      let ink = 0;
      for (let i = 0; i < data.length; i += 3) if (data[i]! < 128) ink++;
      return ink >= 20 ? sharp : null;
    } catch {
      return null;
    }
  })();
  return svgRenderer;
}

/**
 * Draws a figure and writes it as a PNG (atomically): through SVG and sharp when that works,
 * otherwise with the bitmap font. `height` may be computed from a painter of the chosen kind (text
 * wraps differently in the two), given at height 1 for measuring. `backend` forces one (tests);
 * returns the one used.
 */
export async function saveFigure(path: string, width: number, height: number | ((measure: Painter) => number), draw: (p: Painter) => void, opts: { backend?: FigureBackend } = {}): Promise<FigureBackend> {
  const heightFor = (measure: Painter) => (typeof height === 'number' ? height : Math.ceil(height(measure)));
  const sharp = opts.backend === 'raster' ? null : await sharpForFigures();
  if (opts.backend === 'svg' && !sharp) throw new Error('saveFigure: SVG figures need sharp with a font it can draw text with');
  if (sharp) {
    const p = new SvgPainter(width, heightFor(new SvgPainter(width, 1)));
    draw(p);
    let png: Uint8Array | null = null;
    try {
      png = await sharp(new TextEncoder().encode(p.svg())).removeAlpha().png({ compressionLevel: 9, adaptiveFiltering: true }).toBuffer();
    } catch (e) {
      // A picture is not worth a training run: should librsvg fail, the bitmap font draws it.
      if (opts.backend === 'svg') throw e;
    }
    if (png) {
      await writeFileAtomic(path, png);
      return 'svg';
    }
  }
  const p = new RasterPainter(width, heightFor(new RasterPainter(width, 1)));
  draw(p);
  await savePNG(path, p.raster);
  return 'raster';
}
