/**
 * A corpus of hostile and borderline uploads, built in memory at test time so no binaries are
 * committed. Each case names the outcome the media pipeline must give under `hostileLimits`:
 * stored ('accepted') or one typed IMAGE_* error. Content decides, never the file name.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { ErrorCode } from '../../src/errors.js';
import { encodePixels, solidPng, type ImageLimits, type RawPixels } from '../../src/image/image-io.js';

export type HostileOutcome = 'accepted' | ErrorCode;

export interface HostileCase {
  /** Stable id; also the stem of the file name when the corpus is written to disk. */
  name: string;
  /** The name it would be uploaded under. Never consulted by the pipeline. */
  fileName: string;
  bytes: Buffer;
  expected: HostileOutcome;
  /** Why the case exists. */
  why: string;
  /** Text that must not survive into anything stored (payloads riding on a valid image). */
  forbiddenInOutput?: string;
}

/** Limits the expectations are written for: small, so "over the limit" cases stay cheap to build. */
export const hostileLimits: ImageLimits = { maxBytes: 1024 * 1024, maxPixels: 4_000_000 };

/** Marker carried by polyglot payloads; it must never appear in stored media. */
export const polyglotMarker = 'referent-polyglot-payload';

const pngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** zlib.crc32 arrived in Node 20.15; the engines range starts at 20.12, so keep a fallback. */
function crc32(data: Buffer): number {
  const native = (zlib as { crc32?: (d: Buffer) => number }).crc32;
  if (typeof native === 'function') return native(data);
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A structurally valid PNG (correct CRCs) whose header claims any size: the classic pixel bomb. */
export function craftPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, deflate, no filter, no interlace
  const idat = zlib.deflateSync(Buffer.alloc(64)); // far too little data for the claimed size
  return Buffer.concat([pngSignature, pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND', Buffer.alloc(0))]);
}

/** Deterministic noise (xorshift) so incompressible images are reproducible. */
function noise(width: number, height: number, channels: 3 | 4, seed = 0x2545f491): RawPixels {
  const data = new Uint8Array(width * height * channels);
  let x = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data[i] = x & 0xff;
  }
  return { data, width, height, channels };
}

/** Offset of the first chunk of `type` in a PNG (its length field). */
function findChunk(png: Buffer, type: string): number {
  for (let at = 8; at + 8 <= png.length; at += 12 + png.readUInt32BE(at)) {
    if (png.toString('latin1', at + 4, at + 8) === type) return at;
  }
  throw new Error(`no ${type} chunk`);
}

function corruptIdatCrc(png: Buffer): Buffer {
  const out = Buffer.from(png);
  const at = findChunk(out, 'IDAT');
  const crcAt = at + 8 + out.readUInt32BE(at);
  out[crcAt] = (out[crcAt] ?? 0) ^ 0xff;
  return out;
}

/** Rewrites the frame size in a JPEG's first SOF marker (a pixel bomb in a real JPEG). */
function patchJpegSize(jpeg: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(jpeg);
  for (let at = 2; at + 9 < out.length; at += 2 + out.readUInt16BE(at + 2)) {
    const marker = out[at + 1] ?? 0;
    if (out[at] === 0xff && marker >= 0xc0 && marker <= 0xc2) {
      out.writeUInt16BE(height, at + 5);
      out.writeUInt16BE(width, at + 7);
      return out;
    }
  }
  throw new Error('no SOF marker');
}

/** A minimal stored ZIP local file header + data: enough for unzip tools to see an archive. */
function zipPayload(): Buffer {
  const name = Buffer.from(`${polyglotMarker}.txt`);
  const content = Buffer.from(`${polyglotMarker}: hello from inside the zip\n`);
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt32LE(crc32(content), 14);
  header.writeUInt32LE(content.length, 18);
  header.writeUInt32LE(content.length, 22);
  header.writeUInt16LE(name.length, 26);
  return Buffer.concat([header, name, content]);
}

const text = (s: string): Buffer => Buffer.from(s, 'utf8');

function svgCases(canaryUrl: string): HostileCase[] {
  const external = `<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><image href="${canaryUrl}" width="64" height="64"/></svg>`;
  const file = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="64" height="64"><image xlink:href="file:///etc/passwd" width="64" height="64"/></svg>`;
  const why = 'SVG can reference outside resources; it must never be parsed, whatever its name.';
  return [
    { name: 'svg-external-http', fileName: 'diagram.svg', bytes: text(external), expected: ErrorCode.ImageUnsupported, why },
    { name: 'svg-xlink-file', fileName: 'photo.png', bytes: text(file), expected: ErrorCode.ImageUnsupported, why },
    { name: 'svg-bom-doctype', fileName: 'icon.jpg', bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text(`<!DOCTYPE svg>\n${file}`)]), expected: ErrorCode.ImageUnsupported, why },
  ];
}

function truncations(name: string, ext: string, bytes: Buffer, cuts: Array<[number, HostileOutcome]>): HostileCase[] {
  return cuts.map(([at, expected]) => ({
    name: `${name}-cut-${at}`,
    fileName: `${name}.${ext}`,
    bytes: bytes.subarray(0, at),
    expected,
    why: `${name} cut at byte ${at} of ${bytes.length}: an interrupted upload.`,
  }));
}

interface ValidImages {
  png: Buffer;
  jpeg: Buffer;
  gif: Buffer;
  webp: Buffer;
  tiff: Buffer;
}

async function validImages(): Promise<ValidImages> {
  const pixels = noise(64, 48, 3);
  const [png, jpeg, gif, webp, tiff] = await Promise.all((['png', 'jpeg', 'gif', 'webp', 'tiff'] as const).map((f) => encodePixels(pixels, f)));
  return { png: png!, jpeg: jpeg!, gif: gif!, webp: webp!, tiff: tiff! };
}

/** Interrupted uploads. A cut inside the signature is just unrecognisable bytes; later cuts are damage. */
function truncationCases({ png, jpeg, webp, tiff }: ValidImages): HostileCase[] {
  const half = (b: Buffer): number => Math.floor(b.length / 2);
  const corrupt = ErrorCode.ImageCorrupt;
  return [
    ...truncations('png', 'png', png, [[4, ErrorCode.ImageUnsupported], [16, corrupt], [33, corrupt], [half(png), corrupt], [png.length - 20, corrupt]]),
    // Only the IEND chunk lost: every pixel is present and libpng decodes it, so it is kept.
    ...truncations('png', 'png', png, [[png.length - 12, 'accepted']]),
    ...truncations('jpeg', 'jpg', jpeg, [[2, ErrorCode.ImageUnsupported], [20, corrupt], [half(jpeg), corrupt], [jpeg.length - 2, corrupt]]),
    ...truncations('webp', 'webp', webp, [[30, corrupt], [half(webp), corrupt]]),
    ...truncations('tiff', 'tif', tiff, [[30, corrupt], [half(tiff), corrupt]]),
  ];
}

function notImageCases(): HostileCase[] {
  const html = '<!DOCTYPE html><html><body><img src=x onerror="alert(1)"><script>alert(document.cookie)</script></body></html>';
  return [
    { name: 'empty', fileName: 'empty.jpg', bytes: Buffer.alloc(0), expected: ErrorCode.ImageEmpty, why: 'Zero bytes.' },
    { name: 'text-named-jpg', fileName: 'notes.jpg', bytes: text('Hex bolt M8, zinc. Not a photo.\n'), expected: ErrorCode.ImageUnsupported, why: 'Plain text with an image name.' },
    { name: 'html', fileName: 'page.png', bytes: text(html), expected: ErrorCode.ImageUnsupported, why: 'HTML that would run if served as a page.' },
    { name: 'pdf', fileName: 'drawing.jpg', bytes: text('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n'), expected: ErrorCode.ImageUnsupported, why: 'A PDF header.' },
    { name: 'ppm', fileName: 'raw.ppm', bytes: Buffer.concat([text('P6\n2 2\n255\n'), Buffer.alloc(12, 200)]), expected: ErrorCode.ImageUnsupported, why: 'A format libvips knows but we do not accept.' },
    { name: 'mp4-ftyp', fileName: 'clip.heic', bytes: Buffer.concat([Buffer.from([0, 0, 0, 0x18]), text('ftypisom'), Buffer.alloc(16)]), expected: ErrorCode.ImageUnsupported, why: 'A video container that looks like HEIF.' },
  ];
}

async function bombCases(jpeg: Buffer): Promise<HostileCase[]> {
  const maxPixels = hostileLimits.maxPixels;
  return [
    { name: 'png-ihdr-100000x100000', fileName: 'bomb.png', bytes: craftPng(100_000, 100_000), expected: ErrorCode.ImageTooManyPixels, why: 'Header claims 10 gigapixels; must fail before allocating.' },
    { name: 'png-ihdr-zero-width', fileName: 'zero.png', bytes: craftPng(0, 10), expected: ErrorCode.ImageCorrupt, why: 'A header with no width.' },
    { name: 'jpeg-sof-65000x65000', fileName: 'bomb.jpg', bytes: patchJpegSize(jpeg, 65_000, 65_000), expected: ErrorCode.ImageTooManyPixels, why: 'A real JPEG whose frame header claims 4 gigapixels.' },
    { name: 'png-just-over-pixel-limit', fileName: 'big.png', bytes: await solidPng(2001, Math.floor(maxPixels / 2000), [90, 90, 90]), expected: ErrorCode.ImageTooManyPixels, why: `A real image just over ${maxPixels} pixels.` },
    { name: 'png-over-byte-limit', fileName: 'noise.png', bytes: await encodePixels(noise(700, 700, 3), 'png'), expected: ErrorCode.ImageTooLarge, why: `A valid image over ${hostileLimits.maxBytes} bytes.` },
  ];
}

function polyglotCases(png: Buffer, jpeg: Buffer): HostileCase[] {
  const script = `<html><script>alert("${polyglotMarker}")</script></html>`;
  return [
    { name: 'polyglot-png-zip', fileName: 'part.png', bytes: Buffer.concat([png, zipPayload()]), expected: 'accepted', forbiddenInOutput: polyglotMarker, why: 'A valid PNG that is also a ZIP: accepted, but re-encoding must drop the archive.' },
    { name: 'polyglot-png-html', fileName: 'part.png', bytes: Buffer.concat([png, text(script)]), expected: 'accepted', forbiddenInOutput: polyglotMarker, why: 'A valid PNG with HTML after IEND: accepted, payload dropped.' },
    { name: 'polyglot-jpeg-html', fileName: 'part.jpg', bytes: Buffer.concat([jpeg, text(script)]), expected: 'accepted', forbiddenInOutput: polyglotMarker, why: 'A valid JPEG with HTML after EOI: accepted, payload dropped.' },
    { name: 'gif-header-script', fileName: 'x.gif', bytes: text(`GIF89a/*\u0001\u0001*/=1;alert("${polyglotMarker}");//`), expected: ErrorCode.ImageCorrupt, why: 'GIFAR-style: a GIF signature in front of JavaScript.' },
  ];
}

