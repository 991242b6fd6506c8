import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import {
  decodeForModel,
  decodeUpright,
  encodePixels,
  probeImage,
  sniffRasterFormat,
  solidPng,
  thumbnailAndModelInput,
  thumbnailJpeg,
  type ModelInputSpec,
  type RawPixels,
} from '../../src/image/image-io.js';
import { mulberry32 } from '../../src/random.js';

/** Left half red, right half blue: any rotation moves the colours somewhere recognisable. */
function leftRedRightBlue(width: number, height: number): RawPixels {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(i % width < width / 2 ? [255, 0, 0] : [0, 0, 255], i * 3);
  return { data, width, height, channels: 3 };
}

function pixel(raw: { data: Buffer; width: number }, x: number, y: number): number[] {
  const at = (y * raw.width + x) * 3;
  return [...raw.data.subarray(at, at + 3)];
}

describe('decodeForModel', () => {
  it('resizes the shortest edge and centre-crops: 300×200 red becomes 224×224 RGB, all red', async () => {
    const png = await solidPng(300, 200, [255, 0, 0]);
    const out = await decodeForModel(png, { shortestEdge: 224, crop: { width: 224, height: 224 }, kernel: 'cubic' });
    expect([out.width, out.height, out.data.length]).toEqual([224, 224, 224 * 224 * 3]);
    for (let i = 0; i < out.data.length; i += 3) {
      if (out.data[i] !== 255 || out.data[i + 1] !== 0 || out.data[i + 2] !== 0) throw new Error(`pixel ${i / 3} is ${[...out.data.subarray(i, i + 3)]}`);
    }
  });

  it.each([
    // Orientation 6: displayed rotated 90° clockwise, so the left (red) edge ends on top.
    [6, 'top'],
    // Orientation 8: rotated 90° anticlockwise, so the left edge ends at the bottom.
    [8, 'bottom'],
  ] as const)('applies EXIF orientation %i (red ends at the %s)', async (orientation, redAt) => {
    const jpeg = await encodePixels(leftRedRightBlue(40, 20), 'jpeg', { orientation });
    expect(await probeImage(jpeg)).toEqual({ format: 'jpeg', width: 20, height: 40 });
    const out = await decodeForModel(jpeg, { kernel: 'nearest' });
    expect([out.width, out.height]).toEqual([20, 40]);
    const [top, bottom] = [pixel(out, 10, 5), pixel(out, 10, 34)];
    const [red, blue] = redAt === 'top' ? [top, bottom] : [bottom, top];
    expect(red[0]).toBeGreaterThan(200);
    expect(red[2]).toBeLessThan(60);
    expect(blue[2]).toBeGreaterThan(200);
    expect(blue[0]).toBeLessThan(60);
  });

  it('gives 3 channels for RGBA input', async () => {
    const rgba = new Uint8Array(16 * 16 * 4).fill(0);
    for (let i = 0; i < 16 * 16; i++) rgba.set([0, 255, 0, 128], i * 4);
    const png = await encodePixels({ data: rgba, width: 16, height: 16, channels: 4 }, 'png');
    const out = await decodeForModel(png, { resizeTo: { width: 8, height: 8 }, kernel: 'linear' });
    expect([out.width, out.height, out.data.length]).toEqual([8, 8, 8 * 8 * 3]);
    expect(pixel(out, 4, 4)).toEqual([0, 255, 0]);
  });

  it('rejects non-images with typed errors before decoding', async () => {
    await expect(decodeForModel(Buffer.alloc(0), { kernel: 'cubic' })).rejects.toMatchObject({ code: ErrorCode.ImageEmpty });
    await expect(decodeForModel(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), { kernel: 'cubic' })).rejects.toMatchObject({ code: ErrorCode.ImageUnsupported });
  });
});

describe('sniffRasterFormat', () => {
  it('names raster formats from their bytes, whatever the file is called', async () => {
    const pixels = leftRedRightBlue(8, 8);
    for (const format of ['png', 'jpeg', 'gif', 'webp', 'tiff'] as const) {
      expect(sniffRasterFormat(await encodePixels(pixels, format))).toBe(format);
    }
  });

  it('recognises nothing else', () => {
    for (const text of ['', 'GIF8', '<svg/>', '%PDF-1.7', '<!DOCTYPE html>', 'RIFF\0\0\0\0WAVE', '\0\0\0\x18ftypisom']) {
      expect(sniffRasterFormat(Buffer.from(text, 'latin1'))).toBeUndefined();
    }
  });
});

