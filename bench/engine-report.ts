/**
 * The engines bench's printed report: the run's setting and machine, a table per engine, and one
 * side-by-side summary.
 */
import type { IngestReport } from './engine-ingest.js';
import type { Latency, RefinedReport, SearchFigures, SearchReport, Truth } from './engine-measure.js';
import type { PgFacts } from './engine-postgres.js';
import type { ServersReport } from './engine-servers.js';

export interface EngineReport {
  engine: 'sqlite' | 'postgres';
  title: string;
  /** The index parameters in force. */
  params: string;
  /** What the image search figures call. */
  searchWith: string;
  ingest: IngestReport;
  ingestNote: string;
  build: { seconds: number; what: string };
  search: SearchReport;
  refined: RefinedReport & { openSeconds: number; openNote: string };
  servers: ServersReport | null;
  /** Resident memory of the bench process when this engine was done. */
  rssMiB: number;
  /** Where the data was kept (--keep), or null when it was removed. */
  location: string | null;
  facts?: PgFacts;
}

export interface RunSetting {
  items: number;
  dim: number;
  clusters: number;
  collections: string;
  entities: number;
  linkedItems: number;
  descriptions: number;
  queries: number;
  warmup: number;
  seed: number;
  machine: { cpus: number; model: string; memGiB: number; node: string; loadStart: number[]; loadEnd: number[] };
  truth: Truth;
  peakRssMiB: number;
  seconds: number;
}

const ms = (x: number): string => x.toFixed(2);
const rate = (x: number): string => String(Math.round(x));
const pad = (cells: readonly string[], widths: readonly number[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[0]!) : c.padStart(widths[i]!))).join('');

export function formatSetting(r: RunSetting): string[] {
  const m = r.machine;
  return [
    `Referent engines bench: ${r.items} items, ${r.dim}-d unit vectors (CLIP ViT-B/16's dimension) around ${r.clusters} centres, seed ${r.seed}`,
    `  ${r.collections}; ${r.entities} entities with ${r.linkedItems} linked photos and ${r.descriptions} descriptions`,
    `  ${r.queries} held-out queries (+${r.warmup} warm-up), k 10; recall@10 against an exact scan of the same vectors (JavaScript, one core: p50 ${ms(r.truth.scan.p50Ms)} ms)`,
    `machine: ${m.cpus} cores (${m.model}), ${m.memGiB.toFixed(0)} GiB, Node ${m.node}; load average ${m.loadStart.map((x) => x.toFixed(2)).join(' ')} at the start`,
    `  the cores are shared with other work and the database runs on the same machine: figures are indicative`,
  ];
}

function searchRows(s: SearchReport): string[] {
  const w = [44, 11, 9, 9];
  const row = (label: string, f: SearchFigures) => pad([`    ${label}`, f.recallAt10.toFixed(3), ms(f.p50Ms), ms(f.p95Ms)], w);
  return [
    pad(['    image search, k 10', 'recall@10', 'p50 ms', 'p95 ms'], w),
    row('all collections', s.all),
    row('one collection of 6', s.one),
    row(`  the smallest (4% of items; ${s.smallest.queries} queries)`, s.smallest),
  ];
}

export function formatEngine(r: EngineReport): string[] {
  const i = r.ingest;
  const w = [44, 11, 9, 9];
  const lat = (label: string, f: Latency) => pad([`    ${label}`, '', ms(f.p50Ms), ms(f.p95Ms)], w);
  const f = r.facts;
  return [
    `${r.title}: ${r.params}`,
    ...(f
      ? [
          `  PostgreSQL ${f.version}, pgvector ${f.pgvector}; ${Object.entries(f.settings)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`,
        ]
      : []),
    `  ingest (Catalog.addItem, one transaction each, 1 writer): ${i.single.items} items in ${i.single.seconds.toFixed(1)} s = ${rate(i.single.perSecond)} items/s`,
    `    per tenth of the items: ${i.single.tenths.map(rate).join(' ')} items/s; ${r.ingestNote}`,
    ...(i.concurrent
      ? [
          `    then ${i.concurrent.items} more by ${i.concurrent.writers} concurrent writers: ${rate(i.concurrent.perSecond)} items/s (1 writer on the ${i.concurrent.items} before them: ${rate(i.concurrent.singleBeforePerSecond)} items/s)`,
        ]
      : []),
    `  descriptions (Catalog.addText): ${i.texts.count} in ${i.texts.seconds.toFixed(1)} s`,
    `  index build: ${r.build.seconds.toFixed(1)} s (${r.build.what})`,
    `  search through ${r.searchWith}`,
    ...searchRows(r.search),
    pad([`    refined search (search(), limit 10)`, '', 'p50 ms', 'p95 ms'], w),
    lat('all collections', r.refined.all),
    lat('one collection of 6', r.refined.one),
    `    opened with openReferent in ${r.refined.openSeconds.toFixed(1)} s (${r.refined.openNote}, entity references built); aimed queries with their entity first: ${r.refined.aimedFirst.hits}/${r.refined.aimedFirst.aimed}`,
    ...(r.servers
      ? [
          `  two processes on one database (searchImages, k 10, one query at a time each, ${r.servers.queries} queries each): ` +
            `one alone ${rate(r.servers.alone)} q/s; two together ${rate(r.servers.together)} q/s (${r.servers.perProcess.map(rate).join(' + ')})`,
          `    both processes and the database share this machine's cores: this shows contention, not scale-out`,
        ]
      : []),
    `  bench process RSS after this engine: ${r.rssMiB.toFixed(0)} MiB${r.location ? `; data kept at ${r.location}` : ''}`,
  ];
}

/** One row per figure, one column per engine. */
export function formatSummary(reports: readonly EngineReport[], setting: RunSetting): string[] {
  const w = [46, ...reports.map(() => 24)];
  const row = (label: string, cell: (r: EngineReport) => string) => pad([label, ...reports.map(cell)], w);
  const pair = (a: Latency) => `${ms(a.p50Ms)} / ${ms(a.p95Ms)}`;
  const recall = (s: SearchReport) => `${s.all.recallAt10.toFixed(3)} / ${s.one.recallAt10.toFixed(3)}`;
  return [
    `Side by side (${setting.items} items; total run ${(setting.seconds / 60).toFixed(1)} min; peak RSS of the bench process ${setting.peakRssMiB.toFixed(0)} MiB)`,
    pad(['', ...reports.map((r) => (r.engine === 'sqlite' ? 'SQLite + HNSW' : 'PostgreSQL + pgvector'))], w),
    row('ingest, items/s (1 writer)', (r) => rate(r.ingest.single.perSecond)),
    row('ingest, items/s (4 writers, last items)', (r) => (r.ingest.concurrent ? rate(r.ingest.concurrent.perSecond) : '—')),
    row('index build, s', (r) => r.build.seconds.toFixed(1)),
    row('recall@10: all / one collection', (r) => recall(r.search)),
    row('recall@10: smallest collection', (r) => r.search.smallest.recallAt10.toFixed(3)),
    row('search p50 / p95 ms: all', (r) => pair(r.search.all)),
    row('search p50 / p95 ms: one collection', (r) => pair(r.search.one)),
    row('refined p50 / p95 ms: all', (r) => pair(r.refined.all)),
    row('refined p50 / p95 ms: one collection', (r) => pair(r.refined.one)),
    row('open (openReferent), s', (r) => r.refined.openSeconds.toFixed(1)),
    row('q/s, 1 process / 2 processes', (r) => (r.servers ? `${rate(r.servers.alone)} / ${rate(r.servers.together)}` : '—')),
  ];
}
