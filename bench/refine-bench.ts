/**
 * `npm run bench:refine`: the synthetic ambiguity benchmark (a simulation, see refine-sim.ts).
 * Prints Rank-1 / mAP for plain cosine and for the refinement built up one component at a time (an
 * ablation), on seeds the defaults were not chosen on. `--tune` searches the weights on seed 1 and
 * prints the best; `--write DIR` also writes each seed's dataset as JSONL for `referent eval`.
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

/** The ablation in the order: each row adds one component to the one above; the second row is the default. */
const ablation: Array<[string, Partial<PipelineParams> | null]> = [
  ['plain cosine', null],
  ['fusion only (the default)', { detailWeight: 0, refspaceWeight: 0 }],
  ['+ details (weight 1)', { detailWeight: 1, refspaceWeight: 0 }],
  ['+ reference space (λ_r = 1)', { detailWeight: 1, refspaceWeight: 1 }],
];

function run(data: EvalDataset, params: PipelineParams | null): EvalReport {
  return evaluate(data, { params: params ?? DEFAULT_PIPELINE, fusion: DEFAULT_FUSION_OPTIONS, plainOnly: params === null });
}

const pick = (r: EvalReport) => r.refined ?? r.plain;
const pickGroup = (r: EvalReport, g: string) => (r.refined ? r.groups[g]?.refined : r.groups[g]?.plain)!;
const f1 = (x: number) => x.toFixed(1).padStart(5);

function tune(): void {
  const data = toDataset(simulate({ ...DEFAULT_SIM, seed: 1 }));
  const plain = run(data, null);
  const floor = plain.groups['identity has no reference']!.plain.rank[1]! - 1;
  let best: { params: PipelineParams; r1: number } | null = null;
  for (const entityWeight of [0.25, 0.5, 1])
    for (const refspaceWeight of [0, 1, 2, 3])
      for (const noneLevel of [2, 3])
        for (const profileTau of [0.5, 1]) {
          const params = { ...DEFAULT_PIPELINE, entityWeight, refspaceWeight, noneLevel, profileTau };
          const r = run(data, params);
          const r1 = r.refined!.rank[1]!;
          const unref = r.groups['identity has no reference']!.refined!.rank[1]!;
          const ok = unref >= floor;
          console.log(`λe ${entityWeight} λr ${refspaceWeight} none ${noneLevel} τ ${profileTau}: R1 ${f1(r1)}  no-reference R1 ${f1(unref)}${ok ? '' : ' (loses on identities without references)'}`);
          if (ok && (!best || r1 > best.r1)) best = { params, r1 };
        }
  console.log(`\nplain R1 ${f1(plain.plain.rank[1]!)}; best on seed 1 without loss on identities lacking references:`, best && JSON.stringify(best.params));
}

function bench(): void {
  const seeds = values.seeds!.split(',').map(Number);
  console.log(`Synthetic ambiguity benchmark (a SIMULATION, not real data): ${DEFAULT_SIM.entities} entities in look-alike families of ${DEFAULT_SIM.familySize}, ` +
    `${Math.round(DEFAULT_SIM.referenced * 100)}% with references; seeds ${seeds.join(', ')} (defaults were chosen on seed 1).\n`);
  const rows = ablation.map(([name]) => ({ name, r1: [] as number[], map: [] as number[], amb: [] as number[], ambRef: [] as number[], ref: [] as number[], unref: [] as number[] }));
  for (const seed of seeds) {
    const records = simulate({ ...DEFAULT_SIM, seed });
    if (values.write) {
      fs.mkdirSync(values.write, { recursive: true });
      const file = path.join(values.write, `refine-sim-seed${seed}.jsonl`);
      fs.writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
      console.log(`wrote ${file}`);
    }
    const data = toDataset(records);
    ablation.forEach(([, overrides], i) => {
      const r = run(data, overrides && { ...DEFAULT_PIPELINE, ...overrides });
      rows[i]!.r1.push(pick(r).rank[1]!);
      rows[i]!.map.push(pick(r).mAP);
      rows[i]!.amb.push(pickGroup(r, 'ambiguous').rank[1]!);
      rows[i]!.ambRef.push(pickGroup(r, 'ambiguous, identity has a reference').rank[1]!);
      rows[i]!.ref.push(pickGroup(r, 'identity has a reference').rank[1]!);
      rows[i]!.unref.push(pickGroup(r, 'identity has no reference').rank[1]!);
    });
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const cols = ['R1', 'mAP', 'R1 ambiguous', 'R1 amb., ref', 'R1 id with ref', 'R1 id without'];
  console.log(`\n${'method'.padEnd(36)} ${cols.map((c) => c.padStart(16)).join('')}   (mean over seeds)`);
  for (const row of rows) console.log(`${row.name.padEnd(36)} ${[row.r1, row.map, row.amb, row.ambRef, row.ref, row.unref].map((xs) => f1(mean(xs)).padStart(16)).join('')}`);
  console.log('\nper seed, R1 of all queries | ambiguous queries | ambiguous queries about an identity with references:');
  for (const row of rows) console.log(`${row.name.padEnd(36)} ${row.r1.map(f1).join(' ')} | ${row.amb.map(f1).join(' ')} | ${row.ambRef.map(f1).join(' ')}`);
}

if (values.tune) tune();
else bench();
