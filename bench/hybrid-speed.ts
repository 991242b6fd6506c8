/**
 * What hybrid search (src/search/hybrid.ts) adds to search time at scale, end to end through the
 * product's `searchItems`: the data folder of refine-speed.ts (`items` clustered 512-d images,
 * `entities` entities with descriptions, written through the Catalog API), plus an OCR reading on
 * every image written with `Catalog.putOcr` as the OCR queue writes it (one transaction per image):
 * a part-number line `P-<5 digits> <WORD> <OBJECT> M<size>` and on about half a `LOT <4 digits>-B`
 * line. The photos of one entity share their entity's label (its part number); every other image
 * has a part number of its own; a few percent of images have no text.
 *
 *   npx tsx bench/hybrid-speed.ts [--items 100000] [--entities 10000] [--queries 200] [--json]
 *   (also --warmup, --seed, --ef-construction, --threads, --tmp: as refine-speed.ts)
 *
 * Every query is timed in three forms, alternating which goes first: (a) the descriptive words only
 * (no identifier: no lexical side, the path as before hybrid search), (b) the words plus an
 * identifier that exists (the entity's shared part number for a query aimed at an entity, else a
 * unique part number or a lot number), (c) the words plus a part number that exists nowhere. All
 * three forms get the same prepared vector, so the differences are the lexical side and its fusion
 * alone. Refined search (the product's default), with the CLIP-sized text tower and with the
 * zero-cost encoder; `Catalog.lexicalMatches` is also timed alone. A correctness figure: the share of
 * (b) queries whose first hit carries the identifier (up to 5 misses are listed). Benchmarks are not
 * tests: nothing here fails on a timing.
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createProgressBar } from '../adapters/cli/progress-bar.js';
import type { Catalog } from '../src/catalog/catalog.js';
import { SqliteCatalog } from '../src/catalog/sqlite-catalog.js';
import { parseConfig } from '../src/config.js';
import { OnnxSession } from '../src/encoder/onnx-runtime.js';
import { identifiersIn } from '../src/ocr/identifiers.js';
import type { OcrLine } from '../src/ocr/ocr.js';
import { dataPaths, openReferent, type Referent } from '../src/open.js';
import { type Progress, silentProgress } from '../src/progress.js';
import { queryTerms } from '../src/search/hybrid.js';
import { type SearchHit, searchItems, type SearchDeps } from '../src/search/search.js';
import { clipSizedTextTower } from './clip-sized-text-tower.js';
import { mulberry32 } from './clustered.js';
import {
  type BenchQuery,
  buildCatalogue,
  type Figures,
  figures,
  LookupEncoder,
  makePlan,
  parseRefineSpeedArgs,
  type Plan,
  type RefineSpeedOptions,
  seconds,
  TowerEncoder,
} from './refine-speed.js';

export type HybridSpeedOptions = RefineSpeedOptions;

type Form = 'a' | 'b' | 'c';
const FORMS: readonly Form[] = ['a', 'b', 'c'];
const FORM_LABEL: Record<Form, string> = {
  a: '(a) words only (no lexical side)',
  b: '(b) words + existing identifier',
  c: '(c) words + unknown identifier',
};

type IdentKind = 'shared part number' | 'unique part number' | 'lot number';

export interface EncoderFigures {
  /** ms per query, whole searchItems call. */
  total: Record<Form, Figures>;
  /** ms per query without the time inside encodeTexts. */
  searchOnly: Record<Form, Figures>;
  /** Per-query differences (b − a) and (c − a), ms, and as % of (a): p50 Δ / p50 (a), mean Δ / mean (a). */
  overhead: Record<'b' | 'c', { delta: Figures; pctP50: number; pctMean: number }>;
}

