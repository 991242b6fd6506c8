/**
 * Worker-thread entry for ingest's preprocessing pool (preprocessor.ts starts it). Answers
 * {id, job} with {id, prepared} or {id, error}; jobs may overlap (their reads and libvips work are
 * asynchronous). A bad image never ends the worker: every error is caught and sent back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isReferentError } from '../errors.js';
import { prepareImage, type PrepareJob, type PrepareSpec, type PreparedImage } from './prepare-image.js';
import type { WireError } from './preprocessor.js';

function toWire(err: unknown): WireError {
  if (isReferentError(err)) return { code: err.code, message: err.message, details: { ...err.details } };
  return { code: 'UNEXPECTED', message: err instanceof Error ? err.message : String(err) };
}

/** Buffers may sit in a larger pooled ArrayBuffer; only an exact one can be handed over without a copy. */
function own(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
}

const port = parentPort;
if (!port) throw new Error('preprocess-worker.ts runs only as a worker thread (see preprocessor.ts).');
const spec = workerData as PrepareSpec;

port.on('message', (msg: { id: number; job: PrepareJob }) => {
  prepareImage(msg.job, spec).then(
    (prepared: PreparedImage) => {
      const bytes = prepared.bytes && own(prepared.bytes);
      const transfer: ArrayBuffer[] = bytes ? [bytes.buffer as ArrayBuffer] : [];
      if (prepared.tensor) transfer.push(prepared.tensor.data.buffer as ArrayBuffer);
      port.postMessage({ id: msg.id, prepared: { ...prepared, ...(bytes ? { bytes } : {}) } }, transfer);
    },
    (err: unknown) => port.postMessage({ id: msg.id, error: toWire(err) }),
  );
});
port.postMessage({ ready: true });
