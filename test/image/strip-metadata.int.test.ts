/**
 * Originals kept as posted: only picture data survives (no EXIF, GPS, XMP, comments, text chunks or
 * trailing payloads), the pixels decode exactly as the posted file's, the orientation still turns
 * the picture upright, and anything the parser does not follow is re-encoded instead.
 */
import { describe, expect, it } from 'vitest';
import { decodeUpright, encodePixels, probeImage, storableOriginal, type RawPixels } from '../../src/image/image-io.js';
import { orientationExif, stripJpeg, stripPng } from '../../src/image/strip-metadata.js';

/** A picture with detail in both directions, so a wrong rotation or a lost scan shows in the pixels. */
function pattern(width: number, height: number): RawPixels {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([(x * 7) % 256, (y * 5) % 256, x < width / 3 ? 230 : 20], (y * width + x) * 3);
  }
  return { data, width, height, channels: 3 };
}

const SECRET = 'referent-secret-metadata';
const has = (bytes: Uint8Array, text: string) => Buffer.from(bytes).includes(Buffer.from(text));
const count = (bytes: Uint8Array, marker: number) => {
  let n = 0;
  for (let i = 0; i + 1 < bytes.length; i++) if (bytes[i] === 0xff && bytes[i + 1] === marker) n++;
  return n;
};

/** The markers of a JPEG's segments up to its first scan (what carries metadata). */
function headerMarkers(jpeg: Uint8Array): number[] {
  const markers: number[] = [];
  for (let at = 2; at + 4 <= jpeg.length; ) {
    const marker = jpeg[at + 1]!;
    markers.push(marker);
    if (marker === 0xda) break;
    at += 2 + ((jpeg[at + 2]! << 8) | jpeg[at + 3]!);
  }
  return markers;
}

/** A JPEG COM segment holding `text`, inserted right after SOI. */
function withComment(jpeg: Uint8Array, text: string): Buffer {
  const body = Buffer.from(text);
  const segment = Buffer.concat([Buffer.from([0xff, 0xfe, (body.length + 2) >> 8, (body.length + 2) & 0xff]), body]);
  return Buffer.concat([jpeg.subarray(0, 2), segment, jpeg.subarray(2)]);
}

async function samePixels(a: Uint8Array, b: Uint8Array): Promise<boolean> {
  const [x, y] = await Promise.all([decodeUpright(a), decodeUpright(b)]);
  return x.width === y.width && x.height === y.height && x.data.equals(y.data);
}

