/**
 * PaddleOCR (PP-OCRv4 via @gutenye/ocr-node, the only file that imports it) behind TextReader.
 * The engine blocks its thread for the whole of a read (150–950 ms: onnxruntime runs synchronously
 * and pre/post-processing are JS loops), so it lives in a worker thread (ocr-worker.ts) and this
 * side only queues requests. The library is imported dynamically, inside the worker only: the
 * main thread never pays its ~0.9 s import or ~130 MB.
 */
import { SHARE_ENV, Worker } from 'node:worker_threads';
import type { Line } from '@gutenye/ocr-node';
import { ErrorCode, ReferentError } from '../errors.js';
import { workerEntry } from '../worker-entry.js';
import { prepareForOcr, probeImage, solidPng } from '../image/image-io.js';
import type { OcrLine, TextReader } from './ocr.js';

export const PADDLE_OCR_MODEL_ID = 'paddleocr-ppocrv4@gutenye-1.4.8';

/** What the worker returns for one image: the library's lines, in the frame of the detector's input. */
export interface EngineResult {
  lines: Array<{ text: string; mean: number; box?: number[][] }>;
  /** The image as an upright viewer sees it (EXIF orientation applied). */
  width: number;
  height: number;
  /** The image the engine was given (downscaled to maxSide). */
  preparedWidth: number;
  preparedHeight: number;
}

/** A serialisable error: ReferentErrors cross the thread boundary as their code, message and details. */
export interface WireError {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

/** Worker side: loads the models once and returns the function that reads one image. */
export async function openPaddleEngine(maxSide: number): Promise<(bytes: Uint8Array) => Promise<EngineResult>> {
  const { default: Ocr } = await import('@gutenye/ocr-node');
  const ocr = await Ocr.create({ onnxOptions: { logSeverityLevel: 3 } });
  // The library's value is a path, but it is passed straight to sharp, so an encoded image works.
  const detect = (png: Buffer): Promise<Line[]> => ocr.detect(png as unknown as string);
  // opencv.js compiles its WASM asynchronously after import; create() has always outlasted that,
  // but a tiny first read (about 23 ms) makes sure no real image meets it unready.
  await detect(await solidPng(32, 32, [255, 255, 255]));
  return async (bytes) => {
    const { width, height } = await probeImage(bytes);
    const png = await prepareForOcr(bytes, maxSide);
    const lines = await detect(png);
    // A PNG's IHDR holds width and height at bytes 16 and 20: exact, and no second decode.
    return { lines: lines.map((l) => ({ text: l.text, mean: l.mean, box: l.box })), width, height, preparedWidth: png.readUInt32BE(16), preparedHeight: png.readUInt32BE(20) };
  };
}

/**
 * Maps the library's boxes back to the original image. The detector sees the prepared image
 * resized with fit 'contain' to the next multiple of 32 (scaled, then padded, centred), so a box
 * is first un-padded and un-scaled, then scaled up by the prepare step's downscale.
 */
export function toOcrLines(result: EngineResult, minConfidence: number): OcrLine[] {
  const { width, height, preparedWidth: pw, preparedHeight: ph } = result;
  const w32 = Math.max(32, Math.ceil(pw / 32) * 32);
  const h32 = Math.max(32, Math.ceil(ph / 32) * 32);
  const s = Math.min(w32 / pw, h32 / ph);
  const padX = (w32 - pw * s) / 2;
  const padY = (h32 - ph * s) / 2;
  const clamp = (v: number, max: number): number => Math.round(Math.min(max, Math.max(0, v)) * 10) / 10;
  const toImage = ([x = 0, y = 0]: number[]): [number, number] => [clamp(((x - padX) / s) * (width / pw), width), clamp(((y - padY) / s) * (height / ph), height)];
  const whole: Array<[number, number]> = [[0, 0], [width, 0], [width, height], [0, height]];
  return result.lines.flatMap((line) => {
    const text = line.text.trim();
    if (text === '' || !(line.mean >= minConfidence)) return [];
    return [{ text, confidence: line.mean, box: line.box?.length === 4 ? line.box.map(toImage) : whole }];
  });
}

type Pending = { resolve: (r: EngineResult) => void; reject: (e: unknown) => void };
const engineError = (message: string, cause?: unknown) => new ReferentError(ErrorCode.ModelInvalid, message, { cause, details: { engine: PADDLE_OCR_MODEL_ID } });
const fromWire = (e: WireError) => new ReferentError(e.code, e.message, { details: e.details ?? {} });

export class PaddleOcr implements TextReader {
  readonly modelId = PADDLE_OCR_MODEL_ID;
  private worker: Promise<Worker> | undefined;
  private pending = new Map<number, Pending>();
  private nextId = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(private readonly options: { minConfidence: number; maxSide: number }) {}

