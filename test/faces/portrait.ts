/** Portraits cut out of the face-api package's demo photos, for the face tests that search by a photo. */
import type { FaceBox } from '../../src/faces/face-engine.js';
import { decodeForModel, encodePixels } from '../../src/image/image-io.js';

/** A portrait: the box and `margin` of its size around it, cut out of the photo. */
export async function portrait(bytes: Buffer, box: FaceBox, margin = 0.5): Promise<Buffer> {
  const { data, width, height } = await decodeForModel(bytes, { kernel: 'nearest' });
  const x0 = Math.max(0, Math.round(box.x - box.width * margin));
  const y0 = Math.max(0, Math.round(box.y - box.height * margin));
  const x1 = Math.min(width, Math.round(box.x + box.width * (1 + margin)));
  const y1 = Math.min(height, Math.round(box.y + box.height * (1 + margin)));
  const out = new Uint8Array((x1 - x0) * (y1 - y0) * 3);
  for (let y = y0; y < y1; y++) out.set(data.subarray((y * width + x0) * 3, (y * width + x1) * 3), (y - y0) * (x1 - x0) * 3);
  return encodePixels({ data: out, width: x1 - x0, height: y1 - y0, channels: 3 }, 'jpeg');
}
