/**
 * Worker-thread entry for the face engine (face-worker-client.ts starts it). It owns TensorFlow.js:
 * loads the models once, then answers {id, bytes} with {id, result} or {id, error}, one image at a
 * time. Decoding happens here too (image-io, under the same limits as every image), so the
 * full-size pixels never cross the thread boundary. A bad image never ends the worker: every error
 * is caught and sent back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ErrorCode, ReferentError } from '../errors.js';
import { decodeForModel, probeImage } from '../image/image-io.js';
import { chooseFaces, unitLength, type FacesFound, type ResolvedFaceOptions } from './face-engine.js';
import { openTfjsFaces, type TfjsFaces } from './tfjs-faces.js';

/** A serialisable error: ReferentErrors cross the thread boundary as their code, message and details. */
export interface FaceWireError {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

function toWire(err: unknown): FaceWireError {
  if (err instanceof ReferentError) return { code: err.code, message: err.message, details: { ...err.details } };
  // Not an image problem (those are ReferentErrors from image-io): the engine itself failed.
  return { code: ErrorCode.ModelInvalid, message: `The face engine failed: ${err instanceof Error ? err.message : String(err)}` };
}

/** Decodes one untrusted image (longest side at most maxSide) and returns its faces in full-size pixels. */
async function facesIn(engine: TfjsFaces, bytes: Uint8Array, options: ResolvedFaceOptions): Promise<FacesFound> {
  const limits = options.imageLimits;
  const { width, height } = await probeImage(bytes, limits);
  const shrink = Math.min(1, options.maxSide / Math.max(width, height));
  const size = { width: Math.max(1, Math.round(width * shrink)), height: Math.max(1, Math.round(height * shrink)) };
  const rgb = await decodeForModel(bytes, { resizeTo: size, kernel: 'lanczos3' }, limits);
  const frame = { width, height, scale: width / rgb.width };
  // Room for tiny boxes that chooseFaces drops, so the cap applies to faces that count.
  const maxDetections = Math.max(100, 2 * options.maxFaces + 1);
  let chosen: ReturnType<typeof chooseFaces> | undefined;
  const described = await engine.detect(rgb, {
    minScore: options.minScore,
    maxDetections,
    choose: (found) => {
      chosen = chooseFaces(found, frame, options, found.length >= maxDetections);
      return chosen.kept.map((k) => k.found);
    },
  });
  const boxOf = new Map(chosen?.kept.map((k) => [k.found.box, k.box]));
  const faces = described.map((d) => ({ box: boxOf.get(d.box) ?? d.box, score: d.score, descriptor: unitLength(d.descriptor) }));
  return { width, height, faces, truncated: chosen?.truncated ?? false };
}

const port = parentPort;
if (!port) throw new Error('face-worker.ts runs only as a worker thread (see FaceWorkerEngine.create).');

try {
  const options = workerData as ResolvedFaceOptions;
  const engine = await openTfjsFaces();
  port.on('message', (msg: { id: number; bytes: Uint8Array }) => {
    facesIn(engine, msg.bytes, options).then(
      (result) => port.postMessage({ id: msg.id, result }),
      (err: unknown) => port.postMessage({ id: msg.id, error: toWire(err) }),
    );
  });
  port.postMessage({ ready: true });
} catch (err) {
  port.postMessage({ failed: toWire(err) });
}
