/**
 * An evaluation dataset, already embedded: what `referent eval` ranks. Records with role
 * `reference` are what a team posted (their images are linked to their identity and, with the
 * descriptions, build that identity's reference); `gallery` images are unlabelled; `query` texts
 * are asked. The ranked gallery is every image, reference and gallery alike.
 */
export interface EvalImage {
  id: string;
  identity: string;
  role: 'reference' | 'gallery';
  vector: Float32Array;
}

export interface EvalText {
  id: string;
  identity: string;
  role: 'reference' | 'query';
  vector: Float32Array;
  /** Vectors of the text's details (phrases); empty when the dataset has none. */
  details: Float32Array[];
  /** Optional subset name for a per-subset breakdown (e.g. "ambiguous"). */
  group?: string;
  /** A query that is a photo, not a text (the benches ask photos too; the JSONL format has text queries only). */
  photo?: boolean;
}

export interface EvalDataset {
  dim: number;
  images: EvalImage[];
  texts: EvalText[];
}