/**
 * Builds every case. `canaryUrl` goes into the SVG's external reference, so a test can listen
 * there and prove nothing was fetched.
 */
export async function buildHostileCorpus(options: { canaryUrl?: string } = {}): Promise<HostileCase[]> {
  const images = await validImages();
  const { png, jpeg, gif } = images;
  return [
    ...notImageCases(),
    ...svgCases(options.canaryUrl ?? 'http://127.0.0.1:1/x.png'),
    ...truncationCases(images),
    ...(await bombCases(jpeg)),
    ...polyglotCases(png, jpeg),
    { name: 'png-bad-idat-crc', fileName: 'crc.png', bytes: corruptIdatCrc(png), expected: ErrorCode.ImageCorrupt, why: 'Pixel data whose checksum does not match.' },
    { name: 'jpeg-named-png', fileName: 'scan.png', bytes: jpeg, expected: 'accepted', why: 'A real JPEG with the wrong extension: content decides.' },
    { name: 'gif-named-jpg', fileName: 'anim.jpg', bytes: gif, expected: 'accepted', why: 'A real GIF with the wrong extension.' },
    { name: 'png-control', fileName: 'ok.png', bytes: png, expected: 'accepted', why: 'Control: a plain valid PNG.' },
  ];
}

/** Writes the corpus into `dir` (e.g. test/fixtures/hostile) as `<name>--<fileName>` for manual or CLI runs. */
export async function writeHostileCorpus(dir: string, options: { canaryUrl?: string } = {}): Promise<HostileCase[]> {
  const cases = await buildHostileCorpus(options);
  await mkdir(dir, { recursive: true });
  await Promise.all(cases.map((c) => writeFile(join(dir, `${c.name}--${c.fileName}`), c.bytes)));
  return cases;
}
