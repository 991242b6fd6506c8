/**
 * Row shapes and SQL fragments the PostgreSQL stores share. Times are timestamptz in the tables and
 * epoch milliseconds at the interface: written from the caller's clock (so both engines stamp a row
 * the same way) and read back exactly (timestamptz keeps microseconds).
 */
import type { Entity, Item } from '../catalog.js';

/** A timestamptz column as epoch ms (bigint, parsed to a number by pg-pool). */
export const msOf = (column: string): string => `round(extract(epoch FROM ${column}) * 1000)::bigint`;

/** Bound parameter $n (epoch ms) as a timestamptz. */
export const atParam = (n: number): string => `to_timestamp($${n}::float8 / 1000)`;

export interface ItemRow {
  id: number;
  collection_id: number;
  hash: string;
  media_key: string;
  width: number;
  height: number;
  caption: string | null;
  entity_id: number | null;
  label: string | null;
  source_platform: string;
  source_channel: string | null;
  source_user: string | null;
  source_ref: string | null;
  created_ms: number;
}

/** Items with their entity's label: append `WHERE i.…`. */
export const itemSelect = (s: string): string =>
  `SELECT i.id, i.collection_id, i.hash, i.media_key, i.width, i.height, i.caption, i.entity_id, e.label,
     i.source_platform, i.source_channel, i.source_user, i.source_ref, ${msOf('i.created_at')} AS created_ms
   FROM ${s}.items i LEFT JOIN ${s}.entities e ON e.id = i.entity_id`;

export const toItem = (r: ItemRow): Item => ({
  id: r.id,
  collectionId: r.collection_id,
  hash: r.hash,
  mediaKey: r.media_key,
  width: r.width,
  height: r.height,
  caption: r.caption,
  entityId: r.entity_id,
  entityLabel: r.label,
  source: { platform: r.source_platform, channel: r.source_channel, user: r.source_user, ref: r.source_ref },
  createdAt: r.created_ms,
});

export interface EntityRow {
  id: number;
  collection_id: number;
  label: string;
  kind: string;
  created_ms: number;
}

export const entitySelect = (s: string): string => `SELECT id, collection_id, label, kind, ${msOf('created_at')} AS created_ms FROM ${s}.entities`;

export const toEntity = (r: EntityRow): Entity => ({ id: r.id, collectionId: r.collection_id, label: r.label, kind: r.kind, createdAt: r.created_ms });

/** Rows keyed by id, handed back in the order of `ids` (unknown ids left out), as SQLite answers. */
export function inOrder<T>(ids: readonly number[], rows: readonly T[], idOf: (row: T) => number): Map<number, T> {
  const byId = new Map(rows.map((r) => [idOf(r), r] as const));
  const out = new Map<number, T>();
  for (const id of ids) {
    const row = byId.get(id);
    if (row !== undefined) out.set(id, row);
  }
  return out;
}

/** Search words as SQLite's FTS5 tokenizer (unicode61, remove_diacritics 2) cuts them: letters and digits, lower case, no diacritics. */
export function searchWords(text: string): string[] {
  return text.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}