export interface HybridSpeedResult {
  options: HybridSpeedResultOptions;
  machine: { cpus: number; node: string };
  data: { items: number; linkedItems: number; entities: number; descriptions: number };
  build: { itemsSeconds: number; itemsPerSecond: number; textsSeconds: number };
  ocr: {
    seconds: number;
    /** Time inside Catalog.putOcr only. */
    putSeconds: number;
    itemsPerSecond: number;
    withText: number;
    sharedLabel: number;
    uniqueLabel: number;
    withLot: number;
    noText: number;
    identifiersStored: number;
    example: string[];
  };
  catalogueBytes: { before: number; after: number };
  open: { seconds: number; indexSource: string; references: number };
  tower: { modelMiB: number; threads: number };
  queries: { timed: number; warmup: number; limit: number; byKind: Record<IdentKind, number>; example: Record<Form, string> };
  withTower: EncoderFigures;
  zeroCost: EncoderFigures;
  /** Share of timed queries whose first hit (refined, tower run) carries the identifier of form (b), per form and identifier kind. */
  firstHitCarries: { a: number; b: number; byKind: Record<IdentKind, { queries: number; a: number; b: number }> };
  /** Share of timed queries whose first hit is the same image in (c) as in (a) (word matches may still fuse in (c)). */
  cSameFirstHitAsA: number;
  /** Up to 5 (b) queries whose first hit does not carry the identifier: the first hit, and the best hit that carries it (rank 1-based, null if none in the hits). */
  misses: Array<{ query: string; kind: IdentKind; first: MissHit | null; carrier: (MissHit & { rank: number }) | null }>;
  /** Catalog.lexicalMatches alone, ms per call, and what it found (mean per call). */
  lexical: Record<'b' | 'c' | 'identifiersOnly' | 'wordsOnly', { ms: Figures; items: number; identifierHits: number; wordHits: number }>;
  /** Share of (c) queries whose lexical side was not empty (word matches), so fusion ran. */
  cLexicalNotEmpty: number;
  unknownTexts: number;
}

interface MissHit {
  itemId: number;
  score: number;
  /** Refined components (initial, entity, feedback, final); all visual parts 0 for an image only the lexical side found. */
  components: SearchHit['components'];
  why: string | null;
}

type HybridSpeedResultOptions = Required<Omit<HybridSpeedOptions, 'tmpBase' | 'threads'>> & { threads: number };

const OCR_MODEL = 'bench/synthetic-labels';
const LABEL_WORDS = ['HEX', 'ZINC', 'STEEL', 'BRASS', 'NYLON', 'FLAT', 'SPRING', 'LOCK'];
const LABEL_OBJECTS = ['BOLT', 'NUT', 'WASHER', 'SCREW', 'BRACKET', 'HINGE', 'VALVE', 'CLAMP', 'GASKET', 'HOSE'];
const THREAD_SIZES = [3, 4, 5, 6, 8, 10, 12, 16];
const NO_TEXT_SHARE = 0.03;
const LOT_SHARE = 0.5;

interface Label {
  lines: string[];
  part: string;
  lot: string | null;
}

interface Labels {
  /** Per item in insertion order; null: no text. */
  ofItem: Array<Label | null>;
  /** Part numbers never issued (for the (c) queries). */
  unissued: string[];
}

/** Part number k of a space of 100 000 per prefix letter: P-00000 … P-99999, then Q-…, R-… */
const partNumber = (k: number): string => `${'PQRSTUVWXY'[Math.floor(k / 100_000)] ?? 'Z'}-${String(k % 100_000).padStart(5, '0')}`;

