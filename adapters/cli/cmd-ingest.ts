import path from 'node:path';
import type { Config } from '../../src/config.js';
import { describeInference } from '../../src/encoder/encoder.js';
import { ErrorCode, ReferentError } from '../../src/errors.js';
import { defaultReadAhead, ingest, type IngestSummary } from '../../src/ingest/ingest.js';
import { defaultWorkerCount } from '../../src/ingest/preprocessor.js';
import { readSources } from '../../src/ingest/sources.js';
import { openReferent } from '../../src/open.js';
import type { CliValues } from './main.js';
import { createProgressBar } from './progress-bar.js';
import { describeOpen } from './report.js';

export async function runIngest(args: string[], values: CliValues, loadConfig: () => Config): Promise<number> {
  const [input] = args;
  if (!input || args.length > 1) throw new ReferentError(ErrorCode.UsageInvalid, 'Usage: referent ingest <folder | manifest.jsonl | manifest.csv> [--collection NAME]');
  if ((values.collection?.length ?? 0) > 1) throw new ReferentError(ErrorCode.UsageInvalid, 'ingest takes one --collection.');
  const config = loadConfig();
  const list = await readSources(path.resolve(input));
  const progress = createProgressBar();
  const referent = await openReferent(config, { progress });
  describeOpen(referent);
  const workers = config.ingestWorkers ?? defaultWorkerCount(referent.encoder.inference);
  const threads = workers === 0 ? 'the main thread' : `${workers} worker thread${workers === 1 ? '' : 's'}`;
  process.stderr.write(
    `Encoding on ${describeInference(referent.encoder)}, in batches of up to ${config.batchSize}; reading and decoding in ${threads}, up to ${defaultReadAhead(config.batchSize, workers)} images ahead.\n`,
  );

  // First Ctrl-C: finish the current batch and stop cleanly. Second: leave at once (still safe).
  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) process.exit(130);
    process.stderr.write('\nStopping after the current batch (Ctrl-C again to quit now)…\n');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  let summary: IngestSummary;
  const started = Date.now();
  try {
    summary = await ingest(referent, list, {
      collection: values.collection?.[0] ?? 'default',
      batchSize: config.batchSize,
      workers,
      maxImageBytes: config.maxImageBytes,
      maxTextChars: config.maxTextChars,
      progress,
      signal: abort.signal,
      ...(values.events ? { onEvent: (e) => process.stdout.write(`${JSON.stringify(e)}\n`) } : {}),
    });
  } finally {
    process.off('SIGINT', onSigint);
    await referent.shutdown();
  }
  printSummary(summary, (Date.now() - started) / 1000);
  if (summary.interrupted) return 130;
  return summary.failed.length > 0 ? 3 : 0;
}

function printSummary(s: IngestSummary, seconds: number): void {
  const out = process.stderr;
  const rate = seconds > 0 && s.added > 0 ? ` in ${seconds.toFixed(1)} s (${(s.added / seconds).toFixed(1)} images/s added)` : '';
  out.write(`${s.interrupted ? 'Interrupted. ' : ''}Added ${s.added}, skipped ${s.skipped} (already there), failed ${s.failed.length}${rate}.\n`);
  for (const f of s.failed.slice(0, 50)) out.write(`  failed ${f.origin}: ${f.reason} [${f.code}]\n`);
  if (s.failed.length > 50) out.write(`  … and ${s.failed.length - 50} more\n`);
  if (s.interrupted) out.write('Run the same command again to continue; added images are skipped.\n');
}
