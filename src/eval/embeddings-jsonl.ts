/**
 * The embeddings JSONL of `referent eval` (docs/cli.md), one record per line:
 * `{"id","identity","kind":"image"|"text","role":"gallery"|"query"|"reference","vector":[...]}`
 * plus two optional fields Referent reads: `details` (a text's phrase vectors, for the detail term)
 * and `group` (a query's subset, for a breakdown). Vectors are normalised on load.
 */
import fs from 'node:fs';
import readline from 'node:readline';
import { z } from 'zod';
import { ErrorCode, ReferentError } from '../errors.js';
import { normalize } from '../vectors.js';
import type { EvalDataset } from './dataset.js';

const vector = z.array(z.number().finite()).min(1);
const recordSchema = z.object({
  id: z.union([z.string(), z.number()]).transform(String),
  identity: z.union([z.string(), z.number()]).transform(String),
  kind: z.enum(['image', 'text']),
  role: z.enum(['gallery', 'query', 'reference']),
  vector,
  details: z.array(vector).optional(),
  group: z.string().optional(),
});

const MAX_PROBLEMS = 10;

export async function readEmbeddingsJsonl(file: string): Promise<EvalDataset> {
  if (!fs.existsSync(file)) throw new ReferentError(ErrorCode.NotFound, `No dataset file at ${file}.`);
  const data: EvalDataset = { dim: 0, images: [], texts: [] };
  const problems: string[] = [];
  const lines = readline.createInterface({ input: fs.createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (line.trim() === '') continue;
    let record: z.infer<typeof recordSchema>;
    try {
      record = recordSchema.parse(JSON.parse(line));
    } catch (err) {
      const why = err instanceof z.ZodError ? err.issues.map((i) => `${i.path.join('.') || 'record'}: ${i.message}`).join('; ') : (err as Error).message;
      if (problems.length < MAX_PROBLEMS) problems.push(`line ${lineNo}: ${why}`);
      continue;
    }
    const dims = [record.vector, ...(record.details ?? [])].map((v) => v.length);
    if (data.dim === 0) data.dim = dims[0]!;
    if (dims.some((d) => d !== data.dim)) {
      if (problems.length < MAX_PROBLEMS) problems.push(`line ${lineNo}: vectors have ${dims.join('/')} dimensions, earlier ones ${data.dim}`);
      continue;
    }
    const v = normalize(Float32Array.from(record.vector));
    if (record.kind === 'image') {
      if (record.role === 'query') {
        if (problems.length < MAX_PROBLEMS) problems.push(`line ${lineNo}: an image cannot have role "query" (queries are texts)`);
        continue;
      }
      data.images.push({ id: record.id, identity: record.identity, role: record.role, vector: v });
    } else {
      if (record.role === 'gallery') {
        if (problems.length < MAX_PROBLEMS) problems.push(`line ${lineNo}: a text cannot have role "gallery" (the gallery is images)`);
        continue;
      }
      const details = (record.details ?? []).map((d) => normalize(Float32Array.from(d)));
      data.texts.push({ id: record.id, identity: record.identity, role: record.role, vector: v, details, ...(record.group ? { group: record.group } : {}) });
    }
  }
  if (problems.length > 0) {
    throw new ReferentError(ErrorCode.UsageInvalid, `The dataset ${file} has invalid records:\n  ${problems.join('\n  ')}`, { details: { problems } });
  }
  if (data.images.length === 0 || !data.texts.some((t) => t.role === 'query')) {
    throw new ReferentError(ErrorCode.UsageInvalid, `The dataset ${file} needs at least one image and one query text.`);
  }
  return data;
}
