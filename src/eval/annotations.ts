/**
 * A CUHK-PEDES / ICFG-PEDES / RSTPReid style annotation file: a JSON array of
 * `{"id": identity, "file_path" | "img_path": "...", "captions": ["..."], "split": "train|val|test"}`,
 * embedded with the configured encoder into an EvalDataset.
 *
 * Roles (a team that posted about some of its objects): in the chosen split, a seeded share of the
 * identities "have references": their first image is a reference photo and its captions reference
 * descriptions. Every other image is gallery, and the captions of gallery images are the queries.
 * Identities without references keep all their images in the gallery.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Encoder } from '../encoder/encoder.js';
import { ErrorCode, ReferentError } from '../errors.js';
import { silentProgress, type Progress } from '../progress.js';
import { embedTexts } from '../references/embed-text.js';
import type { EvalDataset } from './dataset.js';

const entrySchema = z
  .object({
    id: z.union([z.string(), z.number()]).transform(String),
    file_path: z.string().optional(),
    img_path: z.string().optional(),
    captions: z.array(z.string().min(1)).min(1),
    split: z.string().optional(),
  })
  .refine((e) => e.file_path ?? e.img_path, { message: 'needs file_path or img_path' });

export interface AnnotationOptions {
  split: string;
  /** Share of identities (0–1) that have references. */
  referenceShare: number;
  /** Folder the image paths are relative to (default: the annotation file's folder). */
  imagesDir?: string;
  maxImageBytes: number;
  batchSize: number;
  progress?: Progress;
}

/** Deterministic per identity, so the same file always gives the same roles. */
function hasReference(identity: string, share: number): boolean {
  const h = createHash('sha256').update(`referent-eval:${identity}`).digest().readUInt32BE(0);
  return h / 2 ** 32 < share;
}

export async function readAnnotations(file: string, encoder: Encoder, options: AnnotationOptions): Promise<EvalDataset> {
  const raw = await fs.readFile(file, 'utf8').catch(() => {
    throw new ReferentError(ErrorCode.NotFound, `No dataset file at ${file}.`);
  });
  let entries: Array<z.infer<typeof entrySchema>>;
  try {
    entries = z.array(entrySchema).parse(JSON.parse(raw));
  } catch (err) {
    const why = err instanceof z.ZodError ? err.issues.slice(0, 10).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : (err as Error).message;
    throw new ReferentError(ErrorCode.UsageInvalid, `The annotation file ${file} is not a CUHK-PEDES/RSTPReid-style JSON array: ${why}`);
  }
  const chosen = entries.filter((e) => (e.split ?? options.split) === options.split);
  if (chosen.length === 0) throw new ReferentError(ErrorCode.UsageInvalid, `No entries with split "${options.split}" in ${file}.`);
  const root = options.imagesDir ?? path.dirname(file);
  const firstOf = new Map<string, number>();
  chosen.forEach((e, i) => (firstOf.has(e.id) ? undefined : firstOf.set(e.id, i)));
  const isReference = (i: number) => hasReference(chosen[i]!.id, options.referenceShare) && firstOf.get(chosen[i]!.id) === i && chosen.filter((e) => e.id === chosen[i]!.id).length > 1;

  const progress = options.progress ?? silentProgress;
  const data: EvalDataset = { dim: encoder.dim, images: [], texts: [] };
  progress.start('Embedding the dataset', chosen.length, 'images');
  for (let start = 0; start < chosen.length; start += options.batchSize) {
    const batch = chosen.slice(start, start + options.batchSize);
    const bytes = await Promise.all(
      batch.map(async (e) => {
        const p = path.resolve(root, e.file_path ?? e.img_path!);
        const stat = await fs.stat(p).catch(() => null);
        if (!stat?.isFile()) throw new ReferentError(ErrorCode.NotFound, `No image at ${p} (set the image folder with --images DIR).`);
        if (stat.size > options.maxImageBytes) throw new ReferentError(ErrorCode.ImageTooLarge, `${p} is ${stat.size} bytes; the limit is ${options.maxImageBytes}.`);
        return fs.readFile(p);
      }),
    );
    const vectors = await encoder.encodeImages(bytes);
    const captions = await embedTexts(encoder, batch.flatMap((e) => e.captions));
    let c = 0;
    batch.forEach((e, j) => {
      const reference = isReference(start + j);
      data.images.push({ id: `img${start + j}`, identity: e.id, role: reference ? 'reference' : 'gallery', vector: vectors[j]! });
      e.captions.forEach((_, k) => {
        const emb = captions[c++]!;
        data.texts.push({ id: `img${start + j}-cap${k}`, identity: e.id, role: reference ? 'reference' : 'query', vector: emb.vector, details: emb.phrases.map((p) => p.vector) });
      });
    });
    progress.tick(batch.length);
  }
  progress.stop();
  return data;
}