const metadata = {
  exif: { IFD0: { Artist: SECRET, Copyright: SECRET }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1', GPSProcessingMethod: SECRET } },
  xmp: `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description>${SECRET}</rdf:Description></rdf:RDF></x:xmpmeta>`,
};

describe('stripJpeg', () => {
  it('drops EXIF, GPS, XMP, comments and trailing bytes, keeps the ICC profile and the exact pixels', async () => {
    const camera = await encodePixels(pattern(96, 64), 'jpeg', { ...metadata, icc: 'p3' });
    const posted = Buffer.concat([withComment(camera, SECRET), Buffer.from(`<html>${SECRET}</html>`)]);
    expect(has(posted, SECRET)).toBe(true);
    expect(has(posted, 'GPS') || has(posted, 'Exif')).toBe(true);

    const kept = stripJpeg(posted)!;
    expect(kept).toBeDefined();
    expect(has(kept, SECRET)).toBe(false);
    expect(has(kept, 'Exif')).toBe(false);
    expect(has(kept, 'http://ns.adobe.com/xap')).toBe(false);
    expect(headerMarkers(posted)).toEqual(expect.arrayContaining([0xfe, 0xe1]));
    expect(headerMarkers(kept).filter((m) => m === 0xfe || m === 0xe1 || (m >= 0xe3 && m <= 0xed))).toEqual([]);
    expect(has(kept, 'ICC_PROFILE')).toBe(true);
    expect([kept[kept.length - 2], kept[kept.length - 1]]).toEqual([0xff, 0xd9]);
    expect(await samePixels(kept, posted)).toBe(true);
  });

  it.each([2, 3, 5, 6, 8])('keeps orientation %i in a minimal EXIF block, so the picture still turns upright', async (orientation) => {
    const posted = await encodePixels(pattern(80, 48), 'jpeg', { exif: metadata.exif, orientation });
    const kept = stripJpeg(posted, orientation)!;
    expect(has(kept, SECRET)).toBe(false);
    expect(Buffer.from(kept).includes(Buffer.from(orientationExif(orientation)))).toBe(true);
    expect(await samePixels(kept, posted)).toBe(true);
    const upright = await probeImage(kept);
    expect([upright.width, upright.height]).toEqual(orientation >= 5 ? [48, 80] : [80, 48]);
  });

  it('copies every scan of a progressive JPEG', async () => {
    const posted = withComment(await encodePixels(pattern(120, 90), 'jpeg', { progressive: true }), SECRET);
    const kept = stripJpeg(posted)!;
    expect(count(posted, 0xda)).toBeGreaterThan(1);
    expect(count(kept, 0xda)).toBe(count(posted, 0xda));
    expect(has(kept, SECRET)).toBe(false);
    expect(await samePixels(kept, posted)).toBe(true);
  });

  it('gives up (undefined) on what it does not follow', async () => {
    const jpeg = await encodePixels(pattern(40, 30), 'jpeg');
    expect(stripJpeg(Buffer.from('not a jpeg at all'))).toBeUndefined();
    expect(stripJpeg(jpeg.subarray(0, 30))).toBeUndefined(); // cut inside the headers
    expect(stripJpeg(jpeg.subarray(0, jpeg.length - 2))).toBeUndefined(); // no EOI
    const badLength = Buffer.from(jpeg);
    badLength[4] = 0xff; // the first segment claims to run past the end of the file
    expect(stripJpeg(badLength)).toBeUndefined();
  });
});

describe('stripPng', () => {
  it('keeps only picture chunks, ends at IEND, and decodes to the same pixels', async () => {
    const posted = Buffer.concat([await encodePixels(pattern(64, 40), 'png', metadata), Buffer.from(`PK\u0003\u0004${SECRET}`)]);
    expect(has(posted, SECRET)).toBe(true);
    const kept = stripPng(posted)!;
    expect(has(kept, SECRET)).toBe(false);
    expect(has(kept, 'eXIf') || has(kept, 'iTXt') || has(kept, 'tEXt') || has(kept, 'zTXt')).toBe(false);
    expect(Buffer.from(kept.subarray(kept.length - 8, kept.length - 4)).toString('latin1')).toBe('IEND');
    expect(await samePixels(kept, posted)).toBe(true);
  });

  it('gives up (undefined) on a broken chunk structure', async () => {
    const png = await encodePixels(pattern(20, 20), 'png');
    expect(stripPng(png.subarray(0, 40))).toBeUndefined();
    const badLength = Buffer.from(png);
    badLength.writeUInt32BE(0x7fffffff, 8);
    expect(stripPng(badLength)).toBeUndefined();
  });
});

describe('storableOriginal', () => {
  it('keeps a JPEG or PNG as posted (metadata dropped) when no bound is set', async () => {
    for (const format of ['jpeg', 'png'] as const) {
      const posted = await encodePixels(pattern(300, 200), format, metadata);
      const stored = await storableOriginal(posted, undefined);
      expect(stored).toMatchObject({ format, width: 300, height: 200, asPosted: true });
      expect(has(stored.data, SECRET)).toBe(false);
      expect(await samePixels(stored.data, posted)).toBe(true);
    }
  });

  it('re-encodes what is larger than the bound, CMYK JPEGs and other formats; none of them keeps metadata', async () => {
    const big = await storableOriginal(await encodePixels(pattern(300, 200), 'jpeg', metadata), 150);
    expect(big).toMatchObject({ format: 'jpeg', width: 150, height: 100, asPosted: false });
    const within = await storableOriginal(await encodePixels(pattern(300, 200), 'jpeg', metadata), 300);
    expect(within).toMatchObject({ width: 300, height: 200, asPosted: true });
    const cmyk = await storableOriginal(await encodePixels(pattern(60, 40), 'jpeg', { cmyk: true }), undefined);
    expect(cmyk).toMatchObject({ format: 'jpeg', asPosted: false });
    expect((await decodeUpright(cmyk.data)).width).toBe(60);
    const webp = await storableOriginal(await encodePixels(pattern(60, 40), 'webp', metadata), undefined);
    expect(webp).toMatchObject({ format: 'jpeg', width: 60, height: 40, asPosted: false });
    for (const stored of [big, within, cmyk, webp]) expect(has(stored.data, SECRET)).toBe(false);
  });
});
