/**
 * Reading the text printed on an image (labels, part numbers). The engine sits behind this
 * interface so ingest and search never depend on one OCR library, and tests can hand in their own.
 */

/** One line of text as the engine read it. */
export interface OcrLine {
  text: string;
  /** 0..1, the engine's mean character confidence. */
  confidence: number;
  /** Corners in the image's pixel coordinates: [[x, y] × 4], clockwise from top-left. */
  box: Array<[number, number]>;
}

export interface TextReader {
  /** Model name and version, stored with each result (re-running with another engine is visible). */
  readonly modelId: string;
  /** Lines read from an encoded image (JPEG, PNG, WebP…). An image without text gives []. Never blocks the event loop for long. */
  read(image: Uint8Array): Promise<OcrLine[]>;
  close(): Promise<void>;
}
