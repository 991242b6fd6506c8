/**
 * Where ingest's per-file work (prepare-image.ts) runs: a pool of worker threads, so reading,
 * hashing, decoding, resizing and storing the media go on while the main thread is inside the encoder (ONNX Runtime's
 * Node binding runs a session synchronously, blocking the main thread for the whole batch), or the
 * main thread itself (`threads` 0: chat uploads, a handful of images, need no pool).
 *
 * sharp in worker threads: the main thread loads sharp too (prepare-image.ts → image-io.ts), which
 * keeps libvips loaded while workers come and go, and a worker is ended only once none of its jobs
 * is in flight (ending one in the middle of a libvips call can bring the process down).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ErrorCode, ReferentError } from '../errors.js';
import { workerEntry } from '../worker-entry.js';
import { prepareImage, type PrepareJob, type PrepareSpec, type PreparedImage } from './prepare-image.js';

export interface Preprocessor {
  /** Worker threads doing the work; 0: the main thread. */
  readonly threads: number;
  /** Rejects with the ReferentError prepareImage gives (NOT_FOUND, IMAGE_*), or an Error for anything unexpected. */
  prepare(job: PrepareJob): Promise<PreparedImage>;
  /** Waits for the jobs in flight, then ends the worker threads: the process can exit afterwards. */
  close(): Promise<void>;
}

/** A ReferentError as it crosses the thread boundary. */
export interface WireError {
  code: ErrorCode | 'UNEXPECTED';
  message: string;
  details?: Record<string, unknown>;
}

/**
 * Worker threads for a machine: the cores left beside the encoder (its intra-op threads on the CPU;
 * one thread feeding the GPU with CUDA), at least 1 and at most 4. More rarely helps: libvips work
 * from every thread shares libuv's thread pool (UV_THREADPOOL_SIZE, 4 by default).
 */
export function defaultWorkerCount(inference: { device: 'cpu' | 'cuda'; threads: number } | undefined, cores = availableParallelism()): number {
  const busy = inference?.device === 'cuda' ? 1 : (inference?.threads ?? Math.min(4, cores));
  return Math.max(1, Math.min(4, cores - busy));
}

/** Runs the work on the main thread (its libvips calls still run on libuv's thread pool). */
export function mainThreadPreprocessor(spec: PrepareSpec): Preprocessor {
  return { threads: 0, prepare: (job) => prepareImage(job, spec), close: async () => {} };
}

/** Starts `size` worker threads and waits until each has loaded; one that cannot start → the error. */
export async function startWorkerPool(size: number, spec: PrepareSpec): Promise<Preprocessor> {
  const pool = new WorkerPool(spec, size);
  const started = await Promise.allSettled(Array.from({ length: size }, () => pool.spawn()));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await pool.close();
    throw failed.reason;
  }
  return pool;
}

type Pending = { resolve: (p: PreparedImage) => void; reject: (e: unknown) => void };

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

const fromWire = (e: WireError): Error => (e.code === 'UNEXPECTED' ? new Error(e.message) : new ReferentError(e.code, e.message, { details: e.details ?? {} }));

class WorkerPool implements Preprocessor {
  private readonly slots = new Set<Slot>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private nextId = 0;
  private closed = false;
  private spawning: Promise<Slot> | undefined;

  constructor(
    private readonly spec: PrepareSpec,
    readonly threads: number,
  ) {}

  prepare(job: PrepareJob): Promise<PreparedImage> {
    if (this.closed) return Promise.reject(new ReferentError(ErrorCode.UsageInvalid, 'The preprocessing pool has been closed.'));
    const run = this.run(job);
    // close() waits for these, worker start-ups included, before it ends any worker.
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
    return run;
  }

  private async run(job: PrepareJob): Promise<PreparedImage> {
    const slot = await this.pick();
    const id = ++this.nextId;
    // Bytes from memory are copied, so the caller's buffer is never detached by the transfer.
    const sent = 'bytes' in job ? { bytes: new Uint8Array(job.bytes) } : job;
    try {
      return await new Promise<PreparedImage>((resolve, reject) => {
        slot.pending.set(id, { resolve, reject });
        slot.worker.postMessage({ id, job: sent }, 'bytes' in sent ? [sent.bytes.buffer as ArrayBuffer] : []);
      });
    } finally {
      slot.pending.delete(id);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    await Promise.all([...this.slots].map((slot) => slot.worker.terminate()));
    this.slots.clear();
  }

  /** The least busy worker; one that died (it never should: every job's error is caught) is replaced first. */
  private async pick(): Promise<Slot> {
    if (this.slots.size < this.threads) {
      this.spawning ??= this.spawn().finally(() => (this.spawning = undefined));
      const replaced = await this.spawning.catch((err: unknown) => err);
      if (this.slots.size === 0) throw replaced;
    }
    let best: Slot | undefined;
    for (const slot of this.slots) if (!best || slot.pending.size < best.pending.size) best = slot;
    return best!;
  }

  spawn(): Promise<Slot> {
    const { source, evaluate } = workerEntry(new URL('./preprocess-worker.js', import.meta.url));
    const worker = new Worker(source, { eval: evaluate, workerData: this.spec });
    const slot: Slot = { worker, pending: new Map() };
    return new Promise<Slot>((resolve, reject) => {
      const fail = (err: unknown) => {
        this.slots.delete(slot);
        const error = new Error(`An ingest worker thread stopped: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        for (const p of slot.pending.values()) p.reject(error);
        slot.pending.clear();
        reject(error); // no-op once it was ready
      };
      worker.on('message', (msg: { ready?: true; id?: number; prepared?: PreparedImage; error?: WireError }) => {
        if (msg.ready) {
          this.slots.add(slot);
          return resolve(slot);
        }
        const p = slot.pending.get(msg.id ?? -1);
        if (msg.error) p?.reject(fromWire(msg.error));
        else if (msg.prepared) p?.resolve(msg.prepared);
      });
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    });
  }
}
