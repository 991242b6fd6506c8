/**
 * `npm run bench:refine`: the synthetic ambiguity benchmark (a simulation, see refine-sim.ts).
 * Prints Rank-1 / mAP for plain cosine, for the refinement (the defaults) and for it without each of
 * its two reference terms (an ablation), on seeds the defaults were not chosen on. `--tune` searches
 * the weights on seed 1 and prints the best; `--write DIR` also writes each seed's dataset as JSONL
 * for `referent eval`. The queries are descriptions only; bench:refine2 asks photos too.
 *
 *   npm run bench:refine [-- --seeds 2,3,4,5] [--tune] [--write bench/out]
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { EvalDataset } from '../src/eval/dataset.js';
import { evaluate, type EvalReport } from '../src/eval/evaluate.js';
import { DEFAULT_FUSION_OPTIONS, DEFAULT_PIPELINE } from '../src/method/defaults.js';
import type { PipelineParams } from '../src/method/pipeline.js';
import { DEFAULT_SIM, simulate, type SimRecord } from './refine-sim.js';

const { values } = parseArgs({ options: { seeds: { type: 'string', default: '2,3,4,5' }, tune: { type: 'boolean' }, write: { type: 'string' } } });

export function toDataset(records: readonly SimRecord[]): EvalDataset {
  const f = (v: number[]) => Float32Array.from(v);
  const images = records.filter((r) => r.kind === 'image').map((r) => ({ id: r.id, identity: r.identity, role: r.role as 'reference' | 'gallery', vector: f(r.vector) }));
  const texts = records
    .filter((r) => r.kind === 'text')
    .map((r) => ({ id: r.id, identity: r.identity, role: r.role as 'reference' | 'query', vector: f(r.vector), details: (r.details ?? []).map(f), ...(r.group ? { group: r.group } : {}) }));
  return { dim: records[0]!.vector.length, images, texts };
}

/** The default, and the default without one of the referent's terms: each must earn its place. */
const ablation: Array<[string, Partial<PipelineParams> | null]> = [
  ['plain cosine', null],
  ['refined (the default)', {}],
  ['  without description references', { textWeight: 0 }],
  ['  without photo references', { imageWeight: 0 }],
];

function run(data: EvalDataset, params: PipelineParams | null): Promise<EvalReport> {
  return evaluate(data, { params: params ?? DEFAULT_PIPELINE, fusion: DEFAULT_FUSION_OPTIONS, plainOnly: params === null });
}

const pick = (r: EvalReport) => r.refined ?? r.plain;
const pickGroup = (r: EvalReport, g: string) => (r.refined ? r.groups[g]?.refined : r.groups[g]?.plain)!;
const f1 = (x: number) => x.toFixed(1).padStart(5);

/** Refined no worse than plain, in Rank-1 and mAP, for queries about identities with references and without. */
function noLoss(r: EvalReport): boolean {
  return ['identity has a reference', 'identity has no reference'].every((g) => {
    const { plain, refined } = r.groups[g]!;
    return refined!.rank[1]! >= plain.rank[1]! && refined!.mAP >= plain.mAP;
  });
}

async function tune(): Promise<void> {
  const data = toDataset(simulate({ ...DEFAULT_SIM, seed: 1 }));
  let best: { params: PipelineParams; r1: number } | null = null;
  for (const entityWeight of [0.5, 1, 2, 4, 8, 16, 32])
    for (const noneLevel of [2, 3])
      for (const profileTau of [0.5, 1]) {
        const params = { ...DEFAULT_PIPELINE, entityWeight, noneLevel, profileTau };
        const r = await run(data, params);
        const r1 = r.refined!.rank[1]!;
        const ok = noLoss(r);
        const group = (g: string) => `${f1(r.groups[g]!.plain.rank[1]!)} → ${f1(r.groups[g]!.refined!.rank[1]!)}`;
        console.log(`λe ${entityWeight} none ${noneLevel} τ ${profileTau}: R1 ${f1(r1)}  mAP ${f1(r.refined!.mAP)}  with references ${group('identity has a reference')}  without ${group('identity has no reference')}${ok ? '' : '  (loses somewhere)'}`);
        if (ok && (!best || r1 > best.r1)) best = { params, r1 };
      }
  console.log(`\nplain R1 ${f1((await run(data, null)).plain.rank[1]!)}; best on seed 1 with no loss for either group:`, best && JSON.stringify(best.params));
}

const COLUMNS: Array<[string, (r: EvalReport) => number]> = [
  ['R1', (r) => pick(r).rank[1]!],
  ['mAP', (r) => pick(r).mAP],
  ['R1 ambiguous', (r) => pickGroup(r, 'ambiguous').rank[1]!],
  ['R1 amb., ref', (r) => pickGroup(r, 'ambiguous, identity has a reference').rank[1]!],
  ['R1 id with ref', (r) => pickGroup(r, 'identity has a reference').rank[1]!],
  ['mAP id with ref', (r) => pickGroup(r, 'identity has a reference').mAP],
  ['R1 id without', (r) => pickGroup(r, 'identity has no reference').rank[1]!],
  ['mAP id without', (r) => pickGroup(r, 'identity has no reference').mAP],
];

async function bench(): Promise<void> {
  const seeds = values.seeds!.split(',').map(Number);
  console.log(`Synthetic ambiguity benchmark (a SIMULATION, not real data): ${DEFAULT_SIM.entities} entities in look-alike families of ${DEFAULT_SIM.familySize}, ` +
    `${Math.round(DEFAULT_SIM.referenced * 100)}% with references; seeds ${seeds.join(', ')} (defaults were chosen on seed 1).\n`);
  // [row][column][seed]
  const table = ablation.map(() => COLUMNS.map(() => [] as number[]));
  for (const seed of seeds) {
    const records = simulate({ ...DEFAULT_SIM, seed });
    if (values.write) {
      fs.mkdirSync(values.write, { recursive: true });
      const file = path.join(values.write, `refine-sim-seed${seed}.jsonl`);
      fs.writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
      console.log(`wrote ${file}`);
    }
    const data = toDataset(records);
    for (const [i, [, overrides]] of ablation.entries()) {
      const r = await run(data, overrides && { ...DEFAULT_PIPELINE, ...overrides });
      COLUMNS.forEach(([, get], c) => table[i]![c]!.push(get(r)));
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const line = (name: string, cells: number[]) => console.log(`${name.padEnd(34)} ${cells.map((x) => f1(x).padStart(16)).join('')}`);
  console.log(`\n${'method'.padEnd(34)} ${COLUMNS.map(([c]) => c.padStart(16)).join('')}   (mean over seeds)`);
  ablation.forEach(([name], i) => line(name, table[i]!.map(mean)));
  // The worst seed for the default: the least it gained over plain cosine on any seed, per column.
  line('refined − plain, worst seed', COLUMNS.map((_, c) => Math.min(...table[1]![c]!.map((x, s) => x - table[0]![c]![s]!))));
  console.log('\nper seed, R1 of all queries | mAP of all queries:');
  ablation.forEach(([name], i) => console.log(`${name.padEnd(34)} ${table[i]![0]!.map(f1).join(' ')} | ${table[i]![1]!.map(f1).join(' ')}`));
}

if (values.tune) await tune();
else await bench();
