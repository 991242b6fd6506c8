/**
 * Small SVG helpers for the demo gallery: colours, shading and the per-view placement of a drawing.
 * Every drawing is self-contained (no fonts, no outside references), so sharp renders it the same
 * way on every machine.
 */

export type Rgb = readonly [number, number, number];

const clamp = (v: number): number => Math.max(0, Math.min(255, Math.round(v)));

export function hex(c: Rgb): string {
  return `#${c.map((v) => clamp(v).toString(16).padStart(2, '0')).join('')}`;
}

/** Darker (f < 1) or lighter (f > 1, towards white) version of a colour. */
export function shade(c: Rgb, f: number): Rgb {
  return (f <= 1 ? c.map((v) => v * f) : c.map((v) => v + (255 - v) * (f - 1))) as unknown as Rgb;
}

/** How one picture of a thing is taken: turned, scaled, moved and in front of which background. */
export interface View {
  rotate: number;
  scale: number;
  dx: number;
  dy: number;
  /** Mirror left–right (people: which way the cap's brim and the backpack point). */
  flip: boolean;
  background: Rgb;
}

/** Light, neutral backgrounds (they read as white/cream to the demo encoder, like a workbench photo). */
export const BACKGROUNDS: readonly Rgb[] = [
  [246, 245, 241],
  [238, 236, 230],
  [250, 250, 248],
  [232, 232, 228],
  [242, 239, 232],
];

export const IMAGE_SIZE = 256;

/** A square SVG document: plain background, the drawing centred and placed as the view says; `overlay` on top, unmoved. */
export function svgDocument(view: View, body: string, overlay = ''): string {
  const c = IMAGE_SIZE / 2;
  const n = (v: number) => Number(v.toFixed(2));
  const flip = view.flip ? ' scale(-1 1)' : '';
  const place = `translate(${n(c + view.dx)} ${n(c + view.dy)}) rotate(${n(view.rotate)}) scale(${n(view.scale)})${flip}`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${IMAGE_SIZE}" height="${IMAGE_SIZE}" viewBox="0 0 ${IMAGE_SIZE} ${IMAGE_SIZE}">` +
    `<rect width="${IMAGE_SIZE}" height="${IMAGE_SIZE}" fill="${hex(view.background)}"/>` +
    `<g transform="${place}">${body}</g>${overlay}</svg>`
  );
}

/** A seeded view: `base` rotation plus a little jitter, scale, offset and one of the backgrounds. */
export function randomView(rng: () => number, base: { rotate: number; scale: number; jitter: number; offset: number }, flip = false): View {
  const pick = Math.floor(rng() * BACKGROUNDS.length);
  return {
    rotate: base.rotate + (rng() * 2 - 1) * base.jitter,
    scale: base.scale * (0.92 + rng() * 0.12),
    dx: (rng() * 2 - 1) * base.offset,
    dy: (rng() * 2 - 1) * base.offset,
    flip,
    background: BACKGROUNDS[pick]!,
  };
}

/** A printed tag in the bottom corner (a part number), for the OCR to read. */
export function tag(text: string): string {
  const width = 14 + text.length * 11;
  const x = IMAGE_SIZE - width - 6;
  return (
    `<rect x="${x}" y="${IMAGE_SIZE - 34}" width="${width}" height="28" rx="3" fill="#fbfbf6" stroke="#444" stroke-width="1.5"/>` +
    `<text x="${x + width / 2}" y="${IMAGE_SIZE - 14}" font-family="DejaVu Sans Mono" font-size="18" font-weight="bold" text-anchor="middle" fill="#111">${text}</text>`
  );
}
