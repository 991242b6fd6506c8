/**
 * Vectors on PostgreSQL: how a Float32Array travels to and from a pgvector `vector` column, and the
 * registry of models (vector_models) that fixes each model's dimension and owns its HNSW index.
 *
 * - Written as pgvector's text form `[a,b,…]` with 9 significant digits per value, which names every
 *   float32 exactly (pgvector parses with strtof): what is stored is bit for bit what was given.
 * - Read through `vector_send(embedding)`, pgvector's binary form as bytea (int16 dim, int16 unused,
 *   then big-endian float4s): half the bytes of the text form, and no decimal parsing.
 * - A model's first vector fixes its dimension for the schema; a vector of another length is refused
 *   (MODEL_MISMATCH) before anything is written. vector_models rows are never deleted, so a process
 *   that saw a model once may remember it: re-embedding at another dimension takes another model id.
 */
import { createHash } from 'node:crypto';
import { ErrorCode, ReferentError } from '../../errors.js';
import { checkVector, dimensionMismatch } from '../roles/item-store.js';
import { type PgDb, sqlLiteral } from './pg-pool.js';

/** A Float32Array as pgvector's input text. */
export function vectorLiteral(v: Float32Array): string {
  let out = '[';
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    out += (i ? ',' : '') + (x === 0 ? (Object.is(x, -0) ? '-0' : '0') : x.toPrecision(9));
  }
  return `${out}]`;
}

/** The SQL that reads a vector column as `vector_send` bytes (see fromVectorBytes). */
export const vectorBytes = (column: string): string => `vector_send(${column})`;

/** pgvector's binary form (from vector_send) as a Float32Array. */
export function fromVectorBytes(bytes: Buffer): Float32Array {
  const dim = bytes.readUInt16BE(0);
  const out = new Float32Array(dim);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < dim; i++) out[i] = view.getFloat32(4 + 4 * i, false);
  return out;
}

/** HNSW's cap for the `vector` type. */
export const MAX_DIM = 2000;

/** The name of a model's HNSW index: a digest, since model ids are free text. */
export const hnswIndexName = (modelId: string): string => `item_vectors_hnsw_${createHash('sha256').update(modelId).digest('hex').slice(0, 16)}`;

/**
 * The dimension of each model, as recorded in vector_models, remembered once seen (rows are never
 * deleted or changed). `ensure` records a new model and makes its index.
 */
export class PgModels {
  private readonly dims = new Map<string, number>();

  constructor(
    private readonly db: PgDb,
    /** Quoted schema name. */
    private readonly s: string,
    /** For messages: where the catalogue is. */
    private readonly where: string,
  ) {}

  /** The model's recorded dimension, or null when no vector of it was ever stored. */
  async dimOf(modelId: string): Promise<number | null> {
    const known = this.dims.get(modelId);
    if (known !== undefined) return known;
    const [row] = await this.db.query<{ dim: number }>(`SELECT dim FROM ${this.s}.vector_models WHERE model_id = $1`, [modelId]);
    if (row) this.dims.set(modelId, row.dim);
    return row?.dim ?? null;
  }

  /**
   * Makes sure the model is recorded (with the vectors' dimension) and has its HNSW index, then
   * checks every vector against that dimension: MODEL_MISMATCH for one of another length or with a
   * value that is not finite. Runs before the write that stores the vectors, in a transaction of its
   * own when the model is new (CREATE INDEX must not hold up that write's locks).
   */
  async check(modelId: string, vectors: readonly Float32Array[]): Promise<number> {
    const first = vectors[0];
    if (!first) throw new RangeError('no vector to check');
    let dim = await this.dimOf(modelId);
    if (dim === null) dim = await this.ensure(modelId, first.length);
    for (const v of vectors) {
      if (v.length !== dim) throw dimensionMismatch(modelId, dim, v.length, this.where);
      checkVector(dim, v);
    }
    return dim;
  }

  /**
   * Records the model with this dimension when it is new, and makes its partial HNSW index; returns
   * the recorded dimension (another one when a process recorded it first). Under an advisory lock:
   * two processes meeting a new model at once must not both create its index.
   */
  async ensure(modelId: string, dim: number): Promise<number> {
    if (!Number.isInteger(dim) || dim < 1 || dim > MAX_DIM) {
      throw new ReferentError(ErrorCode.ModelMismatch, `Vectors of model "${modelId.slice(0, 80)}" have ${dim} dimensions; the PostgreSQL catalogue indexes 1 to ${MAX_DIM}.`, {
        details: { modelId, got: dim, max: MAX_DIM },
      });
    }
    const known = this.dims.get(modelId);
    if (known !== undefined) return known;
    const { s } = this;
    const model = sqlLiteral(modelId);
    // DDL takes no parameters: the model id is written as a literal, and so is the index predicate.
    const stored = await this.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('referent.vector_models'))`);
      await tx.query(`INSERT INTO ${s}.vector_models (model_id, dim) VALUES (${model}, ${dim}) ON CONFLICT (model_id) DO NOTHING`);
      const [row] = await tx.query<{ dim: number }>(`SELECT dim FROM ${s}.vector_models WHERE model_id = ${model}`);
      const recorded = row?.dim ?? dim;
      await tx.query(
        `CREATE INDEX IF NOT EXISTS ${hnswIndexName(modelId)} ON ${s}.item_vectors USING hnsw ((embedding::vector(${recorded})) vector_cosine_ops) WHERE model_id = ${model}`,
      );
      return recorded;
    });
    this.dims.set(modelId, stored);
    return stored;
  }
}
