/**
 * Keeps a posted JPEG or PNG as it came, minus everything that is not picture: EXIF (GPS, camera
 * serials, embedded previews), XMP, IPTC, comments, text chunks and whatever trails the image (a ZIP
 * or script appended to make a polyglot). The compressed picture data is copied byte for byte, so no
 * decode, no re-encode and no loss. What a viewer needs to show the picture right stays: JFIF, the
 * ICC profile, Adobe's colour-transform flag, PNG's colour chunks and transparency, and the EXIF
 * orientation, rewritten as a minimal EXIF block that holds nothing else.
 *
 * Pure byte parsing: any structure it does not recognise returns undefined, and the caller re-encodes
 * the picture instead (image-io.ts storableOriginal). It never decides that an image is valid; the
 * decode that follows (the thumbnail) does.
 */

const JPEG_SOI = 0xd8;
const JPEG_EOI = 0xd9;
const JPEG_SOS = 0xda;

const startsWith = (bytes: Uint8Array, at: number, text: string): boolean => {
  if (at + text.length > bytes.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[at + i] !== text.charCodeAt(i)) return false;
  return true;
};

/** An APP1 segment with an EXIF block that records one thing: the orientation (2–8). */
export function orientationExif(orientation: number): Uint8Array {
  const body = [
    ...[0x45, 0x78, 0x69, 0x66, 0, 0], // "Exif\0\0"
    ...[0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8], // big-endian TIFF header, IFD0 at offset 8
    ...[0, 1], // one entry
    ...[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0], // Orientation, SHORT, count 1, value
    ...[0, 0, 0, 0], // no next IFD
  ];
  const length = body.length + 2;
  return Uint8Array.from([0xff, 0xe1, length >> 8, length & 0xff, ...body]);
}

/** Which marker segments of a JPEG are kept (the rest of the APPn and COM are dropped). */
function keepJpegSegment(marker: number, bytes: Uint8Array, dataAt: number): boolean {
  if (marker === 0xe0) return startsWith(bytes, dataAt, 'JFIF\0');
  if (marker === 0xe2) return startsWith(bytes, dataAt, 'ICC_PROFILE\0');
  if (marker === 0xee) return startsWith(bytes, dataAt, 'Adobe');
  if ((marker >= 0xe1 && marker <= 0xef) || marker === 0xfe) return false;
  return true;
}

/** End of the entropy-coded data that starts at `at`: the offset of the next real marker. */
function endOfScan(bytes: Uint8Array, at: number): number | undefined {
  for (let i = at; i + 1 < bytes.length; i++) {
    if (bytes[i] !== 0xff) continue;
    const next = bytes[i + 1]!;
    // Stuffed 0xFF00, restart markers and fill bytes belong to the scan.
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7) || next === 0xff) continue;
    return i;
  }
  return undefined;
}

/**
 * The JPEG with its metadata segments and trailing bytes dropped, and `orientation` (when it is not
 * 1) recorded in a minimal EXIF block; undefined when the file is not a JPEG this parser follows.
 */
export function stripJpeg(bytes: Uint8Array, orientation = 1): Uint8Array | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== JPEG_SOI) return undefined;
  const parts: Uint8Array[] = [bytes.subarray(0, 2)];
  let exifPlaced = orientation === 1;
  const placeExif = () => {
    if (!exifPlaced) parts.push(orientationExif(orientation));
    exifPlaced = true;
  };
  let at = 2;
  let sawScan = false;
  for (;;) {
    if (at + 1 >= bytes.length || bytes[at] !== 0xff) return undefined;
    while (at + 1 < bytes.length && bytes[at + 1] === 0xff) at++; // fill bytes before a marker
    const marker = bytes[at + 1]!;
    if (marker === JPEG_EOI) {
      if (!sawScan) return undefined;
      parts.push(bytes.subarray(at, at + 2));
      break;
    }
    if (marker === JPEG_SOI || marker === 0x00 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) return undefined;
    if (at + 4 > bytes.length) return undefined;
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    const end = at + 2 + length;
    if (length < 2 || end > bytes.length) return undefined;
    // JFIF must come first; the orientation block goes right after it, before anything else.
    if (!(marker === 0xe0 && parts.length === 1)) placeExif();
    if (keepJpegSegment(marker, bytes, at + 4)) parts.push(bytes.subarray(at, end));
    at = end;
    if (marker === JPEG_SOS) {
      sawScan = true;
      const scanEnd = endOfScan(bytes, at);
      if (scanEnd === undefined) return undefined;
      parts.push(bytes.subarray(at, scanEnd));
      at = scanEnd;
    }
  }
  return concat(parts);
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Critical chunks and the ancillary ones that change how the picture looks; everything else goes. */
const PNG_KEPT = new Set(['IHDR', 'PLTE', 'IDAT', 'IEND', 'tRNS', 'gAMA', 'cHRM', 'sRGB', 'iCCP', 'sBIT', 'cICP', 'pHYs', 'bKGD']);

/**
 * The PNG with only the chunks of PNG_KEPT (their CRCs unchanged), ending at IEND; undefined when
 * the file is not a PNG this parser follows. Animation chunks are dropped: the default image stays.
 */
export function stripPng(bytes: Uint8Array): Uint8Array | undefined {
  if (bytes.length < 8 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) return undefined;
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  let at = 8;
  let first = true;
  for (;;) {
    if (at + 12 > bytes.length) return undefined;
    const length = ((bytes[at]! << 24) >>> 0) + (bytes[at + 1]! << 16) + (bytes[at + 2]! << 8) + bytes[at + 3]!;
    const end = at + 12 + length;
    if (end > bytes.length) return undefined;
    const type = String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!, bytes[at + 6]!, bytes[at + 7]!);
    if (first && type !== 'IHDR') return undefined;
    first = false;
    if (PNG_KEPT.has(type)) parts.push(bytes.subarray(at, end));
    at = end;
    if (type === 'IEND') break;
  }
  return concat(parts);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
