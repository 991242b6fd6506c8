/**
 * One `referent ingest` run in a process of its own, so its peak memory is its own: opens a data
 * folder on the benchmark model as the CLI does (openReferent with the configuration the CLI would
 * parse, preparing workers chosen as cmd-ingest.ts chooses them), ingests a manifest with the
 * production `ingest`, shuts down (saving the index), and answers the parent (ingest-bench.ts) with
 * its timings and memory over IPC.
 */
import { performance } from 'node:perf_hooks';
import { parseConfig } from '../src/config.js';
import { describeInference } from '../src/encoder/encoder.js';
import { ingest, type PipelineStats } from '../src/ingest/ingest.js';
import { defaultWorkerCount } from '../src/ingest/preprocessor.js';
import { readSources } from '../src/ingest/sources.js';
import { openReferent } from '../src/open.js';
import { cpuMsSince } from './ingest-measure.js';

export interface PipelineArgs {
  modelDir: string;
  variant: string;
  manifest: string;
  dataDir: string;
  /** Extra configuration variables (REFERENT_DEVICE where the encoder has one). */
  env?: Record<string, string>;
}

export interface PipelineResult {
  openMs: number;
  ingestMs: number;
  shutdownMs: number;
  added: number;
  failed: Array<{ origin: string; code: string; reason: string }>;
  batchSize: number;
  /** Where and how the encoder ran ("CPU, 2 threads"), and the preparing workers, as the CLI picks them. */
  inference: string;
  workers: number;
  pipeline?: PipelineStats;
  /** Peak resident set of the whole process (model load included), bytes. */
  maxRssBytes: number;
  /** Highest RSS sampled while ingesting (every 100 ms), bytes. */
  ingestRssBytes: number;
  /** CPU time of the process while ingesting (every thread: encoder, preparing workers, libvips, the main thread), ms. */
  ingestCpuMs: number;
}

async function run(a: PipelineArgs): Promise<PipelineResult> {
  const config = parseConfig({
    env: { REFERENT_DATA_DIR: a.dataDir, REFERENT_MODEL: a.modelDir, REFERENT_MODEL_VARIANT: a.variant, REFERENT_OFFLINE: '1', ...a.env },
  });
  let start = performance.now();
  const referent = await openReferent(config);
  const openMs = performance.now() - start;
  const list = await readSources(a.manifest);
  // As `referent ingest` (adapters/cli/cmd-ingest.ts) chooses them.
  const workers = config.ingestWorkers ?? defaultWorkerCount(referent.encoder.inference);
  let ingestRssBytes = process.memoryUsage.rss();
  const sampler = setInterval(() => (ingestRssBytes = Math.max(ingestRssBytes, process.memoryUsage.rss())), 100);
  start = performance.now();
  const cpu = process.cpuUsage();
  let summary: Awaited<ReturnType<typeof ingest>>;
  try {
    summary = await ingest(referent, list, {
      collection: 'bench',
      batchSize: config.batchSize,
      workers,
      maxImageBytes: config.maxImageBytes,
      maxTextChars: config.maxTextChars,
    });
  } finally {
    clearInterval(sampler);
  }
  const ingestMs = performance.now() - start;
  const ingestCpuMs = cpuMsSince(cpu);
  const inference = describeInference(referent.encoder);
  start = performance.now();
  await referent.shutdown();
  const shutdownMs = performance.now() - start;
  return {
    openMs,
    ingestMs,
    shutdownMs,
    added: summary.added,
    failed: summary.failed,
    batchSize: config.batchSize,
    inference,
    workers,
    ...(summary.pipeline ? { pipeline: summary.pipeline } : {}),
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    ingestRssBytes,
    ingestCpuMs,
  };
}

/** Sends one message and lets the process end once it is delivered. */
const answer = (message: unknown) => process.send!(message, () => process.disconnect());
try {
  answer({ result: await run(JSON.parse(process.argv[2] ?? '{}') as PipelineArgs) });
} catch (err) {
  process.exitCode = 1;
  answer({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
}
