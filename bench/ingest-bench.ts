/**
 * What `referent ingest` costs with a vision tower of CLIP ViT-B/16's size, on this machine, and
 * where the time goes (issue 18).
 *
 *   npm run bench:ingest -- [--photos 80] [--threads 1,2] [--batches 1,8,16,32] [--seed 1] [--device cpu|cuda] [--quick]
 *
 * No real model can be downloaded here, so the towers are random-weight stand-ins of the exact shape
 * (clip-sized-vision-tower.ts) in a model folder the production encoder loads (ingest-model-folder.ts),
 * in fp32, in the int8 form `vision_model_quantized.onnx` exports ship, and with int8 MatMul weights
 * (quantize-dynamic.ts). The photos are drawn with sharp (ingest-photos.ts). Printed, in one run, for
 * each variant: the vision tower alone on preprocessed tensors per batch size and thread count, the
 * agreement of its embeddings with fp32's, each ingest stage timed on its own, the whole `ingest` (in
 * a child process, so its peak memory is its own) on the same photos, and the time 100k photos would
 * take. Prints figures; never fails on one.
 */
import { fork } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { configVariables, parseConfig } from '../src/config.js';
import { OnnxSession } from '../src/encoder/onnx-runtime.js';
import { loadPreprocessorConfig } from '../src/encoder/preprocess.js';
import { benchModelFolder, BENCH_MODEL_ID } from './ingest-model-folder.js';
import { agreement, embedAll, prepare, spread, timeCatalogue, timeCell, timeMediaWrites, type Budget, type Cell, type DeviceChoice } from './ingest-measure.js';
import { photoSet, type Photo } from './ingest-photos.js';
import type { PipelineArgs, PipelineResult } from './ingest-pipeline-worker.js';

/** The variants measured; `variant` is what REFERENT_MODEL_VARIANT takes (ingest-model-folder.ts). */
const VARIANTS = [
  { variant: 'fp32', file: 'vision_model.onnx', note: 'float32' },
  { variant: 'quantized', file: 'vision_model_quantized.onnx', note: 'int8 as exports ship it: uint8 weights, MatMul and Conv' },
  { variant: 'qint8', file: 'vision_model_qint8.onnx', note: 'int8 weights on the MatMuls only (QInt8)' },
] as const;
type Variant = (typeof VARIANTS)[number]['variant'];
const ESTIMATE_PHOTOS = 100_000;
const USAGE = 'Usage: npm run bench:ingest -- [--photos N] [--threads 1,2] [--batches 1,8,16,32] [--seed S] [--device cpu|cuda] [--quick]';

function options() {
  const { values } = parseArgs({
    options: {
      photos: { type: 'string' },
      threads: { type: 'string' },
      batches: { type: 'string' },
      seed: { type: 'string', default: '1' },
      device: { type: 'string', default: 'cpu' },
      quick: { type: 'boolean', default: false },
    },
  });
  const list = (text: string) => text.split(',').map((s) => Number(s.trim()));
  const quick = values.quick!;
  const o = {
    quick,
    photos: Number(values.photos ?? (quick ? 10 : 80)),
    threads: list(values.threads ?? (quick ? '2' : '1,2')),
    batches: list(values.batches ?? (quick ? '1,8' : '1,8,16,32')),
    seed: Number(values.seed),
    device: values.device as DeviceChoice,
  };
  const whole = (n: number) => Number.isInteger(n) && n >= 1;
  if (!whole(o.photos) || !o.threads.every(whole) || !o.batches.every(whole) || !Number.isInteger(o.seed) || !['cpu', 'cuda'].includes(o.device)) {
    console.error(USAGE);
    process.exit(2);
  }
  return o;
}

const budget = (quick: boolean, batch: number): Budget =>
  quick ? { warmup: 1, minRuns: 1, minSeconds: 0, maxRuns: 1 } : { warmup: batch === 1 ? 3 : 1, minRuns: 2, minSeconds: 5, maxRuns: 50 };

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const f1 = (x: number) => x.toFixed(1);
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const hours = (seconds: number) => (seconds >= 3600 ? `${(seconds / 3600).toFixed(1)} h` : `${(seconds / 60).toFixed(0)} min`);

async function ortVersion(): Promise<string> {
  const path = fileURLToPath(new URL('../node_modules/onnxruntime-node/package.json', import.meta.url));
  return readFile(path, 'utf8').then((t) => (JSON.parse(t) as { version: string }).version, () => 'unknown');
}