/** Deterministic labels: an entity's photos share its label, other images have their own; a few have none. */
function makeLabels(plan: Plan, o: { items: number; seed: number; spare: number }): Labels {
  const rand = mulberry32(o.seed + 7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const space = 100_000 * Math.ceil((o.items + plan.looks.length + o.spare) / 100_000);
  const codes = Int32Array.from({ length: space }, (_, i) => i);
  for (let i = space - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [codes[i], codes[j]] = [codes[j]!, codes[i]!];
  }
  let issued = 0;
  const label = (): Label => {
    const part = partNumber(codes[issued++]!);
    const lot = rand() < LOT_SHARE ? `LOT ${1000 + Math.floor(rand() * 9000)}-B` : null;
    return { lines: [`${part} ${pick(LABEL_WORDS)} ${pick(LABEL_OBJECTS)} M${pick(THREAD_SIZES)}`, ...(lot ? [lot] : [])], part, lot };
  };
  const ofEntity = plan.looks.map(() => label());
  const ofItem = Array.from({ length: o.items }, (_, i): Label | null => {
    if (rand() < NO_TEXT_SHARE) return null;
    const e = plan.itemEntity[i]!;
    return e >= 0 ? ofEntity[e]! : label();
  });
  return { ofItem, unissued: Array.from({ length: o.spare }, (_, k) => partNumber(codes[issued + k]!)) };
}

const box = (row: number): Array<[number, number]> => [
  [40, 60 + 40 * row],
  [600, 60 + 40 * row],
  [600, 92 + 40 * row],
  [40, 92 + 40 * row],
];

/** Writes a reading for every image (as the OCR queue does: itemsWithoutOcr in id order, one putOcr each). */
function writeReadings(file: string, plan: Plan, labels: Labels, progress: Progress): HybridSpeedResult['ocr'] {
  const catalog = SqliteCatalog.open(file);
  const rand = mulberry32(0x0c7);
  const counts = { withText: 0, sharedLabel: 0, uniqueLabel: 0, withLot: 0, noText: 0, identifiersStored: 0 };
  let example: string[] = [];
  let putNs = 0n;
  try {
    const total = catalog.countOcr().pending;
    progress.start('writing OCR readings (Catalog.putOcr)', total, 'items');
    const started = process.hrtime.bigint();
    let after = 0;
    let done = 0;
    for (let batch = catalog.itemsWithoutOcr(500, after); batch.length > 0; batch = catalog.itemsWithoutOcr(500, after)) {
      for (const item of batch) {
        after = item.id;
        const i = Number(item.hash.slice(1));
        const label = labels.ofItem[i];
        const lines: OcrLine[] = (label?.lines ?? []).map((text, row) => ({ text, confidence: 0.9 + 0.09 * rand(), box: box(row) }));
        const identifiers = [...new Set(lines.flatMap((l) => identifiersIn(l.text)))];
        const t = process.hrtime.bigint();
        if (!catalog.putOcr(item.id, { modelId: OCR_MODEL, lines, identifiers })) throw new Error(`image #${item.id} vanished`);
        putNs += process.hrtime.bigint() - t;
        if (!label) counts.noText++;
        else {
          counts.withText++;
          if (plan.itemEntity[i]! >= 0) counts.sharedLabel++;
          else counts.uniqueLabel++;
          if (label.lot) counts.withLot++;
          if (label.lot && example.length === 0) example = label.lines;
        }
        counts.identifiersStored += identifiers.length;
        if (++done % 500 === 0) progress.tick(500);
      }
    }
    progress.update?.(done);
    progress.stop();
    const s = seconds(started);
    return { seconds: s, putSeconds: Number(putNs) / 1e9, itemsPerSecond: done / s, ...counts, example };
  } finally {
    catalog.close();
  }
}

async function fileBytes(file: string): Promise<number> {
  let total = 0;
  for (const f of [file, `${file}-wal`]) total += await stat(f).then((s) => s.size, () => 0);
  return total;
}

interface HybridQuery {
  base: BenchQuery;
  text: Record<Form, string>;
  /** The (b) identifier, normalised (the first form identifiersIn gives). */
  ident: string;
  kind: IdentKind;
}

/**
 * The three forms of each single-phrase query of the plan. (b): the entity's shared part number
 * for an aimed query, else alternately a unique part number or a lot number of a random image.
 * Every form gets the vector of (a).
 */
function makeQueries(plan: Plan, labels: Labels): HybridQuery[] {
  const rand = mulberry32(0x9b1d);
  const withText = labels.ofItem.flatMap((l, i) => (l ? [i] : []));
  const unique = withText.filter((i) => plan.itemEntity[i]! < 0);
  const withLot = withText.filter((i) => labels.ofItem[i]!.lot !== null);
  const entityLabel = new Map<number, Label>();
  labels.ofItem.forEach((l, i) => {
    const e = plan.itemEntity[i]!;
    if (l && e >= 0) entityLabel.set(e, l);
  });
  const randomOf = (xs: number[]): Label | undefined => (xs.length ? labels.ofItem[xs[Math.floor(rand() * xs.length)]!]! : undefined);
  return plan.single.map((base, q) => {
    const shared = base.target === null ? undefined : entityLabel.get(base.target);
    const lotLabel = q % 4 === 3 ? randomOf(withLot) : undefined;
    const [kind, printed]: [IdentKind, string] = shared
      ? ['shared part number', shared.part]
      : lotLabel?.lot
        ? ['lot number', lotLabel.lot]
        : ['unique part number', (randomOf(unique) ?? randomOf(withText))!.part];
    const text = { a: base.text, b: `${base.text} ${printed}`, c: `${base.text} ${labels.unissued[q]!}` };
    const vector = plan.vectors.get(base.text)!;
    plan.vectors.set(text.b, vector);
    plan.vectors.set(text.c, vector);
    return { base, text, ident: identifiersIn(printed)[0]!, kind };
  });
}

interface Timed {
  totalMs: number;
  encodeMs: number;
  first: number | undefined;
  hits: SearchHit[];
}

async function timedSearch(deps: SearchDeps, encoder: { spentNs: bigint }, text: string, limit: number): Promise<Timed> {
  const spent = encoder.spentNs;
  const started = process.hrtime.bigint();
  const hits = await searchItems(deps, { text, limit, refine: true }, { maxTextChars: 2000 });
  const totalNs = process.hrtime.bigint() - started;
  return { totalMs: Number(totalNs) / 1e6, encodeMs: Number(encoder.spentNs - spent) / 1e6, first: hits[0]?.itemId, hits };
}

/** The three forms of every query, rotating which form goes first so none always runs on caches another warmed. */
async function measureForms(
  deps: SearchDeps,
  encoder: { spentNs: bigint },
  queries: readonly HybridQuery[],
  warmup: number,
  limit: number,
  progress: Progress,
  label: string,
): Promise<{ figures: EncoderFigures; timed: Array<Record<Form, Timed>> }> {
  progress.start(label, queries.length, 'queries');
  const timed: Array<Record<Form, Timed>> = [];
  for (const [q, query] of queries.entries()) {
    const out = {} as Record<Form, Timed>;
    for (let k = 0; k < FORMS.length; k++) {
      const form = FORMS[(q + k) % FORMS.length]!;
      out[form] = await timedSearch(deps, encoder, query.text[form], limit);
    }
    if (q >= warmup) timed.push(out);
    progress.tick(1);
  }
  progress.stop();
  const per = (form: Form, f: (t: Timed) => number) => figures(timed.map((t) => f(t[form])));
  const total = { a: per('a', (t) => t.totalMs), b: per('b', (t) => t.totalMs), c: per('c', (t) => t.totalMs) };
  const over = (form: 'b' | 'c') => {
    const delta = figures(timed.map((t) => t[form].totalMs - t.a.totalMs));
    return { delta, pctP50: (100 * delta.p50) / total.a.p50, pctMean: (100 * delta.mean) / total.a.mean };
  };
  return {
    figures: {
      total,
      searchOnly: { a: per('a', (t) => t.totalMs - t.encodeMs), b: per('b', (t) => t.totalMs - t.encodeMs), c: per('c', (t) => t.totalMs - t.encodeMs) },
      overhead: { b: over('b'), c: over('c') },
    },
    timed,
  };
}

/** Catalog.lexicalMatches alone on the queries' terms: (b), (c), (b)'s identifiers only, the words only. */
async function measureLexical(catalog: Catalog, queries: readonly HybridQuery[], warmup: number): Promise<{ figures: HybridSpeedResult['lexical']; cNotEmpty: number }> {
  const variants = {
    b: (q: HybridQuery) => queryTerms(q.text.b),
    c: (q: HybridQuery) => queryTerms(q.text.c),
    identifiersOnly: (q: HybridQuery) => ({ words: [], identifiers: queryTerms(q.text.b).identifiers }),
    wordsOnly: (q: HybridQuery) => ({ words: queryTerms(q.text.a).words, identifiers: [] }),
  };
  const names = Object.keys(variants) as Array<keyof typeof variants>;
  const ms = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<keyof typeof variants, number[]>;
  const found = Object.fromEntries(names.map((n) => [n, { items: 0, identifierHits: 0, wordHits: 0 }])) as Record<keyof typeof variants, { items: number; identifierHits: number; wordHits: number }>;
  let cNotEmpty = 0;
  for (const [q, query] of queries.entries()) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(q + k) % names.length]!;
      const terms = variants[name](query);
      const started = process.hrtime.bigint();
      const m = await catalog.lexicalMatches(terms);
      const took = Number(process.hrtime.bigint() - started) / 1e6;
      if (q < warmup) continue;
      ms[name].push(took);
      found[name].items += m.items.size;
      found[name].identifierHits += m.identifiers.size;
      found[name].wordHits += m.words.size;
      if (name === 'c' && m.items.size > 0) cNotEmpty++;
    }
  }
  const n = Math.max(1, queries.length - warmup);
  const figuresOf = (name: keyof typeof variants) => ({ ms: figures(ms[name]), items: found[name].items / n, identifierHits: found[name].identifierHits / n, wordHits: found[name].wordHits / n });
  return { figures: { b: figuresOf('b'), c: figuresOf('c'), identifiersOnly: figuresOf('identifiersOnly'), wordsOnly: figuresOf('wordsOnly') }, cNotEmpty: cNotEmpty / n };
}

