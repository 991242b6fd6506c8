/**
 * The main-thread side of the face engine: a worker thread (face-worker.ts) owns TensorFlow.js and
 * the models, and this class only queues images to it. Detection blocks its thread for 0.4–3 s a
 * photo (WebAssembly runs synchronously), so it must never run on the thread that answers chat.
 * A worker that dies, or takes longer than `timeoutMs` on one image, is stopped; that image fails
 * alone with MODEL_INVALID and the next one starts a fresh worker.
 */
import { Worker } from 'node:worker_threads';
import { ErrorCode, ReferentError } from '../errors.js';
import { workerEntry } from '../worker-entry.js';
import { defaultFaceOptions, FACE_MODEL_ID, type FaceEngine, type FaceEngineOptions, type FacesFound, type ResolvedFaceOptions } from './face-engine.js';
import type { FaceWireError } from './face-worker.js';

type Pending = { resolve: (r: FacesFound) => void; reject: (e: unknown) => void };
const engineError = (message: string, cause?: unknown, details: Record<string, unknown> = {}) =>
  new ReferentError(ErrorCode.ModelInvalid, message, { cause, details: { engine: FACE_MODEL_ID, ...details } });
const fromWire = (e: FaceWireError) => new ReferentError(e.code, e.message, { details: e.details ?? {} });
const closedError = () => new ReferentError(ErrorCode.UsageInvalid, 'The face engine has been closed.');

export class FaceWorkerEngine implements FaceEngine {
  readonly modelId = FACE_MODEL_ID;
  private worker: Promise<Worker> | undefined;
  private pending = new Map<number, Pending>();
  private nextId = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(private readonly options: ResolvedFaceOptions) {}

  /** Starts the worker and loads the models; a load failure → MODEL_NOT_FOUND or MODEL_INVALID. */
  static async create(options: FaceEngineOptions = {}): Promise<FaceWorkerEngine> {
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    const engine = new FaceWorkerEngine({ ...defaultFaceOptions, ...defined });
    await engine.ensureWorker();
    return engine;
  }

  /** One image at a time, in call order: the worker has one thread, and memory stays at one photo. */
  detect(image: Uint8Array): Promise<FacesFound> {
    const run = this.queue.then(() => this.detectNow(image));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = await this.worker?.catch(() => undefined);
    this.worker = undefined;
    await worker?.terminate();
  }

  private async detectNow(image: Uint8Array): Promise<FacesFound> {
    if (this.closed) throw closedError();
    const worker = await this.ensureWorker();
    const id = ++this.nextId;
    // Copy only the view's bytes (a Buffer may sit in a far larger ArrayBuffer), then hand the copy over without a second copy.
    const bytes = new Uint8Array(image);
    let timer: NodeJS.Timeout | undefined;
    return new Promise<FacesFound>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      timer = setTimeout(() => {
        // Stuck on this image: it fails alone, and the next image gets a fresh worker.
        this.pending.delete(id);
        reject(engineError(`Face detection took longer than ${Math.round(this.options.timeoutMs / 1000)} s on this image and was stopped.`, undefined, { timeoutMs: this.options.timeoutMs }));
        void worker.terminate();
      }, this.options.timeoutMs);
      worker.ref(); // keep the process alive while an image is in flight...
      worker.postMessage({ id, bytes }, [bytes.buffer]);
    }).finally(() => {
      clearTimeout(timer);
      this.pending.delete(id);
      if (this.pending.size === 0) worker.unref(); // ...but an idle worker never holds it open
    });
  }

  private ensureWorker(): Promise<Worker> {
    if (this.closed) return Promise.reject(closedError());
    this.worker ??= this.startWorker();
    return this.worker;
  }

  private startWorker(): Promise<Worker> {
    const { source, evaluate } = workerEntry(new URL('./face-worker.js', import.meta.url));
    const worker = new Worker(source, { eval: evaluate, workerData: this.options });
    const started = new Promise<Worker>((resolve, reject) => {
      const fail = (err: unknown) => {
        const error = this.closed
          ? new ReferentError(ErrorCode.UsageInvalid, 'The face engine was closed during the detection.')
          : err instanceof ReferentError ? err : engineError(`The face engine stopped: ${err instanceof Error ? err.message : String(err)}`, err);
        if (this.worker === started) this.worker = undefined; // the next image starts a fresh one
        for (const p of this.pending.values()) p.reject(error);
        reject(error);
      };
      worker.on('message', (msg: { ready?: true; failed?: FaceWireError; id?: number; result?: FacesFound; error?: FaceWireError }) => {
        if (msg.ready) {
          if (this.pending.size === 0) worker.unref(); // idle from here: never holds the process open
          return resolve(worker);
        }
        if (msg.failed) {
          fail(fromWire(msg.failed)); // before terminate(), whose 'exit' would report a bare exit code
          return void worker.terminate();
        }
        const p = this.pending.get(msg.id ?? -1);
        if (msg.error) p?.reject(fromWire(msg.error));
        else if (msg.result) p?.resolve(msg.result);
      });
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`worker exited with code ${code}`)));
    });
    this.worker = started;
    return started;
  }
}
