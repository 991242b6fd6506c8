/** `referent eval <dataset>`: Rank-1/5/10, mAP and mINP, plain and refined, side by side. */
import path from 'node:path';
import type { Config } from '../../src/config.js';
import { ErrorCode, ReferentError } from '../../src/errors.js';
import { readAnnotations } from '../../src/eval/annotations.js';
import type { EvalDataset } from '../../src/eval/dataset.js';
import { readEmbeddingsJsonl } from '../../src/eval/embeddings-jsonl.js';
import { evaluate, type EvalReport } from '../../src/eval/evaluate.js';
import type { RankingMetrics } from '../../src/method/metrics.js';
import { loadEncoder } from '../../src/open.js';
import type { CliValues } from './main.js';
import { createProgressBar } from './progress-bar.js';

const usage = 'Usage: referent eval <embeddings.jsonl | annotations.json> [--no-refine] [--json] [--split test] [--reference-share 0.5] [--images DIR]';

export async function runEval(args: string[], values: CliValues, loadConfig: () => Config): Promise<number> {
  const [file, ...rest] = args;
  if (!file || rest.length > 0) throw new ReferentError(ErrorCode.UsageInvalid, usage);
  const config = loadConfig();
  const progress = createProgressBar();
  const data = await load(path.resolve(file), values, config, progress);
  const report = await evaluate(data, { params: config.method.pipeline, fusion: config.method.fusion, plainOnly: Boolean(values['no-refine']), progress });
  process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : formatReport(report));
  return 0;
}

async function load(file: string, values: CliValues, config: Config, progress: ReturnType<typeof createProgressBar>): Promise<EvalDataset> {
  if (!file.endsWith('.json')) return readEmbeddingsJsonl(file);
  const share = values['reference-share'] === undefined ? 0.5 : Number(values['reference-share']);
  if (!(share >= 0 && share <= 1)) throw new ReferentError(ErrorCode.UsageInvalid, '--reference-share is a number from 0 to 1.');
  const encoder = await loadEncoder(config, progress);
  try {
    return await readAnnotations(file, encoder, {
      split: values.split ?? 'test',
      referenceShare: share,
      ...(values.images ? { imagesDir: path.resolve(values.images) } : {}),
      maxImageBytes: config.maxImageBytes,
      batchSize: config.batchSize,
      progress,
    });
  } finally {
    await encoder.close();
  }
}

const f = (x: number | undefined) => (x === undefined ? '    -' : x.toFixed(2).padStart(6));

function row(name: string, m: RankingMetrics | null | undefined): string {
  if (!m) return '';
  return `${name.padEnd(12)} ${f(m.rank[1])} ${f(m.rank[5])} ${f(m.rank[10])} ${f(m.mAP)} ${f(m.mINP)}\n`;
}

function formatReport(r: EvalReport): string {
  const header = `${''.padEnd(12)} ${'R1'.padStart(6)} ${'R5'.padStart(6)} ${'R10'.padStart(6)} ${'mAP'.padStart(6)} ${'mINP'.padStart(6)}\n`;
  let out = `${r.plain.queries} queries over ${r.gallery} images; ${r.references} entities with references${r.plain.skipped ? `; ${r.plain.skipped} queries skipped (no relevant image)` : ''}.\n\n`;
  out += `all queries\n${header}${row('plain', r.plain)}${row('refined', r.refined)}`;
  for (const [name, g] of Object.entries(r.groups)) {
    out += `\n${name} (${g.plain.queries})\n${header}${row('plain', g.plain)}${row('refined', g.refined)}`;
  }
  if (r.refined) out += `\nRank-1 gain from refinement: ${(r.refined.rank[1]! - r.plain.rank[1]!).toFixed(2)} points.\n`;
  return out;
}
