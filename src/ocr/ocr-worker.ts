/**
 * Worker-thread entry for PaddleOcr (paddle-ocr.ts starts it). Loads the engine once, then answers
 * {id, bytes} with {id, result} or {id, error} (PaddleOcr sends one at a time). A failed image never ends the
 * worker: every error is caught and sent back, so the next image is read as usual.
 */
// First: switches off ONNX Runtime's telemetry before the engine creates its sessions (the
// worker shares the process environment, see PaddleOcr.startWorker).
import '../encoder/onnx-runtime.js';
import { parentPort, workerData } from 'node:worker_threads';
import { ErrorCode, ReferentError } from '../errors.js';
import { openPaddleEngine, type WireError } from './paddle-ocr.js';

function toWire(err: unknown): WireError {
  if (err instanceof ReferentError) return { code: err.code, message: err.message, details: { ...err.details } };
  // Not an image problem (those are ReferentErrors from image-io): the engine itself failed.
  const message = err instanceof Error ? err.message : String(err);
  return { code: ErrorCode.ModelInvalid, message: `The OCR engine failed: ${message}` };
}

const port = parentPort;
if (!port) throw new Error('ocr-worker.ts runs only as a worker thread (see PaddleOcr.create).');

try {
  const read = await openPaddleEngine((workerData as { maxSide: number }).maxSide);
  port.on('message', (msg: { id: number; bytes: Uint8Array }) => {
    read(msg.bytes).then(
      (result) => port.postMessage({ id: msg.id, result }),
      (err: unknown) => port.postMessage({ id: msg.id, error: toWire(err) }),
    );
  });
  port.postMessage({ ready: true });
} catch (err) {
  port.postMessage({ failed: toWire(err) });
}
