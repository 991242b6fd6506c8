/**
 * The multi-modal references of every live entity, kept current, and the reference index (HNSW over
 * the text references and over the photo references) that lets an entity whose reference matches a
 * query bring its images in as candidates.
 *
 * Built from the catalogue at open; afterwards only the entities the catalogue's entity log names
 * are recomputed (`catchUp`), so an add, describe, confirm, reject or forget by this process or
 * another one takes effect on the next query. Nothing here is persisted: the catalogue is the truth.
 */
import type { Catalog, Entity, EntityMaterial } from '../catalog/catalog.js';
import { HnswIndex } from '../index/hnsw-index.js';
import type { FusionOptions } from '../method/fusion.js';
import { mergeEntityHits } from '../method/pipeline.js';
import { buildReference, type BuiltReference } from '../method/reference.js';
import { silentProgress, type Progress } from '../progress.js';

export interface ReferenceEntry {
  entity: Entity;
  ref: BuiltReference;
  /** What the reference was built from (for explanations: which photo or description matched). */
  material: EntityMaterial;
}

export interface ReferencesOptions {
  catalog: Catalog;
  modelId: string;
  dim: number;
  fusion: FusionOptions;
  hnsw: { m: number; efConstruction: number; efSearch: number };
  progress?: Progress;
}

export class References {
  private readonly entries = new Map<number, ReferenceEntry>();
  private readonly entityOfItem = new Map<number, number>();
  private readonly textIndex: HnswIndex;
  private readonly imageIndex: HnswIndex;
  private watermark = 0;

  private constructor(private readonly options: ReferencesOptions) {
    const make = () => HnswIndex.create({ dim: options.dim, m: options.hnsw.m, efConstruction: options.hnsw.efConstruction, efSearch: options.hnsw.efSearch });
    this.textIndex = make();
    this.imageIndex = make();
  }

  static open(options: ReferencesOptions): References {
    const refs = new References(options);
    const progress = options.progress ?? silentProgress;
    refs.watermark = options.catalog.lastEntitySeq();
    const ids = options.catalog.liveEntityIds();
    if (ids.length > 0) progress.start('Building entity references', ids.length, 'entities');
    for (const id of ids) {
      refs.refresh(id);
      progress.tick(1);
    }
    if (ids.length > 0) progress.stop();
    return refs;
  }

  /** Recomputes the entities changed since the last call (by any process); returns how many. */
  catchUp(): number {
    const changes = this.options.catalog.entityChangesSince(this.watermark);
    for (const id of changes.entityIds) this.refresh(id);
    this.watermark = changes.seq;
    return changes.entityIds.length;
  }

  /** Recomputes one entity's reference from the catalogue (or drops it when it is gone or empty). */
  refresh(entityId: number): void {
    const old = this.entries.get(entityId);
    for (const img of old?.material.images ?? []) if (this.entityOfItem.get(img.itemId) === entityId) this.entityOfItem.delete(img.itemId);
    const material = this.options.catalog.entityMaterial(entityId, this.options.modelId);
    if (!material || (material.images.length === 0 && material.texts.length === 0)) {
      this.entries.delete(entityId);
      this.textIndex.remove(String(entityId));
      this.imageIndex.remove(String(entityId));
      return;
    }
    const ref = buildReference({ entityId, images: material.images.map((i) => i.vector), texts: material.texts.map((t) => t.vector), details: dedupeDetails(material) }, this.options.fusion);
    this.entries.set(entityId, { entity: material.entity, ref, material });
    for (const img of material.images) this.entityOfItem.set(img.itemId, entityId);
    for (const [index, vector] of [[this.textIndex, ref.text], [this.imageIndex, ref.image]] as const) {
      if (vector) index.add(String(entityId), vector);
      else index.remove(String(entityId));
    }
  }

  get(entityId: number): ReferenceEntry | undefined {
    return this.entries.get(entityId);
  }

  /** The entity an image is linked to, as of the last catch-up. */
  entityOf(itemId: number): number | null {
    return this.entityOfItem.get(itemId) ?? null;
  }

  /** Up to `limit` images of the entity (newest last), as of the last catch-up. */
  imagesOf(entityId: number, limit: number): number[] {
    return (this.entries.get(entityId)?.material.images ?? []).slice(-limit).map((i) => i.itemId);
  }

  /** Entities whose text or photo reference best matches q, optionally within some collections. */
  search(q: Float32Array, k: number, collectionIds?: ReadonlySet<number>): number[] {
    const filter = collectionIds && ((id: string) => collectionIds.has(this.entries.get(Number(id))?.entity.collectionId ?? -1));
    const hits = (index: HnswIndex) => index.search(q, k, filter).map((h) => Number(h.id));
    return mergeEntityHits(hits(this.textIndex), hits(this.imageIndex), k);
  }

  size(): number {
    return this.entries.size;
  }
}

/** Detail phrases of the entity, newest kept when the same detail was written twice. */
function dedupeDetails(material: EntityMaterial): Float32Array[] {
  const byBody = new Map<string, Float32Array>();
  for (const p of material.phrases) {
    const key = p.body.toLocaleLowerCase();
    byBody.delete(key);
    byBody.set(key, p.vector);
  }
  return [...byBody.values()];
}
