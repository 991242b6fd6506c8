/**
 * When the face models are in memory. Loading them costs 1–3 s and about 180 MB, and working on
 * photos takes some 400 MB more (WebAssembly memory only grows), so nothing is loaded until the
 * first photo that needs faces, and the engine is closed (its worker ended, its memory given back)
 * after `idleSeconds` without work. A site where no collection has faces on never loads them at all.
 */
import { ErrorCode, ReferentError } from '../errors.js';
import { FACE_MODEL_ID, loadFaceEngine, type FaceEngine, type FaceEngineOptions, type FacesFound } from './face-engine.js';

export interface FaceRuntimeOptions {
  /** Close the engine after this long without a photo. Default 120. */
  idleSeconds?: number;
  /** Passed to the engine at each load. */
  engine?: FaceEngineOptions;
  /** How an engine is loaded (default loadFaceEngine); tests wrap it to watch loads. */
  load?: (options: FaceEngineOptions) => Promise<FaceEngine>;
}

export class FaceRuntime {
  readonly modelId = FACE_MODEL_ID;
  private engine: Promise<FaceEngine> | null = null;
  private releasing: Promise<void> = Promise.resolve();
  private active = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly idleMs: number;

  constructor(private readonly options: FaceRuntimeOptions = {}) {
    this.idleMs = Math.max(0, options.idleSeconds ?? 120) * 1000;
  }

  /** Whether the models are loaded (or loading) now. */
  get loaded(): boolean {
    return this.engine !== null;
  }

  /**
   * The faces on one photo (FaceEngine.detect), loading the engine first if it is not loaded.
   * An engine that cannot load rejects this call with its MODEL_* error; the next call tries again.
   */
  async detect(image: Uint8Array): Promise<FacesFound> {
    if (this.closed) throw new ReferentError(ErrorCode.UsageInvalid, 'The face runtime has been closed.');
    this.active++;
    this.stopTimer();
    try {
      await this.releasing; // an engine being let go finishes closing before a new one loads
      const loading = (this.engine ??= (this.options.load ?? loadFaceEngine)(this.options.engine ?? {}));
      let engine: FaceEngine;
      try {
        engine = await loading;
      } catch (err) {
        if (this.engine === loading) this.engine = null;
        throw err;
      }
      return await engine.detect(image);
    } finally {
      this.active--;
      if (this.active === 0 && !this.closed && this.engine !== null) {
        this.timer = setTimeout(() => this.release(), this.idleMs);
        this.timer.unref(); // an idle engine never keeps the process alive
      }
    }
  }

  /** Closes the engine now; later calls fail with USAGE_INVALID. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopTimer();
    this.release();
    await this.releasing;
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private release(): void {
    this.timer = null;
    const engine = this.engine;
    if (engine === null) return;
    this.engine = null;
    const previous = this.releasing;
    this.releasing = previous.then(async () => {
      const loaded = await engine.catch(() => null);
      await loaded?.close().catch(() => undefined);
    });
  }
}