/** Builds the data folder with OCR readings, opens it, times the three query forms; removes the folder. */
export async function runHybridSpeedBench(opts: HybridSpeedOptions, progress: Progress = silentProgress): Promise<HybridSpeedResult> {
  const o = { warmup: 20, limit: 10, dim: 512, seed: 42, efConstruction: 100, ...opts };
  if (o.entities * 4 > o.items) throw new Error(`--entities ${o.entities} needs at least ${o.entities * 4} items (2–4 images each)`);
  const threads = o.threads ?? Math.max(1, Math.min(4, availableParallelism()));
  const dir = await mkdtemp(join(o.tmpBase ?? tmpdir(), 'referent-hybrid-speed-'));
  let referent: Referent | undefined;
  let session: OnnxSession | undefined;
  try {
    const plan = makePlan(o);
    const file = dataPaths(dir).catalog;
    const { build, data } = buildCatalogue(file, plan, o, progress);
    const before = await fileBytes(file);
    const labels = makeLabels(plan, { items: o.items, seed: o.seed, spare: plan.single.length });
    const ocr = writeReadings(file, plan, labels, progress);
    const after = await fileBytes(file);
    const queries = makeQueries(plan, labels);

    const config = parseConfig({
      env: { REFERENT_DATA_DIR: dir, REFERENT_OFFLINE: '1', REFERENT_OCR: 'false', REFERENT_HNSW_EF_CONSTRUCTION: String(o.efConstruction), REFERENT_MODELS_DIR: join(dir, 'models') },
    });
    const lookup = new LookupEncoder(o.dim, plan.vectors);
    const started = process.hrtime.bigint();
    referent = await openReferent(config, { encoder: lookup, progress });
    const openSeconds = seconds(started);

    const bytes = clipSizedTextTower();
    const modelPath = join(dir, 'clip-vit-b16-text-sized.onnx');
    await writeFile(modelPath, bytes);
    session = await OnnxSession.open(modelPath, { threads });
    const tower = new TowerEncoder(lookup, session);

    const zeroDeps: SearchDeps = { catalog: referent.catalog, encoder: lookup, index: referent.index, references: referent.references, method: referent.method };
    const towerDeps: SearchDeps = { ...zeroDeps, encoder: tower };
    const withTower = await measureForms(towerDeps, tower, queries, o.warmup, o.limit, progress, 'timing (a)/(b)/(c), text tower');
    const zeroCost = await measureForms(zeroDeps, lookup, queries, o.warmup, o.limit, progress, 'timing (a)/(b)/(c), zero-cost encoder');
    const lexical = await measureLexical(referent.catalog, queries, o.warmup);

    // Correctness, from the tower run's first hits (untimed).
    const timedQueries = queries.slice(o.warmup);
    const carries = async (itemId: number | undefined, ident: string): Promise<boolean> => itemId !== undefined && ((await referent!.catalog.ocrOf(itemId))?.identifiers.includes(ident) ?? false);
    const kinds: IdentKind[] = ['shared part number', 'unique part number', 'lot number'];
    const byKind = Object.fromEntries(kinds.map((k) => [k, { queries: 0, a: 0, b: 0 }])) as Record<IdentKind, { queries: number; a: number; b: number }>;
    let carriesA = 0;
    let carriesB = 0;
    let sameFirst = 0;
    const misses: HybridSpeedResult['misses'] = [];
    for (const [i, query] of timedQueries.entries()) {
      const t = withTower.timed[i]!;
      const a = await carries(t.a.first, query.ident);
      const b = await carries(t.b.first, query.ident);
      const k = byKind[query.kind];
      k.queries++;
      if (a) {
        carriesA++;
        k.a++;
      }
      if (!b && misses.length < 5) {
        const hit = (h: SearchHit): MissHit => ({ itemId: h.itemId, score: h.score, components: h.components, why: h.why?.summary ?? null });
        const carried = await Promise.all(t.b.hits.map((h) => carries(h.itemId, query.ident)));
        const rank = carried.indexOf(true);
        misses.push({ query: query.text.b, kind: query.kind, first: t.b.hits[0] ? hit(t.b.hits[0]) : null, carrier: rank < 0 ? null : { ...hit(t.b.hits[rank]!), rank: rank + 1 } });
      }
      if (b) {
        carriesB++;
        k.b++;
      }
      if (t.c.first === t.a.first) sameFirst++;
    }
    const n = Math.max(1, timedQueries.length);

    return {
      options: { items: o.items, entities: o.entities, queries: o.queries, warmup: o.warmup, limit: o.limit, dim: o.dim, seed: o.seed, efConstruction: o.efConstruction, threads },
      machine: { cpus: cpus().length, node: process.version },
      data: { items: data.items, linkedItems: data.linkedItems, entities: data.entities, descriptions: data.descriptions },
      build,
      ocr,
      catalogueBytes: { before, after },
      open: { seconds: openSeconds, indexSource: referent.indexReport.source, references: referent.references.size() },
      tower: { modelMiB: bytes.length / 2 ** 20, threads },
      queries: {
        timed: timedQueries.length,
        warmup: o.warmup,
        limit: o.limit,
        byKind: Object.fromEntries(kinds.map((k) => [k, byKind[k].queries])) as Record<IdentKind, number>,
        example: timedQueries[0]?.text ?? { a: '', b: '', c: '' },
      },
      withTower: withTower.figures,
      zeroCost: zeroCost.figures,
      firstHitCarries: { a: carriesA / n, b: carriesB / n, byKind },
      cSameFirstHitAsA: sameFirst / n,
      misses,
      lexical: lexical.figures,
      cLexicalNotEmpty: lexical.cNotEmpty,
      unknownTexts: lookup.unknown,
    };
  } finally {
    await session?.close();
    await referent?.shutdown();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Human-readable report of one run. */
export function formatHybridSpeed(r: HybridSpeedResult): string {
  const o = r.options;
  const ms = (x: number) => x.toFixed(2).padStart(9);
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const row = (label: string, f: Figures) => `  ${label.padEnd(40)}${ms(f.p50)}${ms(f.p90)}${ms(f.mean)}`;
  const encoderRows = (title: string, e: EncoderFigures, withEncode: boolean): string[] => [
    title,
    ...FORMS.map((f) => row(`${FORM_LABEL[f]}`, e.total[f])),
    ...(['b', 'c'] as const).flatMap((f) => [
      row(`overhead (${f}) − (a), paired`, e.overhead[f].delta),
      `  ${`overhead (${f}), % of (a)`.padEnd(40)}${`${e.overhead[f].pctP50.toFixed(1)}%`.padStart(9)}${''.padStart(9)}${`${e.overhead[f].pctMean.toFixed(1)}%`.padStart(9)}   (p50 Δ / p50 (a); mean Δ / mean (a))`,
    ]),
    ...(withEncode ? FORMS.map((f) => row(`${f}: without encoding`, e.searchOnly[f])) : []),
  ];
  const ocr = r.ocr;
  const c = r.catalogueBytes;
  const lex = (label: string, l: HybridSpeedResult['lexical']['b']) =>
    `${row(label, l.ms)}   finds ${l.items.toFixed(1)} images (${l.identifierHits.toFixed(1)} by identifier, ${l.wordHits.toFixed(1)} by words)`;
  return [
    `Hybrid search bench: ${r.data.items} items (${r.data.linkedItems} linked), ${r.data.entities} entities, ${r.data.descriptions} descriptions; ${o.dim}-d, seed ${o.seed}`,
    `machine: ${r.machine.cpus} cores, Node ${r.machine.node}; HNSW efConstruction ${o.efConstruction}; refined search (product default), limit ${o.limit}`,
    `data build: items ${r.build.itemsSeconds.toFixed(1)} s (${Math.round(r.build.itemsPerSecond)}/s, Catalog.addItem), descriptions ${r.build.textsSeconds.toFixed(1)} s`,
    `OCR readings: ${r.data.items} written in ${ocr.seconds.toFixed(1)} s = ${Math.round(ocr.itemsPerSecond)} items/s (Catalog.putOcr, one transaction each: ${ocr.putSeconds.toFixed(1)} s inside putOcr)`,
    `  with text ${ocr.withText} (entity-shared label ${ocr.sharedLabel} = ${pct(ocr.sharedLabel / r.data.items)}, own label ${ocr.uniqueLabel}, with a LOT line ${ocr.withLot}), no text ${ocr.noText} (${pct(ocr.noText / r.data.items)}); ${ocr.identifiersStored} identifiers stored`,
    `  e.g. ${JSON.stringify(ocr.example)}`,
    `catalogue file: ${mib(c.before)} before the readings → ${mib(c.after)} after (+${mib(c.after - c.before)}, ${((c.after - c.before) / r.data.items).toFixed(0)} B per item)`,
    `open (openReferent): ${r.open.seconds.toFixed(1)} s, index ${r.open.indexSource}, ${r.open.references} entity references; text tower: CLIP ViT-B/16-sized, random weights, ${r.tower.modelMiB.toFixed(0)} MiB, ${r.tower.threads} threads`,
    `queries: ${r.queries.warmup} warm-up + ${r.queries.timed} timed, each in three forms (order rotated per query), same vector in every form; (b) identifiers: ${Object.entries(r.queries.byKind)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ')}`,
    ...FORMS.map((f) => `  e.g. ${f}: "${r.queries.example[f]}"`),
    '',
    `ms per query${' '.repeat(30)}${'p50'.padStart(9)}${'p90'.padStart(9)}${'mean'.padStart(9)}`,
    ...encoderRows('with the text tower:', r.withTower, true),
    ...encoderRows('zero-cost encoder (pure search, lexical side and fusion):', r.zeroCost, false),
    '',
    'Catalog.lexicalMatches alone (ms per call):',
    lex('(b) words + existing identifier', r.lexical.b),
    lex('(c) words + unknown identifier', r.lexical.c),
    lex('(b) identifier only, no words', r.lexical.identifiersOnly),
    lex('words only, no identifier', r.lexical.wordsOnly),
    '',
    `first hit carries the (b) identifier: (b) ${pct(r.firstHitCarries.b)}, (a) the same words without it ${pct(r.firstHitCarries.a)}  (text-tower run)`,
    ...Object.entries(r.firstHitCarries.byKind).map(([k, v]) => `  ${k}: (b) ${v.b}/${v.queries}, (a) ${v.a}/${v.queries}`),
    ...r.misses.flatMap((m) => {
      const show = (h: MissHit) =>
        `#${h.itemId} score ${h.score.toFixed(2)}${h.components ? ` (initial ${h.components.initial.toFixed(2)}, entity ${h.components.entity.toFixed(2)})` : ''}${h.why ? `: ${h.why}` : ''}`;
      return [
        `  miss (${m.kind}): "${m.query}"`,
        `    first hit ${m.first ? show(m.first) : 'none'}`,
        `    ${m.carrier ? `carrier at rank ${m.carrier.rank}: ${show(m.carrier)}` : 'no hit carries it'}`,
      ];
    }),
    `(c): lexical side not empty (word matches fused) in ${pct(r.cLexicalNotEmpty)} of queries; first hit the same as (a)'s in ${pct(r.cSameFirstHitAsA)}`,
    ...(r.unknownTexts > 0 ? [`warning: ${r.unknownTexts} texts had no prepared vector`] : []),
  ].join('\n');
}

async function main(): Promise<void> {
  const { json, ...opts } = parseRefineSpeedArgs(process.argv.slice(2));
  // A bar on a terminal, plain lines every 10% when stderr goes to a file.
  const result = await runHybridSpeedBench(opts, createProgressBar());
  console.log(json ? JSON.stringify(result, null, 2) : formatHybridSpeed(result));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
