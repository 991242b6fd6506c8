/**
 * The image index when the catalogue's own database searches vectors (PostgreSQL + pgvector): every
 * Referent process on the database asks the same HNSW index, which the database keeps up to date
 * in the transaction that stores an item. So this process keeps no graph, no copy of the vectors
 * and no snapshot: nothing to build at start, nothing to follow, nothing to save, and what any
 * process committed is searchable by all the others at once.
 */
import type { Catalog } from '../catalog/catalog.js';
import { float32Vectors, type CandidateVectors } from '../method/refine.js';
import type { ImageIndex, ItemHit } from './image-index.js';

/** What a catalogue that searches its own vectors offers besides the Catalog seam (PgCatalog). */
export interface VectorSearch {
  /** Top-k live items of the model by cosine, best first, optionally only those of some collections. */
  searchImages(modelId: string, query: Float32Array, k: number, collectionIds?: ReadonlySet<number>): Promise<ItemHit[]>;
  /** Live items' vectors for the model; absent ones are left out. */
  imageVectors(modelId: string, itemIds: readonly number[]): Promise<Map<number, Float32Array>>;
}

export class DatabaseImageIndex implements ImageIndex {
  constructor(
    private readonly vectors: VectorSearch,
    private readonly catalog: Pick<Catalog, 'countItemVectors' | 'location'>,
    private readonly modelId: string,
  ) {}

  async catchUp(): Promise<number> {
    return 0;
  }

  search(query: Float32Array, k: number, collectionIds?: ReadonlySet<number>): Promise<ItemHit[]> {
    return this.vectors.searchImages(this.modelId, query, k, collectionIds);
  }

  async vectorsOf(itemIds: readonly number[]): Promise<CandidateVectors> {
    return float32Vectors(await this.vectors.imageVectors(this.modelId, itemIds));
  }

  async itemVector(itemId: number): Promise<Float32Array | undefined> {
    return (await this.vectors.imageVectors(this.modelId, [itemId])).get(itemId);
  }

  count(): Promise<number> {
    return this.catalog.countItemVectors(this.modelId);
  }

  async holds(itemId: number): Promise<boolean> {
    return (await this.vectors.imageVectors(this.modelId, [itemId])).has(itemId);
  }

  async save(): Promise<void> {}

  async saveIfBehind(): Promise<void> {}

  async repairSnapshot(): Promise<null> {
    return null;
  }

  async describe(): Promise<string> {
    return `${await this.count()} images in pgvector's HNSW index, in the database (${this.catalog.location})`;
  }
}