describe('probeImage', () => {
  it('reports the size an upright viewer sees and enforces both limits', async () => {
    const png = await solidPng(100, 50, [0, 0, 0]);
    expect(await probeImage(png)).toEqual({ format: 'png', width: 100, height: 50 });
    await expect(probeImage(png, { maxBytes: png.length - 1, maxPixels: 1e6 })).rejects.toMatchObject({ code: ErrorCode.ImageTooLarge });
    await expect(probeImage(png, { maxBytes: 1e6, maxPixels: 4999 })).rejects.toMatchObject({ code: ErrorCode.ImageTooManyPixels });
    expect(await probeImage(png, { maxBytes: png.length, maxPixels: 5000 })).toMatchObject({ width: 100 });
  });
});

/** A photo-sized picture with detail at every scale (smooth gradients and seeded grain), RGB. */
function photoLike(width: number, height: number, seed: number): RawPixels {
  const rng = mulberry32(seed);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 3;
      const grain = rng() * 40;
      data[at] = (255 * x) / width * 0.8 + grain;
      data[at + 1] = (255 * y) / height * 0.8 + grain;
      data[at + 2] = ((x ^ y) & 64 ? 180 : 40) + grain;
    }
  }
  return { data, width, height, channels: 3 };
}

describe('thumbnailAndModelInput (ingest: one decode for the thumbnail and the model)', () => {
  const clip: ModelInputSpec = { shortestEdge: 224, crop: { width: 224, height: 224 }, kernel: 'cubic' };

  it.each([
    ['a 3000×2000 photo', photoLike(3000, 2000, 1), {}, clip],
    ['a phone portrait stored sideways (EXIF orientation 6)', photoLike(2400, 1800, 2), { orientation: 6 }, clip],
    ['a panorama, where the model needs more than the thumbnail', photoLike(4000, 800, 3), {}, clip],
    ['a photo with a Display P3 profile', photoLike(1600, 1200, 4), { icc: 'p3' }, clip],
    ['a photo smaller than the thumbnail', photoLike(300, 200, 5), {}, clip],
    ['an exact-size model input (the face detector)', photoLike(2000, 1500, 6), {}, { resizeTo: { width: 416, height: 416 }, kernel: 'lanczos3' } as ModelInputSpec],
  ] as const)('%s: the model input is exactly decodeForModel’s, the thumbnail is thumbnailJpeg’s size', async (_, pixels, options, spec) => {
    const jpeg = await encodePixels(pixels, 'jpeg', options);
    const both = await thumbnailAndModelInput(jpeg, 512, spec);
    const alone = await decodeForModel(jpeg, spec);
    expect([both.modelInput.width, both.modelInput.height]).toEqual([alone.width, alone.height]);
    expect(both.modelInput.data.equals(alone.data)).toBe(true);
    const thumbnail = await thumbnailJpeg(jpeg, 512);
    expect(await probeImage(both.thumbnail)).toEqual(await probeImage(thumbnail));
    // The same picture, colour managed the same way: the two thumbnails differ by JPEG noise only.
    const [a, b] = [await decodeUpright(both.thumbnail), await decodeUpright(thumbnail)];
    let sum = 0;
    for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i]! - b.data[i]!);
    expect(sum / a.data.length).toBeLessThan(4);
  });

  it('keeps the upright orientation in the thumbnail (red on top after orientation 6)', async () => {
    const jpeg = await encodePixels(leftRedRightBlue(1200, 600), 'jpeg', { orientation: 6 });
    const thumb = await decodeUpright((await thumbnailAndModelInput(jpeg, 512, clip)).thumbnail);
    expect([thumb.width, thumb.height]).toEqual([256, 512]);
    expect(pixel(thumb, 128, 20)[0]).toBeGreaterThan(200);
    expect(pixel(thumb, 128, 490)[2]).toBeGreaterThan(200);
  });

  it('fails a truncated JPEG with IMAGE_CORRUPT, as decodeForModel does', async () => {
    const jpeg = await encodePixels(photoLike(800, 600, 7), 'jpeg');
    const cut = jpeg.subarray(0, Math.floor(jpeg.length * 0.6));
    await expect(decodeForModel(cut, clip)).rejects.toMatchObject({ code: ErrorCode.ImageCorrupt });
    await expect(thumbnailAndModelInput(cut, 512, clip)).rejects.toMatchObject({ code: ErrorCode.ImageCorrupt });
  });

  it('makes a PNG’s two apart (its transparency is flattened on white for the thumbnail, dropped for the model)', async () => {
    const png = await encodePixels(photoLike(900, 600, 8), 'png');
    const both = await thumbnailAndModelInput(png, 512, clip);
    expect(both.modelInput.data.equals((await decodeForModel(png, clip)).data)).toBe(true);
    expect(both.thumbnail.equals(await thumbnailJpeg(png, 512))).toBe(true);
  });
});