  /** Starts the worker and loads the models (about 1.5 s); a load failure → MODEL_INVALID. */
  static async create(options: { minConfidence?: number; maxSide?: number } = {}): Promise<PaddleOcr> {
    const ocr = new PaddleOcr({ minConfidence: options.minConfidence ?? 0.6, maxSide: options.maxSide ?? 1600 });
    await ocr.ensureWorker();
    return ocr;
  }

  /**
   * One image at a time, in call order: overlapping reads gives no speed-up (measured: 2 at
   * once took as long as 2 in a row), and queued reads keep memory to one image at a time.
   * A bad image → its IMAGE_* error; an engine failure or a dead worker → MODEL_INVALID, and the
   * next read still works (a dead worker is restarted).
   */
  read(image: Uint8Array): Promise<OcrLine[]> {
    const run = this.queue.then(() => this.readNow(image));
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

  private async readNow(image: Uint8Array): Promise<OcrLine[]> {
    if (this.closed) throw new ReferentError(ErrorCode.UsageInvalid, 'The OCR engine has been closed.');
    const worker = await this.ensureWorker();
    const id = ++this.nextId;
    // Copy only the view's bytes (a Buffer may sit in a far larger ArrayBuffer), then hand the copy over without a second copy.
    const bytes = new Uint8Array(image);
    const result = await new Promise<EngineResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref(); // keep the process alive while a read is in flight...
      worker.postMessage({ id, bytes }, [bytes.buffer]);
    }).finally(() => {
      this.pending.delete(id);
      if (this.pending.size === 0) worker.unref(); // ...but an idle worker never holds it open
    });
    return toOcrLines(result, this.options.minConfidence);
  }

  private ensureWorker(): Promise<Worker> {
    if (this.closed) return Promise.reject(new ReferentError(ErrorCode.UsageInvalid, 'The OCR engine has been closed.'));
    this.worker ??= this.startWorker();
    return this.worker;
  }

  private startWorker(): Promise<Worker> {
    const { source, evaluate } = workerEntry(new URL('./ocr-worker.js', import.meta.url));
    // SHARE_ENV: the worker's ORT_DISABLE_TELEMETRY (set by onnx-runtime.ts) must reach the real
    // environment, where onnxruntime's native code reads it; a worker's own env is a JS-only copy.
    const worker = new Worker(source, { eval: evaluate, workerData: { maxSide: this.options.maxSide }, env: SHARE_ENV });
    const started = new Promise<Worker>((resolve, reject) => {
      const fail = (err: unknown) => {
        const error = this.closed
          ? new ReferentError(ErrorCode.UsageInvalid, 'The OCR engine was closed during the read.')
          : err instanceof ReferentError ? err : engineError(`The OCR engine stopped: ${err instanceof Error ? err.message : String(err)}`, err);
        if (this.worker === started) this.worker = undefined; // the next read starts a fresh one
        for (const p of this.pending.values()) p.reject(error);
        reject(error);
      };
      worker.on('message', (msg: { ready?: true; failed?: WireError; id?: number; result?: EngineResult; error?: WireError }) => {
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
