/**
 * A folder of photo-like images for ingest benchmarks: seeded JPEGs of 1–12 megapixels with the mix
 * of content that makes camera files the size they are (smooth gradients, shaded shapes, fine text
 * lines on labels, coarse texture and sensor-like noise, so a 12 MP file is 2–3 MB at quality 90),
 * a few of them rotated by EXIF orientation as phones write portraits, and every twentieth a
 * screenshot-like PNG. Photo i depends only on (seed, i), so the cache under os.tmpdir() serves
 * any count and a second run reuses what the first one drew.
 */
import { mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { mulberry32 } from '../src/random.js';

/** Bumped whenever the drawing changes, so an old cache is not taken for the new photos. */
const VERSION = 1;

export interface Photo {
  path: string;
  format: 'jpeg' | 'png';
  width: number;
  height: number;
  bytes: number;
}

interface Plan {
  name: string;
  format: 'jpeg' | 'png';
  width: number;
  height: number;
  /** EXIF orientation to record (6 = stored landscape, shown portrait). */
  orientation: 1 | 6;
}

const ASPECTS = [4 / 3, 3 / 2, 16 / 9, 1] as const;

/** Photo i's size and kind: megapixels log-uniform in 1–12 (PNGs 1–4), aspect from the camera usual. */
function plan(seed: number, i: number): Plan {
  const rng = mulberry32(seed * 100_003 + i);
  const png = i % 20 === 7;
  const megapixels = png ? 1 + rng() * 3 : Math.exp(rng() * Math.log(12));
  const aspect = ASPECTS[Math.floor(rng() * ASPECTS.length)]!;
  const height = Math.round(Math.sqrt((megapixels * 1e6) / aspect));
  const width = Math.round(height * aspect);
  const orientation = !png && rng() < 0.2 ? 6 : 1;
  return { name: `photo-${String(i).padStart(4, '0')}.${png ? 'png' : 'jpg'}`, format: png ? 'png' : 'jpeg', width, height, orientation };
}

/** Interleaved RGB pixels of one picture (pure JS, seeded). */
function draw(p: Plan, rng: () => number): Buffer {
  const { width: w, height: h } = p;
  // Clamped: values the drawing pushes past 0–255 saturate, as light does, instead of wrapping.
  const px = new Uint8ClampedArray(w * h * 3);
  const colour = (): [number, number, number] => [rng() * 255, rng() * 255, rng() * 255];
  const photo = p.format === 'jpeg';

  // Background: a two-colour gradient at a random angle, plus coarse bilinear value-noise texture.
  const [a, b] = [colour(), colour()];
  const angle = rng() * Math.PI;
  const [dx, dy] = [Math.cos(angle) / w, Math.sin(angle) / h];
  const cell = 24 + Math.floor(rng() * 40);
  const gw = Math.ceil(w / cell) + 2;
  const gh = Math.ceil(h / cell) + 2;
  const grid = Float32Array.from({ length: gw * gh }, () => (rng() - 0.5) * (photo ? 50 : 0));
  let state = Math.floor(rng() * 2 ** 31) | 1;
  const grain = photo ? 26 + rng() * 14 : 0;
  for (let y = 0; y < h; y++) {
    const gy = y / cell;
    const y0 = Math.floor(gy);
    const fy = gy - y0;
    for (let x = 0; x < w; x++) {
      const gx = x / cell;
      const x0 = Math.floor(gx);
      const fx = gx - x0;
      const g0 = grid[y0 * gw + x0]! * (1 - fx) + grid[y0 * gw + x0 + 1]! * fx;
      const g1 = grid[(y0 + 1) * gw + x0]! * (1 - fx) + grid[(y0 + 1) * gw + x0 + 1]! * fx;
      const texture = g0 * (1 - fy) + g1 * fy;
      const t = Math.min(1, Math.max(0, 0.5 + (x - w / 2) * dx + (y - h / 2) * dy));
      // xorshift32: fast per-pixel grain, seeded from the picture's rng.
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      const noise = ((state >>> 0) / 2 ** 32 - 0.5) * grain;
      const o = (y * w + x) * 3;
      for (let c = 0; c < 3; c++) px[o + c] = a[c]! + (b[c]! - a[c]!) * t + texture + noise;
    }
  }

  // Shaded rectangles and discs (parts, boxes, faces at a distance).
  const shapes = 6 + Math.floor(rng() * 10);
  for (let s = 0; s < shapes; s++) {
    const [cx, cy, rw, rh] = [rng() * w, rng() * h, (0.03 + rng() * 0.2) * w, (0.03 + rng() * 0.2) * h];
    const fill = colour();
    const disc = rng() < 0.5;
    for (let y = Math.max(0, Math.floor(cy - rh)); y < Math.min(h, cy + rh); y++) {
      for (let x = Math.max(0, Math.floor(cx - rw)); x < Math.min(w, cx + rw); x++) {
        const u = (x - cx) / rw;
        const v = (y - cy) / rh;
        if (disc && u * u + v * v > 1) continue;
        const shade = 0.75 + 0.25 * (u - v) * 0.5;
        const o = (y * w + x) * 3;
        for (let c = 0; c < 3; c++) px[o + c] = px[o + c]! * 0.15 + fill[c]! * shade * 0.85;
      }
    }
  }

  // Text-like lines: rows of dark bars on a light label (part numbers, signs).
  const labels = 2 + Math.floor(rng() * 4);
  for (let l = 0; l < labels; l++) {
    const glyph = Math.max(4, Math.round(h * (0.004 + rng() * 0.01)));
    const [lx, ly] = [Math.floor(rng() * w * 0.7), Math.floor(rng() * h * 0.8)];
    const lines = 2 + Math.floor(rng() * 6);
    const lineWidth = Math.floor(w * (0.1 + rng() * 0.25));
    for (let y = ly; y < Math.min(h, ly + lines * glyph * 2); y++) for (let x = lx; x < Math.min(w, lx + lineWidth); x++) px.fill(235, (y * w + x) * 3, (y * w + x) * 3 + 3);
    for (let line = 0; line < lines; line++) {
      let x = lx + glyph;
      const y0 = ly + line * glyph * 2 + Math.floor(glyph / 2);
      while (x < lx + lineWidth - glyph) {
        const bar = Math.max(1, Math.floor(glyph * (0.15 + rng() * 0.5)));
        if (rng() < 0.8) for (let y = y0; y < Math.min(h, y0 + glyph); y++) for (let xx = x; xx < Math.min(w, x + bar); xx++) px.fill(30, (y * w + xx) * 3, (y * w + xx) * 3 + 3);
        x += bar + Math.max(1, Math.floor(glyph * rng() * 0.6));
      }
    }
  }
  return Buffer.from(px.buffer, px.byteOffset, px.byteLength);
}

async function render(p: Plan, seed: number, i: number): Promise<Buffer> {
  const raw = draw(p, mulberry32(seed * 7919 + i * 31 + 1));
  let image = sharp(raw, { raw: { width: p.width, height: p.height, channels: 3 } });
  if (p.orientation !== 1) image = image.withMetadata({ orientation: p.orientation });
  return p.format === 'png' ? image.png({ compressionLevel: 6 }).toBuffer() : image.jpeg({ quality: 90 }).toBuffer();
}

export function defaultPhotoCache(seed: number): string {
  return join(tmpdir(), 'referent-bench-ingest', `photos-v${VERSION}-seed${seed}`);
}

/**
 * The first `count` photos of the seeded set, drawing (and caching) any not there yet. Files are
 * written under a temporary name and renamed, so an interrupted run never leaves a partial photo.
 */
export async function photoSet(count: number, seed: number, dir = defaultPhotoCache(seed), log: (line: string) => void = () => {}): Promise<Photo[]> {
  await mkdir(dir, { recursive: true });
  const present = new Set(await readdir(dir));
  const out: Photo[] = [];
  let drawn = 0;
  for (let i = 0; i < count; i++) {
    const p = plan(seed, i);
    const path = join(dir, p.name);
    if (!present.has(p.name)) {
      const bytes = await render(p, seed, i);
      await writeFile(`${path}.partial`, bytes);
      await rename(`${path}.partial`, path);
      drawn++;
      if (drawn % 10 === 0) log(`  drew ${drawn} photos…`);
    }
    out.push({ path, format: p.format, width: p.width, height: p.height, bytes: (await stat(path)).size });
  }
  if (drawn > 0) log(`  drew ${drawn} new photos into ${dir}`);
  return out;
}
