/**
 * The engines bench's data (engine-bench.ts): a seeded synthetic catalogue of 512-d unit vectors
 * (CLIP ViT-B/16's dimension), clustered as clustered.ts makes them (about sqrt(n) centres, the
 * same spread), spread over collections of unequal size, with entities whose photos lie close
 * together and whose descriptions lie near them; and held-out queries drawn around the same centres
 * and entities with fresh noise, so no query is an indexed vector. The exact answers come from a
 * brute-force scan in JavaScript over the same vectors.
 */
import { gaussian, mulberry32, normalise } from './clustered.js';

/** Shares of the items in each collection: one large, some middling, one small (4%). */
export const COLLECTION_SHARES = [0.4, 0.25, 0.15, 0.1, 0.06, 0.04] as const;

export interface PlanText {
  body: string;
  vector: Float32Array;
  phrases: Array<{ body: string; vector: Float32Array }>;
}

export interface PlanEntity {
  label: string;
  /** Index into COLLECTION_SHARES: its photos are all in that collection. */
  collection: number;
  look: Float32Array;
  descriptions: PlanText[];
}

export interface PlanQuery {
  /** What the bench encoder maps to `vector` (refined search takes texts). */
  text: string;
  vector: Float32Array;
  /** The collection a filtered search of this query is limited to (each collection equally often). */
  collection: number;
  /** The entity the query is aimed at (its index), or -1 for a query near a cluster centre. */
  target: number;
}

export interface EnginePlan {
  dim: number;
  items: number;
  clusters: number;
  /** Item vectors in insertion order, item i at [i·dim, (i+1)·dim). */
  buffer: Float32Array;
  /** Collection index of each item. */
  collectionOf: Uint8Array;
  /** Entity index of each item, or -1 for an image nobody labelled. */
  entityOf: Int32Array;
  linkedItems: number;
  entities: PlanEntity[];
  warmup: PlanQuery[];
  queries: PlanQuery[];
}

export interface PlanOptions {
  items: number;
  entities: number;
  queries: number;
  warmup: number;
  dim: number;
  seed: number;
}

export const itemVector = (plan: EnginePlan, i: number): Float32Array => plan.buffer.subarray(i * plan.dim, (i + 1) * plan.dim);

export function makeEnginePlan(o: PlanOptions): EnginePlan {
  const rand = mulberry32(o.seed);
  const gauss = gaussian(rand);
  const noise = new Float32Array(o.dim);
  const unit = (out = new Float32Array(o.dim)): Float32Array => {
    for (let i = 0; i < o.dim; i++) out[i] = gauss();
    return normalise(out);
  };
  /** normalise(centre + spread · unit noise), written into `out`. */
  const near = (centre: Float32Array, spread: number, out = new Float32Array(o.dim)): Float32Array => {
    unit(noise);
    for (let i = 0; i < o.dim; i++) out[i] = centre[i]! + spread * noise[i]!;
    return normalise(out);
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const pickCollection = (): number => {
    let r = rand();
    for (const [c, share] of COLLECTION_SHARES.entries()) if ((r -= share) < 0) return c;
    return COLLECTION_SHARES.length - 1;
  };

  const clusters = Math.max(1, Math.round(Math.sqrt(o.items)));
  const centres = Array.from({ length: clusters }, () => unit());

  // Entities: 2–4 photos each (3 on average), in one collection; the rest of the items unlabelled.
  const entities: PlanEntity[] = [];
  const entityOf = new Int32Array(o.items).fill(-1);
  let linkedItems = 0;
  for (let e = 0; e < o.entities && linkedItems < o.items; e++) {
    const look = near(pick(centres), 0.6);
    const descriptions = Array.from({ length: 1 + Math.floor(rand() * 2) }, (_, d): PlanText => {
      const phrases = [`detail ${e}.${d}.a`, `detail ${e}.${d}.b`].map((body) => ({ body, vector: near(look, 0.7) }));
      return { body: `E${e} description ${d}: ${phrases.map((p) => p.body).join(', ')}`, vector: near(look, 0.6), phrases };
    });
    entities.push({ label: `E${e}`, collection: pickCollection(), look, descriptions });
    for (let n = 2 + Math.floor(rand() * 3); n > 0 && linkedItems < o.items; n--) entityOf[linkedItems++] = e;
  }
  // Shuffled, so the catalogue receives an entity's photos at different times, as a gallery does.
  for (let i = o.items - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [entityOf[i], entityOf[j]] = [entityOf[j]!, entityOf[i]!];
  }

  const buffer = new Float32Array(o.items * o.dim);
  const collectionOf = new Uint8Array(o.items);
  for (let i = 0; i < o.items; i++) {
    const e = entityOf[i]!;
    const out = buffer.subarray(i * o.dim, (i + 1) * o.dim);
    if (e >= 0) {
      near(entities[e]!.look, 0.35, out);
      collectionOf[i] = entities[e]!.collection;
    } else {
      near(pick(centres), 0.6, out);
      collectionOf[i] = pickCollection();
    }
  }

  // Held-out queries: half aimed at an entity (near its look), half near a cluster centre.
  const query = (i: number): PlanQuery => {
    const target = i % 2 === 0 && entities.length > 0 ? Math.floor(rand() * entities.length) : -1;
    const vector = target >= 0 ? near(entities[target]!.look, 0.5) : near(pick(centres), 0.6);
    return { text: `bench query ${i}`, vector, collection: i % COLLECTION_SHARES.length, target };
  };
  const all = Array.from({ length: o.warmup + o.queries }, (_, i) => query(i));
  return {
    dim: o.dim,
    items: o.items,
    clusters,
    buffer,
    collectionOf,
    entityOf,
    linkedItems,
    entities,
    warmup: all.slice(0, o.warmup),
    queries: all.slice(o.warmup),
  };
}

/** Every query text and its vector, for the bench encoder. */
export function queryTexts(plan: EnginePlan): Map<string, Float32Array> {
  return new Map([...plan.warmup, ...plan.queries].map((q) => [q.text, q.vector]));
}

/**
 * The k items nearest `q` by cosine (dot product: everything is unit length), best first, as item
 * indices; only items of `collection` when given. A plain scan over every vector.
 */
export function exactTopK(plan: EnginePlan, q: Float32Array, k: number, collection?: number): number[] {
  const { buffer, dim, collectionOf } = plan;
  const best: number[] = [];
  const scores: number[] = [];
  for (let i = 0; i < plan.items; i++) {
    if (collection !== undefined && collectionOf[i] !== collection) continue;
    let s = 0;
    const base = i * dim;
    for (let d = 0; d < dim; d++) s += buffer[base + d]! * q[d]!;
    if (best.length === k && s <= scores[k - 1]!) continue;
    if (best.length < k) {
      best.push(i);
      scores.push(s);
    } else {
      best[k - 1] = i;
      scores[k - 1] = s;
    }
    for (let j = best.length - 1; j > 0 && scores[j - 1]! < scores[j]!; j--) {
      [scores[j - 1], scores[j]] = [scores[j]!, scores[j - 1]!];
      [best[j - 1], best[j]] = [best[j]!, best[j - 1]!];
    }
  }
  return best;
}
