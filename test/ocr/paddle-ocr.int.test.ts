/**
 * The real engine on synthetic labels (scripts/make-label-gallery.ts, seed 1). The first 8 labels
 * of seed 1 (one of them a small sticker inside a photo) are all read exactly with this machine's
 * fonts, and bench/ocr-bench.ts reads all 86 identifiers of seed 1's 60 labels, so recall is
 * asserted at 100%. About 10 s on 2 cores: one engine for the whole file.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { threadId, type Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLabelGallery, type GalleryLabel } from '../../scripts/make-label-gallery.js';
import { ErrorCode } from '../../src/errors.js';
import { decodeForModel, encodePixels, solidPng } from '../../src/image/image-io.js';
import { containsIdentifier, normalizeIdentifier } from '../../src/ocr/identifiers.js';
import type { OcrLine } from '../../src/ocr/ocr.js';
import { PaddleOcr } from '../../src/ocr/paddle-ocr.js';
import { mulberry32 } from '../../src/random.js';
import { craftPng } from '../media/hostile-corpus.js';

let dir: string;
let labels: GalleryLabel[];
let ocr: PaddleOcr;
const bytesOf = (label: GalleryLabel): Promise<Buffer> => fs.readFile(path.join(dir, label.file));
const textOf = (lines: OcrLine[]): string => lines.map((l) => l.text).join('\n');

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'referent-ocr-'));
  [{ labels }, ocr] = await Promise.all([makeLabelGallery(dir, { count: 8, seed: 1 }), PaddleOcr.create()]);
});

afterAll(async () => {
  await ocr?.close();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe('PaddleOcr', () => {
  it('finds every printed identifier on 8 labels, one of them small inside a photo', async () => {
    const missed: string[] = [];
    for (const label of labels) {
      const lines = await ocr.read(await bytesOf(label));
      for (const line of lines) {
        expect(line.confidence).toBeGreaterThanOrEqual(0.6);
        expect(line.text).toBe(line.text.trim());
        expect(line.box).toHaveLength(4);
      }
      for (const id of label.identifiers) if (!containsIdentifier(normalizeIdentifier(id), textOf(lines))) missed.push(`${id} in ${JSON.stringify(textOf(lines))}`);
    }
    expect(missed).toEqual([]);
    expect(ocr.modelId).toBe('paddleocr-ppocrv4@gutenye-1.4.8');
  });

  it('maps boxes back to original pixels, through the downscale and the detector padding', async () => {
    // The same label alone (about 500 px wide) and pasted at (1700, 500) into a 2900×1130 page,
    // which is prepared at 1600×623 (×0.55) and padded to 1600×640 by the detector.
    const label = await decodeForModel(await bytesOf(labels[0]!), { kernel: 'nearest' });
    const [pageW, pageH, left, top] = [2900, 1130, 1700, 500];
    const page = new Uint8Array(pageW * pageH * 3).fill(255);
    for (let y = 0; y < label.height; y++) page.set(label.data.subarray(y * label.width * 3, (y + 1) * label.width * 3), ((top + y) * pageW + left) * 3);
    const alone = await ocr.read(await encodePixels({ ...label, channels: 3 }, 'png'));
    const pasted = await ocr.read(await encodePixels({ data: page, width: pageW, height: pageH, channels: 3 }, 'png'));
    // At ×0.55 OCR may drop a space ('SN49L5-142'): compare what was read, not how it was spaced.
    expect(pasted.map((l) => normalizeIdentifier(l.text))).toEqual(alone.map((l) => normalizeIdentifier(l.text)));
    // Centres agree closely; corners less so, as the detector grows each box by its own pixel size.
    // Getting the padding wrong would move everything by 8.5 / 0.55 ≈ 15 px vertically.
    const centre = (box: Array<[number, number]>) => [0, 1].map((c) => box.reduce((sum, p) => sum + p[c]!, 0) / box.length) as [number, number];
    alone.forEach((line, i) => {
      const [ax, ay] = centre(line.box);
      const [px, py] = centre(pasted[i]!.box);
      expect(Math.abs(px - (ax + left))).toBeLessThan(4);
      expect(Math.abs(py - (ay + top))).toBeLessThan(4);
      line.box.forEach(([x, y], k) => {
        const [cx, cy] = pasted[i]!.box[k]!;
        expect(Math.abs(cx - (x + left))).toBeLessThan(10);
        expect(Math.abs(cy - (y + top))).toBeLessThan(10);
      });
    });
  });

  it('reads black text on a transparent background and a photo stored sideways with an EXIF rotation', async () => {
    // Both read as [] without prepareForOcr: hidden pixels under alpha are black, and the engine ignores EXIF.
    const label = await decodeForModel(await bytesOf(labels[0]!), { kernel: 'nearest' });
    const { width: w, height: h, data } = label;
    const ink = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) ink[i * 4 + 3] = 255 - Math.min(data[i * 3]!, data[i * 3 + 1]!, data[i * 3 + 2]!);
    // Orientation 6 means "turn 90° clockwise to display", so store the pixels turned anticlockwise.
    const sideways = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) sideways.set(data.subarray((y * w + x) * 3, (y * w + x) * 3 + 3), ((w - 1 - x) * h + y) * 3);
    const transparent = await ocr.read(await encodePixels({ data: ink, width: w, height: h, channels: 4 }, 'png'));
    const rotated = await ocr.read(await encodePixels({ data: sideways, width: h, height: w, channels: 3 }, 'jpeg', { orientation: 6 }));
    for (const lines of [transparent, rotated]) {
      for (const id of labels[0]!.identifiers) expect(containsIdentifier(normalizeIdentifier(id), textOf(lines))).toBe(true);
    }
  });

  it('reads nothing that looks like a label identifier on images without text', async () => {
    const rng = mulberry32(7);
    const noise = Uint8Array.from({ length: 320 * 240 * 3 }, () => Math.floor(rng() * 256));
    expect(await ocr.read(await solidPng(640, 480, [122, 156, 198]))).toEqual([]);
    const fromNoise = textOf(await ocr.read(await encodePixels({ data: noise, width: 320, height: 240, channels: 3 }, 'png')));
    const ids = labels.flatMap((l) => l.identifiers).map(normalizeIdentifier);
    expect(ids.filter((id) => containsIdentifier(id, fromNoise))).toEqual([]);
  });

  it('rejects hostile images with their IMAGE_* code and keeps reading', async () => {
    const good = await bytesOf(labels[0]!);
    await expect(ocr.read(new Uint8Array(0))).rejects.toMatchObject({ code: ErrorCode.ImageEmpty });
    await expect(ocr.read(good.subarray(0, Math.floor(good.length / 2)))).rejects.toMatchObject({ code: ErrorCode.ImageCorrupt });
    await expect(ocr.read(craftPng(100_000, 100_000))).rejects.toMatchObject({ code: ErrorCode.ImageTooManyPixels });
    await expect(ocr.read(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).rejects.toMatchObject({ code: ErrorCode.ImageUnsupported });
    expect(textOf(await ocr.read(good))).toContain(labels[0]!.text[0]);
  });

  it('reads in a worker thread, and answers concurrent reads in call order', async () => {
    // The engine blocks its thread for the whole read: it must not be this one.
    const worker = await (ocr as unknown as { worker: Promise<Worker> }).worker;
    expect(worker.threadId).not.toBe(threadId);
    const lines = await Promise.all(labels.slice(0, 3).map(async (l) => ocr.read(await bytesOf(l))));
    lines.forEach((l, i) => expect(textOf(l)).toContain(labels[i]!.identifiers[0]!.split(' ')[0]));
  });

  it('restarts a worker that died, and rejects reads after close', async () => {
    // Reaches into the class only to kill its worker, as a crash would.
    const worker = await (ocr as unknown as { worker: Promise<Worker> }).worker;
    await worker.terminate();
    expect(textOf(await ocr.read(await bytesOf(labels[1]!)))).toContain(labels[1]!.text[0]);
    await ocr.close();
    await expect(ocr.read(await bytesOf(labels[0]!))).rejects.toMatchObject({ code: ErrorCode.UsageInvalid });
  });
});
