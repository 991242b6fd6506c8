/**
 * `npm run bench:refine2`: plain cosine against the refinement (the shipped defaults, or overrides)
 * on the second simulation (refine-sim2.ts), whose data the defaults were not chosen on. Prints each
 * seed and, over the seeds, the mean and the worst seed of Rank-1 and mAP: overall, for identities
 * with and without references, and per query kind (descriptions, photos, near-duplicate photos,
 * copies of a posted description).
 *
 *   npm run bench:refine2 [-- --seeds 1,2,3,4,5] [--params '{"entityWeight":0.5}']
 */
import { parseArgs } from 'node:util';
import { evaluate, type EvalReport } from '../src/eval/evaluate.js';
import type { RankingMetrics } from '../src/method/metrics.js';
import { DEFAULT_FUSION_OPTIONS, DEFAULT_PIPELINE } from '../src/method/defaults.js';
import { DEFAULT_SIM2, simulate2, toDataset2 } from './refine-sim2.js';

type Pick = (r: EvalReport) => { plain: RankingMetrics; refined: RankingMetrics | null } | undefined;
const KINDS: Array<[string, string]> = [
  ['descriptions', 'text'],
  ['photos', 'photo'],
  ['near-duplicate photos', 'photo: near-duplicate'],
  ['copies of a posted description', 'text: copy of a posted description'],
];
const ROWS: Array<[string, Pick]> = [
  ['all queries', (r) => ({ plain: r.plain, refined: r.refined })],
  ['identity has references', (r) => r.groups['identity has a reference']],
  ['identity has none', (r) => r.groups['identity has no reference']],
  ...KINDS.flatMap(([name, group]): Array<[string, Pick]> => [
    [name, (r) => r.groups[group]],
    [`  with references`, (r) => r.groups[`${group}, identity has a reference`]],
    [`  without`, (r) => r.groups[`${group}, identity has no reference`]],
  ]),
];

const f1 = (x: number) => x.toFixed(1).padStart(5);
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seeds: { type: 'string', default: '1,2,3,4,5' }, params: { type: 'string' } } });
  const seeds = values.seeds!.split(',').map(Number);
  const params = { ...DEFAULT_PIPELINE, ...(values.params ? (JSON.parse(values.params) as object) : {}) };
  console.log(`Second refinement simulation (a SIMULATION, not real data; the defaults were not chosen on it): ${DEFAULT_SIM2.identities} identities, ` +
    `${Math.round(DEFAULT_SIM2.referenced * 100)}% with references; seeds ${seeds.join(', ')}.${values.params ? ` Overrides: ${values.params}.` : ''}\n`);
  // [row][metric: R1 plain, R1 refined, mAP plain, mAP refined][seed]
  const table = ROWS.map(() => [[], [], [], []] as number[][]);
  for (const seed of seeds) {
    const report = await evaluate(toDataset2(simulate2({ ...DEFAULT_SIM2, seed })), { params, fusion: DEFAULT_FUSION_OPTIONS });
    const line: string[] = [];
    ROWS.forEach(([name, pick], i) => {
      const m = pick(report);
      if (!m) return;
      [m.plain.rank[1]!, m.refined!.rank[1]!, m.plain.mAP, m.refined!.mAP].forEach((x, k) => table[i]![k]!.push(x));
      if (i < 3) line.push(`${name}: R1 ${f1(m.plain.rank[1]!)} → ${f1(m.refined!.rank[1]!)}, mAP ${f1(m.plain.mAP)} → ${f1(m.refined!.mAP)}`);
    });
    console.log(`seed ${seed}  ${line.join(' | ')}`);
  }
  console.log(`\n${'queries'.padEnd(32)} ${['R1 plain', 'R1 refined', 'worst ΔR1', 'mAP plain', 'mAP refined', 'worst ΔmAP'].map((c) => c.padStart(12)).join('')}   (mean over seeds; worst: the seed where refined gains least)`);
  ROWS.forEach(([name], i) => {
    const [r1p, r1r, mp, mr] = table[i]!;
    if (r1p!.length === 0) return;
    const worst = (a: number[], b: number[]) => Math.min(...b.map((x, s) => x - a[s]!));
    const cells = [mean(r1p!), mean(r1r!), worst(r1p!, r1r!), mean(mp!), mean(mr!), worst(mp!, mr!)];
    console.log(`${name.padEnd(32)} ${cells.map((x) => f1(x).padStart(12)).join('')}`);
  });
}

await main();
