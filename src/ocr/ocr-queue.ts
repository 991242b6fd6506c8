/**
 * OCR after ingest: a background step that reads the text on every image not read yet and stores
 * it (lines, and the identifiers on them) in the catalogue, where the lexical index picks it up.
 * It never blocks a chat reply: the engine runs in its own thread, and `kick()` returns at once.
 * An image the engine cannot read is stored with no lines, so it is not retried forever; a
 * crash loses at most the image being read (each reading is its own transaction).
 */
import type { Catalog } from '../catalog/catalog.js';
import type { MediaStore } from '../media/media-store.js';
import type { Progress } from '../progress.js';
import { identifiersIn } from './identifiers.js';
import type { OcrLine, TextReader } from './ocr.js';

export interface OcrQueueOptions {
  /** Lines below this confidence are dropped (0..1). */
  minConfidence: number;
  log: (line: string) => void;
  /** Log an engine that cannot start (the server), or leave it to the caller's `engineError` (the CLI). Default true. */
  logEngineError?: boolean;
}

export interface OcrSummary {
  read: number;
  withText: number;
  failed: number;
}

const BATCH = 32;

/** Lines worth keeping, and the identifiers on them (normalised, deduplicated). */
export function keepLines(lines: readonly OcrLine[], minConfidence: number): { lines: OcrLine[]; identifiers: string[] } {
  const kept = lines.filter((l) => l.confidence >= minConfidence && l.text.trim() !== '');
  return { lines: kept, identifiers: [...new Set(kept.flatMap((l) => identifiersIn(l.text)))] };
}

export class OcrQueue {
  private running: Promise<OcrSummary> | null = null;
  private again = false;
  private reader: Promise<TextReader> | null = null;
  private closed = false;
  /** Why the engine could not start, once it could not (the queue then stops). */
  engineError: string | null = null;

  constructor(
    private readonly deps: { catalog: Catalog; media: MediaStore },
    /** The engine, created on first use (loading it costs about a second). */
    private readonly createReader: () => Promise<TextReader>,
    private readonly options: OcrQueueOptions,
  ) {}

  /** Starts reading what is pending, unless a run is under way (which then goes round once more). */
  kick(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    void this.drain().catch((err: unknown) => this.options.log(`ocr: stopped: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`));
  }

  /** Reads every pending image; resolves when none is left. One run at a time. */
  drain(progress?: Progress): Promise<OcrSummary> {
    if (this.closed && !this.running) return Promise.resolve({ read: 0, withText: 0, failed: 0 });
    if (!this.running) {
      this.running = this.run(progress).finally(async () => {
        this.running = null;
        if (this.again && !this.closed) {
          this.again = false;
          this.kick();
        } else {
          await this.release();
        }
      });
    }
    return this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.running?.catch(() => {});
    await this.release();
  }

  /** The engine holds about half a gigabyte: it is let go when there is nothing left to read, and loaded again (a second or two) when there is. */
  private async release(): Promise<void> {
    const reader = this.reader;
    this.reader = null;
    if (reader) await (await reader.catch(() => null))?.close();
  }

  private async run(progress?: Progress): Promise<OcrSummary> {
    const { catalog, media } = this.deps;
    const summary: OcrSummary = { read: 0, withText: 0, failed: 0 };
    const total = (await catalog.countOcr()).pending;
    if (total === 0) return summary;
    this.reader ??= this.createReader();
    let reader: TextReader;
    try {
      reader = await this.reader;
    } catch (err) {
      // An engine that cannot start will not start on the next kick either: say so once and stop.
      this.closed = true;
      this.reader = null;
      this.engineError = err instanceof Error ? err.message : String(err);
      if (this.options.logEngineError !== false) this.options.log(`ocr: the OCR engine could not start, so labels will not be read (${this.engineError}). Set REFERENT_OCR=false to skip it.`);
      return summary;
    }
    progress?.start('Reading labels', total, 'images');
    let after = 0;
    for (let batch = await catalog.itemsWithoutOcr(BATCH, after); batch.length > 0 && !this.closed; batch = await catalog.itemsWithoutOcr(BATCH, after)) {
      for (const item of batch) {
        after = item.id;
        if (this.closed) break;
        let lines: OcrLine[] = [];
        try {
          lines = await reader.read(await media.readOriginal(item.mediaKey));
        } catch (err) {
          // A hostile or damaged image: remembered as read with nothing on it.
          summary.failed++;
          this.options.log(`ocr: image #${item.id} could not be read: ${err instanceof Error ? err.message : String(err)}`);
        }
        const kept = keepLines(lines, this.options.minConfidence);
        if (await catalog.putOcr(item.id, { modelId: reader.modelId, ...kept })) {
          summary.read++;
          if (kept.lines.length > 0) summary.withText++;
        }
        progress?.tick(1);
      }
    }
    progress?.stop();
    return summary;
  }
}
