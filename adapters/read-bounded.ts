/** Reading a download no further than a size limit: the chat adapters fetch photos people post. */
import { ErrorCode, ReferentError } from '../src/errors.js';

const mb = (bytes: number) => (bytes / 1048576).toFixed(bytes < 1048576 ? 1 : 0);

/** The body's bytes; IMAGE_TOO_LARGE as soon as the declared length or the bytes read pass maxBytes. */
export async function readBounded(response: Response, maxBytes: number, name: string): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw new ReferentError(ErrorCode.ImageTooLarge, `${name} is ${mb(declared)} MB; I take photos up to ${mb(maxBytes)} MB.`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      await response.body?.cancel().catch(() => {});
      throw new ReferentError(ErrorCode.ImageTooLarge, `${name} is larger than ${mb(maxBytes)} MB.`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