function describePhotos(photos: readonly Photo[]): string {
  const mp = photos.map((p) => (p.width * p.height) / 1e6);
  const mb = photos.map((p) => p.bytes / 1e6);
  const jpeg = photos.filter((p) => p.format === 'jpeg').length;
  const range = (xs: number[]) => `${f1(Math.min(...xs))}–${f1(Math.max(...xs))}`;
  return `${photos.length} photos (${jpeg} JPEG, ${photos.length - jpeg} PNG): ${range(mp)} MP, ${range(mb)} MB, ${f1(mb.reduce((a, b) => a + b, 0))} MB in all`;
}

/** Runs one whole ingest in a child process (ingest-pipeline-worker.ts). */
function runPipeline(args: PipelineArgs): Promise<PipelineResult> {
  const worker = fileURLToPath(new URL('./ingest-pipeline-worker.ts', import.meta.url));
  // The parent runs under tsx: its loader flags (process.execArgv) let the child load TypeScript too.
  const child = fork(worker, [JSON.stringify(args)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the ingest worker exited with ${code} before answering`)));
    child.once('message', (m: { result?: PipelineResult; error?: string }) => (m.result ? resolve(m.result) : reject(new Error(`ingest worker: ${m.error}`))));
  });
}

function printGrid(label: string, cells: readonly Cell[], threads: readonly number[], batches: readonly number[]): void {
  console.log(`  ${label.padEnd(10)} ${batches.map((b) => `batch ${String(b).padStart(2)}`.padStart(10)).join('')}   images/s`);
  for (const t of threads) {
    const row = batches.map((b) => f1(cells.find((c) => c.threads === t && c.batch === b)!.imagesPerSecond).padStart(10)).join('');
    console.log(`    ${`${t} thread${t > 1 ? 's' : ''}`.padEnd(8)} ${row}`);
  }
}

/** A row of the stage table: name, then ms per image per variant with its share of the sum. */
function stageRow(name: string, values: readonly number[], sums?: readonly number[]): string {
  const cells = values.map((v, i) => `${f1(v).padStart(9)}${sums ? `${((100 * v) / sums[i]!).toFixed(0)}%`.padStart(5) : ''.padStart(5)}`);
  return `  ${name.padEnd(44)}${cells.join('  ')}`;
}

async function main(): Promise<void> {
  const o = options();
  const log = (line: string) => console.log(line);
  const started = new Date();
  console.log(`bench:ingest ${o.quick ? '(quick) ' : ''}${started.toISOString()}`);
  console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores, ${f1(os.totalmem() / 2 ** 30)} GiB; node ${process.version}; onnxruntime-node ${await ortVersion()}`);
  console.log(`load average at start: ${load()}`);

  const photos = await photoSet(o.photos, o.seed, undefined, log);
  console.log(describePhotos(photos));
  const modelDir = await benchModelFolder(undefined, log);
  console.log(`model: ${modelDir} (ViT-B/16-shaped towers, random weights)`);
  const work = await mkdtemp(join(os.tmpdir(), 'referent-bench-ingest-run-'));
  try {
    const env = { REFERENT_DATA_DIR: join(work, 'catalogue'), REFERENT_MODEL: modelDir, REFERENT_OFFLINE: '1' };
    const config = parseConfig({ env });
    const preprocess = await loadPreprocessorConfig(modelDir);
    const prepared = await prepare(photos, preprocess, config);
    console.log(`\nvision tower alone on prepared pixel_values (${o.quick ? '1 warm-up, 1 timed run' : 'warm-up excluded, ≥2 runs and ≥5 s'} per cell; device ${o.device}):`);
    const grids = new Map<Variant, Cell[]>();
    const embeddings = new Map<Variant, { vectors: Float32Array[]; msPerImage: number; cpuMsPerImage: number; threads: number }>();
    for (const v of VARIANTS) {
      const path = join(modelDir, 'onnx', v.file);
      const cells: Cell[] = [];
      for (const threads of o.threads) {
        const session = await OnnxSession.open(path, { threads, device: o.device });
        try {
          for (const batch of o.batches) cells.push(await timeCell(session, prepared.tensors, batch, threads, budget(o.quick, batch)));
        } finally {
          await session.close();
        }
      }
      grids.set(v.variant, cells);
      printGrid(v.variant, cells, o.threads, o.batches);
      // Every photo at the pipeline's own settings (its batch size, the encoder's default threads).
      const session = await OnnxSession.open(path, { device: o.device });
      try {
        embeddings.set(v.variant, { ...(await embedAll(session, prepared.tensors, config.batchSize)), threads: session.threads });
      } finally {
        await session.close();
      }
    }
    const best = (v: Variant) => grids.get(v)!.reduce((a, b) => (b.imagesPerSecond > a.imagesPerSecond ? b : a));
    const fp32 = embeddings.get('fp32')!.vectors;
    const spreadFp32 = spread(fp32);
    console.log(`  best cell per variant, and agreement with fp32 on the same ${photos.length} photos (cosine; own = the photo's fp32 embedding is its nearest):`);
    for (const v of VARIANTS) {
      const b = best(v.variant);
      const speedUp = b.imagesPerSecond / best('fp32').imagesPerSecond;
      const a = v.variant === 'fp32' ? undefined : agreement(fp32, embeddings.get(v.variant)!.vectors);
      console.log(
        `    ${v.variant.padEnd(10)} ${f1(b.imagesPerSecond).padStart(5)} images/s (batch ${b.batch}, ${b.threads} thread${b.threads === 1 ? '' : 's'}) ×${speedUp.toFixed(2)}` +
          (a ? `; cosine mean ${a.mean.toFixed(5)}, min ${a.min.toFixed(5)}, own ${a.ownNearest}/${photos.length}` : '') +
          `  [${v.note}]`,
      );
    }
    console.log(`    for scale: fp32 embeddings of different photos have cosine mean ${spreadFp32.mean.toFixed(4)}, max ${spreadFp32.max.toFixed(4)}`);

    console.log('\ningest stages, one image at a time (ms per image; inference at the pipeline\'s batch size and threads):');
    // As ingest's preparing worker stores a new photo: the thumbnail and pixel_values from one decode.
    const mediaWrite = await timeMediaWrites(photos, join(work, 'media'), config, undefined, preprocess.spec);
    const bounded = await timeMediaWrites(photos, join(work, 'media-2048'), config, 2048, preprocess.spec);
    const catalogue = await timeCatalogue(photos, prepared.hashes, fp32, config, BENCH_MODEL_ID, config.batchSize);
    const manifest = join(work, 'photos.jsonl');
    await writeFile(manifest, photos.map((p) => JSON.stringify({ image: p.path })).join('\n') + '\n');
    const pipelineEnv: Record<string, string> = {};
    if ('REFERENT_DEVICE' in configVariables) pipelineEnv.REFERENT_DEVICE = o.device;
    else if (o.device !== 'cpu') console.log('  (the encoder has no REFERENT_DEVICE setting: the pipeline runs on the CPU)');
    const pipelines = new Map<Variant, PipelineResult>();
    for (const v of VARIANTS) {
      const result = await runPipeline({ modelDir, variant: v.variant, manifest, dataDir: join(work, `data-${v.variant}`), env: pipelineEnv });
      if (result.added !== photos.length) console.log(`  ${v.variant} pipeline added ${result.added} of ${photos.length}: ${JSON.stringify(result.failed.slice(0, 3))}`);
      pipelines.set(v.variant, result);
    }
    const { read, hash, decode } = prepared.stages;
    const same = (x: number) => VARIANTS.map(() => x);
    const inference = VARIANTS.map((v) => embeddings.get(v.variant)!.msPerImage);
    const rows: Array<[string, number[]]> = [
      ['read file', same(read)],
      ['sha-256', same(hash)],
      // What ingest does for a new photo: the decode for the thumbnail also gives pixel_values.
      ['media write + pixel_values (one decode)', same(mediaWrite.put + (photos.length - mediaWrite.together) * decode / photos.length)],
      [`inference (batch ${config.batchSize}, ${embeddings.get('fp32')!.threads} threads)`, inference],
      ['catalogue + index', same(catalogue)],
    ];
    const sums = VARIANTS.map((_, i) => rows.reduce((s, r) => s + r[1][i]!, 0));
    const pipelineMs = (v: Variant) => pipelines.get(v)!.ingestMs / photos.length;
    console.log(`  ${'stage'.padEnd(44)}${VARIANTS.map((v) => `${v.variant.padStart(9)}     `).join('  ')}`);
    for (const [name, values] of rows) {
      console.log(stageRow(name, values, sums));
      if (name.startsWith('media write')) {
        console.log(stageRow(`  of which: the original (${mediaWrite.asPosted} of ${photos.length} kept as posted)`, same(mediaWrite.original)));
        console.log(stageRow(`  of which: the decode, thumbnail + pixel_values (${mediaWrite.together} of ${photos.length} together)`, same(mediaWrite.thumbnail)));
        console.log(stageRow('  for scale: pixel_values alone (a photo search)', same(decode)));
        console.log(stageRow('  instead, with REFERENT_ORIGINAL_MAX_SIDE=2048 (two decodes)', same(bounded.put + (photos.length - bounded.together) * decode / photos.length)));
      }
    }
    console.log(stageRow('sum of the stages', sums));
    console.log(stageRow('whole ingest, measured', VARIANTS.map((v) => pipelineMs(v.variant))));
    const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
    const posted = photos.reduce((n, p) => n + p.bytes, 0) / photos.length;
    console.log(
      `  media on disk per photo (original + thumbnail): ${kib(mediaWrite.storedBytes)} kept as posted, ` +
        `${kib(bounded.storedBytes)} with REFERENT_ORIGINAL_MAX_SIDE=2048; the posted files: ${kib(posted)}`,
    );

    const first = pipelines.get('fp32')!;
    console.log(
      `\nwhole \`referent ingest\` (ingest() on openReferent as the CLI runs it, in a process of its own; ${photos.length} photos; ` +
        `encoder on ${first.inference}, batches of up to ${first.batchSize}, ${first.workers} preparing worker${first.workers === 1 ? '' : 's'}):`,
    );
    for (const v of VARIANTS) {
      const r = pipelines.get(v.variant)!;
      const rate = (photos.length * 1000) / r.ingestMs;
      const ceiling = best(v.variant).imagesPerSecond;
      const atSettings = 1000 / embeddings.get(v.variant)!.msPerImage;
      console.log(
        `  ${v.variant.padEnd(10)} ${f1(rate)} images/s: ${((100 * rate) / ceiling).toFixed(0)}% of its best inference-only cell (${f1(ceiling)}), ` +
          `${((100 * rate) / atSettings).toFixed(0)}% of inference alone at its settings (${f1(atSettings)}); open ${f1(r.openMs / 1000)} s; ` +
          `peak RSS ${mib(r.maxRssBytes)} (${mib(r.ingestRssBytes)} sampled while ingesting)` +
          (r.pipeline ? `; ${r.pipeline.batches} batches, largest ${r.pipeline.largestBatch}, up to ${r.pipeline.peakAhead} images prepared ahead` : ''),
      );
    }

    // Where the share above goes: rate ÷ rate alone = (cores busy ÷ cores busy alone) × (inference CPU ÷ ingest CPU), exactly.
    const cores = os.availableParallelism();
    const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
    console.log(
      `\nCPU per photo (process CPU time, every thread; cores busy = CPU time ÷ (${cores} cores × wall time)); ` +
        'share of inference alone = (cores busy ÷ cores busy alone) × (inference CPU ÷ ingest CPU):',
    );
    for (const v of VARIANTS) {
      const r = pipelines.get(v.variant)!;
      const alone = embeddings.get(v.variant)!;
      const cpu = r.ingestCpuMs / photos.length;
      const busy = r.ingestCpuMs / (cores * r.ingestMs);
      const busyAlone = alone.cpuMsPerImage / (cores * alone.msPerImage);
      console.log(
        `  ${v.variant.padEnd(10)} whole ingest ${cpu.toFixed(0)} ms (cores busy ${pct(busy)}); inference alone at its settings ${alone.cpuMsPerImage.toFixed(0)} ms ` +
          `(cores busy ${pct(busyAlone)}); the rest ${(cpu - alone.cpuMsPerImage).toFixed(0)} ms. Share ${pct(busy / busyAlone)} × ${pct(alone.cpuMsPerImage / cpu)} ` +
          `= ${pct((busy / busyAlone) * (alone.cpuMsPerImage / cpu))}; 90% needs the rest under ${(alone.cpuMsPerImage / 9).toFixed(0)} ms with the cores as busy as alone`,
      );
    }

    console.log(`\n${ESTIMATE_PHOTOS / 1000}k photos on this machine:`);
    for (const v of VARIANTS) {
      const pipelineSeconds = (ESTIMATE_PHOTOS * pipelineMs(v.variant)) / 1000;
      const ceilingSeconds = ESTIMATE_PHOTOS / best(v.variant).imagesPerSecond;
      console.log(`  ${v.variant.padEnd(10)} ${hours(pipelineSeconds)} at the measured ingest rate; ${hours(ceilingSeconds)} if ingest kept up with the vision tower alone`);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
    console.log(`\nload average at end: ${load()}; ${f1((Date.now() - started.getTime()) / 1000)} s in all; caches (delete freely): ${join(os.tmpdir(), 'referent-bench-ingest')}`);
  }
}

await main();
