/**
 * Faces after ingest: a background step that finds the faces on every image of a collection with
 * faces on that was not processed yet, and stores each face's box, score and descriptor in the
 * catalogue. As the OCR queue (src/ocr/ocr-queue.ts) does for labels: `kick()` returns at once and a
 * chat reply never waits for it; detection runs in the engine's worker thread, one image at a time.
 *
 * - An image the engine cannot read (damaged, hostile, too slow) is recorded as processed with no
 *   faces and the queue goes on, so it is not retried forever. An engine that cannot start stops the
 *   queue without recording anything: the images wait for an engine that works.
 * - The models are loaded only when there is an image to process (the detector, a FaceRuntime,
 *   loads on first use and lets them go when idle): a site with faces off never loads them.
 * - A crash loses at most the image in flight: each image's faces are their own transaction, and a
 *   collection switched off meanwhile refuses them (FaceCatalog.putFaces).
 */
import type { FaceCatalog, NewFace } from '../catalog/catalog.js';
import { ErrorCode, isReferentError } from '../errors.js';
import type { MediaStore } from '../media/media-store.js';
import type { Progress } from '../progress.js';

/** What the queue needs of the face engine: FaceRuntime (face-runtime.ts) is one. */
export interface FaceDetector {
  readonly modelId: string;
  /** Whether the models are loaded now: after a failed call, false means they could not be loaded at all. */
  readonly loaded: boolean;
  detect(image: Uint8Array): Promise<{ faces: NewFace[] }>;
}

export interface FaceQueueOptions {
  log: (line: string) => void;
  /** Log an engine that cannot start (the server), or leave it to the caller's `engineError` (the CLI). Default true. */
  logEngineError?: boolean;
}

export interface FaceSummary {
  /** Images processed (with or without faces). */
  processed: number;
  /** Faces stored. */
  faces: number;
  /** Images the engine could not read (recorded with no faces). */
  failed: number;
}

const BATCH = 32;

export class FaceQueue {
  private running: Promise<FaceSummary> | null = null;
  private again = false;
  private closed = false;
  /** Why the engine could not start, once it could not (the queue then stops). */
  engineError: string | null = null;

  constructor(
    private readonly deps: { catalog: Pick<FaceCatalog, 'countFaces' | 'itemsWithoutFaces' | 'putFaces'>; media: Pick<MediaStore, 'readOriginal'> },
    private readonly detector: FaceDetector,
    private readonly options: FaceQueueOptions,
  ) {}

  /** Starts processing what is pending, unless a run is under way (which then goes round once more). */
  kick(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    void this.drain().catch((err: unknown) => this.options.log(`faces: stopped: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`));
  }

  /** Processes every pending image; resolves when none is left. One run at a time. */
  drain(progress?: Progress): Promise<FaceSummary> {
    if (this.closed && !this.running) return Promise.resolve({ processed: 0, faces: 0, failed: 0 });
    if (!this.running) {
      this.running = this.run(progress).finally(() => {
        this.running = null;
        if (this.again && !this.closed) {
          this.again = false;
          this.kick();
        }
      });
    }
    return this.running;
  }

  /** Stops after the image in flight; the detector is its owner's to close. */
  async close(): Promise<void> {
    this.closed = true;
    await this.running?.catch(() => {});
  }

  private async run(progress?: Progress): Promise<FaceSummary> {
    const { catalog, media } = this.deps;
    const summary: FaceSummary = { processed: 0, faces: 0, failed: 0 };
    const total = (await catalog.countFaces()).pending;
    if (total === 0) return summary;
    progress?.start('Finding faces', total, 'images');
    try {
      let after = 0;
      for (let batch = await catalog.itemsWithoutFaces(BATCH, after); batch.length > 0 && !this.closed; batch = await catalog.itemsWithoutFaces(BATCH, after)) {
        for (const item of batch) {
          after = item.id;
          if (this.closed) break;
          let faces: NewFace[] = [];
          try {
            faces = (await this.detector.detect(await media.readOriginal(item.mediaKey))).faces;
          } catch (err) {
            if (this.engineDown(err)) return summary;
            // A damaged or hostile image, or one the engine stalled on: remembered as processed with no faces.
            summary.failed++;
            this.options.log(`faces: image #${item.id} could not be read: ${err instanceof Error ? err.message : String(err)}`);
          }
          if (await catalog.putFaces(item.id, this.detector.modelId, faces.map(({ box, score, descriptor }) => ({ box, score, descriptor })))) {
            summary.processed++;
            summary.faces += faces.length;
          }
          progress?.tick(1);
        }
      }
      return summary;
    } finally {
      progress?.stop();
    }
  }

  /**
   * An engine that cannot start (its models missing or unloadable) will not start on the next kick
   * either: say so once and stop. A closed detector (shutdown) stops quietly.
   */
  private engineDown(err: unknown): boolean {
    if (isReferentError(err, ErrorCode.UsageInvalid)) {
      this.closed = true;
      return true;
    }
    if (!isReferentError(err) || !err.code.startsWith('MODEL_') || this.detector.loaded) return false;
    this.closed = true;
    this.engineError = err.message;
    if (this.options.logEngineError !== false) this.options.log(`faces: the face engine could not start, so no faces will be found (${this.engineError}).`);
    return true;
  }
}
