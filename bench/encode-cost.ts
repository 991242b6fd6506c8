/**
 * What one text query costs to encode with a CLIP ViT-B/16-sized text tower, on this machine.
 *
 *   npx tsx bench/encode-cost.ts
 *
 * No real model can be downloaded here, so this times the random-weight, same-shaped stand-in from
 * `clip-sized-text-tower.ts` through the project's own `OnnxSession`: the cost is realistic, the
 * embeddings are meaningless. Benchmarks are not tests: nothing here fails on a timing, only on a
 * broken graph (non-finite output, wrong shape, padding that changes a result).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { OnnxSession, type TensorInput, type TensorOutput } from '../src/encoder/onnx-runtime.js';
import { mulberry32 } from '../src/random.js';
import { clipSizedTextTower } from './clip-sized-text-tower.js';

const VOCAB = 49408;
const END_OF_TEXT = 49407;
const START_OF_TEXT = 49406;
const EMBED_DIM = 512;
const WARMUP = 5;
const RUNS = 30;

type Int64Input = Extract<TensorInput, { type: 'int64' }>;

interface Batch {
  input_ids: Int64Input;
  attention_mask: Int64Input;
}

/** Right-padded token rows: start token, random words, end token, then zeros; `lengths[i]` ≤ seq. */
function batch(lengths: readonly number[], seq: number, rng: () => number): Batch {
  const ids = new BigInt64Array(lengths.length * seq);
  const mask = new BigInt64Array(lengths.length * seq);
  lengths.forEach((len, row) => {
    for (let t = 0; t < len; t++) {
      const id = t === 0 ? START_OF_TEXT : t === len - 1 ? END_OF_TEXT : Math.floor(rng() * (VOCAB - 2));
      ids[row * seq + t] = BigInt(id);
      mask[row * seq + t] = 1n;
    }
  });
  const dims = [lengths.length, seq];
  return { input_ids: { type: 'int64', data: ids, dims }, attention_mask: { type: 'int64', data: mask, dims } };
}

async function embed(session: OnnxSession, feeds: Batch): Promise<TensorOutput> {
  const out = (await session.run({ ...feeds }, ['text_embeds'])).text_embeds;
  if (out === undefined) throw new Error('no text_embeds');
  return out;
}

function check(out: TensorOutput, rows: number): void {
  if (out.dims.length !== 2 || out.dims[0] !== rows || out.dims[1] !== EMBED_DIM) {
    throw new Error(`text_embeds has shape [${out.dims.join(', ')}], expected [${rows}, ${EMBED_DIM}]`);
  }
  if (!out.data.every(Number.isFinite)) throw new Error('text_embeds has non-finite values');
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function time(session: OnnxSession, label: string, feeds: Batch, rows: number): Promise<void> {
  for (let i = 0; i < WARMUP; i++) check(await embed(session, feeds), rows);
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await embed(session, feeds);
    ms.push(performance.now() - start);
  }
  const sorted = [...ms].sort((a, b) => a - b);
  const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
  const f = (x: number): string => x.toFixed(2).padStart(7);
  console.log(`${label.padEnd(22)} mean ${f(mean)} ms   p50 ${f(quantile(sorted, 0.5))} ms   min ${f(sorted[0]!)} ms   max ${f(sorted.at(-1)!)} ms`);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'referent-encode-cost-'));
  try {
    let start = performance.now();
    const bytes = clipSizedTextTower();
    const generateMs = performance.now() - start;
    const path = join(dir, 'clip-vit-b16-text-sized.onnx');
    await writeFile(path, bytes);
    console.log(`model: ${(bytes.length / 2 ** 20).toFixed(1)} MiB (${bytes.length} bytes), generated in ${generateMs.toFixed(0)} ms`);

    start = performance.now();
    const session = await OnnxSession.open(path);
    console.log(`session opened in ${(performance.now() - start).toFixed(0)} ms (OnnxSession default threads, ${availableParallelism()} CPUs here)`);
    try {
      console.log(`inputs:  ${session.inputs.map((i) => `${i.name} ${i.type} [${i.shape.join(', ')}]`).join('; ')}`);
      console.log(`outputs: ${session.outputs.map((o) => `${o.name} ${o.type} [${o.shape.join(', ')}]`).join('; ')}`);

      const rng = mulberry32(7);
      // Sanity: padding must not change a row's embedding (masking and end-token pooling are wired right).
      const padded = batch([9, 16], 16, rng);
      const paddedOut = await embed(session, padded);
      check(paddedOut, 2);
      const alone: Batch = {
        input_ids: { type: 'int64', data: padded.input_ids.data.slice(0, 9), dims: [1, 9] },
        attention_mask: { type: 'int64', data: padded.attention_mask.data.slice(0, 9), dims: [1, 9] },
      };
      const aloneOut = await embed(session, alone);
      const diff = maxAbsDiff(aloneOut.data, paddedOut.data.subarray(0, EMBED_DIM));
      const norm = Math.hypot(...aloneOut.data);
      console.log(`padding check: max |Δ| ${diff.toExponential(2)} (embedding norm ${norm.toFixed(3)})`);
      if (!(diff <= 1e-4 * Math.max(1, norm))) throw new Error('padding changed the embedding: masking or pooling is wrong');

      console.log(`timings (${WARMUP} warm-up, ${RUNS} runs each):`);
      for (const seq of [8, 16, 32]) await time(session, `batch 1 × ${seq} tokens`, batch([seq], seq, rng), 1);
      await time(session, 'batch 4 × 16 tokens', batch([16, 12, 8, 5], 16, rng), 4);
    } finally {
      await session.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
