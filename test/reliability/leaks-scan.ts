/**
 * What counts as a leak, read straight from the catalogue's storage (a reader of its own, so the
 * checks do not go through the code they check, on either engine): which items, entities, media keys,
 * pictures and strings belong to collections a scope was not granted, whether any of them turns up
 * in what an edge sent, and whether a foreign collection's rows changed.
 */
import { createHash } from 'node:crypto';
import type { Referent } from '../../src/open.js';
import { normalizeIdentifier } from '../../src/ocr/identifiers.js';
import { type CollectionKey, SPECS } from './leaks-world.js';
import type { AuditRow, Row, StorageReader } from './storage.js';

export type { AuditRow } from './storage.js';

export const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export interface Census {
  items: Map<number, { collectionId: number; mediaKey: string | null; live: boolean }>;
  entities: Map<number, { collectionId: number; label: string; live: boolean }>;
  collections: Map<number, string>;
  /** Slack file ids the catalogue knows, to their media keys. */
  platformFiles: Map<string, string>;
}

const byId = (key: string) => (a: Row, b: Row) => (a[key] as number) - (b[key] as number);

/** Reads the catalogue behind the product's back. */
export class Inspector {
  /** Thumbnail sha256 → media key, for the keys read so far. */
  private readonly thumbs = new Map<string, string>();
  private readonly hashed = new Set<string>();

  constructor(
    private readonly referent: Referent,
    readonly reader: StorageReader,
  ) {}

  /** A table's rows in id order (`key`: the column that orders them). */
  async rows(table: string, key = 'id'): Promise<Row[]> {
    return (await this.reader.rows(table)).sort(byId(key));
  }

  async census(): Promise<Census> {
    const items = new Map<number, { collectionId: number; mediaKey: string | null; live: boolean }>();
    for (const r of await this.rows('items')) {
      items.set(r.id as number, { collectionId: r.collection_id as number, mediaKey: (r.media_key as string | null) ?? null, live: r.deleted_at === null });
    }
    const entities = new Map<number, { collectionId: number; label: string; live: boolean }>();
    for (const r of await this.rows('entities')) {
      entities.set(r.id as number, { collectionId: r.collection_id as number, label: String(r.label), live: r.deleted_at === null });
    }
    const collections = new Map((await this.rows('collections')).map((r) => [r.id as number, String(r.name)]));
    const platformFiles = new Map((await this.reader.rows('platform_files')).map((r) => [String(r.file_ref), String(r.media_key)]));
    return { items, entities, collections, platformFiles };
  }

  /**
   * Per collection, everything a chat action could change in it: its items, entities, the texts
   * and verdicts on them, what was read off its photos. Whole rows, so a column added later counts too.
   */
  async fingerprints(): Promise<Map<number, string>> {
    const parts = new Map<number, string[]>();
    const put = (collectionId: number | undefined, what: string, row: Row) => {
      if (collectionId === undefined) return;
      const list = parts.get(collectionId) ?? [];
      list.push(`${what}:${JSON.stringify(row, (_k, v: unknown) => (Buffer.isBuffer(v) ? sha(v) : v))}`);
      parts.set(collectionId, list);
    };
    const itemCollection = new Map<number, number>();
    const entityCollection = new Map<number, number>();
    for (const r of await this.rows('items')) {
      itemCollection.set(r.id as number, r.collection_id as number);
      put(r.collection_id as number, 'item', r);
    }
    for (const r of await this.rows('entities')) {
      entityCollection.set(r.id as number, r.collection_id as number);
      put(r.collection_id as number, 'entity', r);
    }
    const owner = (r: Row) => (r.item_id != null ? itemCollection.get(r.item_id as number) : entityCollection.get(r.entity_id as number));
    for (const r of await this.rows('texts')) put(owner(r), 'text', r);
    for (const r of await this.rows('feedback')) put(owner(r), 'verdict', r);
    for (const r of await this.rows('item_ocr', 'item_id')) put(owner(r), 'ocr', r);
    return new Map([...parts].map(([id, list]) => [id, sha(Buffer.from(list.join('\n')))]));
  }

  lastAuditId(): Promise<number> {
    return this.reader.lastAuditId();
  }

  auditSince(id: number): Promise<AuditRow[]> {
    return this.reader.auditSince(id);
  }

  /** The media key whose card thumbnail these bytes are, or null. */
  async thumbnailKey(bytes: Uint8Array, census: Census): Promise<string | null> {
    const wanted = sha(bytes);
    for (const { mediaKey } of census.items.values()) {
      if (!mediaKey || this.hashed.has(mediaKey)) continue;
      this.hashed.add(mediaKey);
      const thumb = await this.referent.media.readThumbnail(mediaKey).catch(() => null);
      if (thumb) this.thumbs.set(sha(thumb), mediaKey);
    }
    return this.thumbs.get(wanted) ?? null;
  }

  close(): Promise<void> {
    return this.reader.close();
  }
}

/** What a scope may see, and what the probe itself typed (an echo of it is no leak). */
export interface ScanContext {
  visible: ReadonlySet<number>;
  typed: readonly string[];
  /** Bytes behind a Slack file id the catalogue does not map: uploaded thumbnails and posted photos. */
  slackFile?: (id: string) => { bytes: Uint8Array; posted: boolean } | undefined;
  mediaHash: (bytes: Uint8Array) => string;
  thumbnailKey: (bytes: Uint8Array) => Promise<string | null>;
}

/** Strings that name or describe something in a foreign collection, with what they are. */
function foreignStrings(census: Census, visible: ReadonlySet<number>, ids: Record<CollectionKey, number>): Array<[string, string]> {
  const visibleLabels = new Set([...census.entities.values()].filter((e) => e.live && visible.has(e.collectionId)).map((e) => e.label.toLowerCase()));
  const out: Array<[string, string]> = [];
  for (const spec of SPECS) {
    if (visible.has(ids[spec.key])) continue;
    const of = `of ${spec.name}`;
    out.push([spec.secret, `secret word ${of}`], [spec.tag, `tag ${of}`], [spec.name, 'collection name']);
    out.push([spec.ident, `label text ${of}`], [normalizeIdentifier(spec.ident), `identifier ${of}`]);
    for (const label of spec.labels) if (!visibleLabels.has(label.toLowerCase())) out.push([label, `entity label ${of}`]);
  }
  return out.map(([s, what]) => [s.toLowerCase(), what]);
}

const ACTION_VALUE = /^\{"v":1,/;
const HEX_KEY = /[0-9a-f]{64}/g;
const DATA_URI = /^data:image\/[a-z]+;base64,(.+)$/s;

/**
 * Every leak in one output (replies, cards, platform calls) and the files that went with it; one line
 * each, saying where it was and what it gave away.
 */
export async function findLeaks(census: Census, ids: Record<CollectionKey, number>, ctx: ScanContext, output: unknown, blobs: ReadonlyArray<{ where: string; bytes: Uint8Array }>): Promise<string[]> {
  const found = new Set<string>();
  const name = (collectionId: number) => census.collections.get(collectionId) ?? `collection #${collectionId}`;
  const visibleKeys = new Set([...census.items.values()].filter((i) => i.live && ctx.visible.has(i.collectionId)).map((i) => i.mediaKey));
  const foreignKeys = new Map<string, number>();
  for (const i of census.items.values()) if (i.mediaKey && !ctx.visible.has(i.collectionId) && !visibleKeys.has(i.mediaKey)) foreignKeys.set(i.mediaKey, i.collectionId);
  const item = (id: unknown, where: string) => {
    const it = typeof id === 'number' ? census.items.get(id) : undefined;
    if (it && !ctx.visible.has(it.collectionId)) found.add(`item #${id as number} of ${name(it.collectionId)} in ${where}`);
  };
  const entity = (id: unknown, where: string) => {
    const e = typeof id === 'number' ? census.entities.get(id) : undefined;
    if (e && !ctx.visible.has(e.collectionId)) found.add(`entity #${id as number} (${e.label}) of ${name(e.collectionId)} in ${where}`);
  };
  const key = (k: string, where: string) => {
    const c = foreignKeys.get(k);
    if (c !== undefined) found.add(`media key ${k.slice(0, 12)}… of ${name(c)} in ${where}`);
  };
  const pictures: Array<{ where: string; bytes: Uint8Array; posted?: boolean }> = [...blobs];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (typeof node === 'string') {
      if (ACTION_VALUE.test(node)) {
        try {
          const v = JSON.parse(node) as { i?: unknown; e?: unknown };
          item(v.i, 'a button value');
          entity(v.e, 'a button value');
        } catch {
          // Not one of ours after all: the text scan still reads it.
        }
      }
      const block = /^card:(\d+):/.exec(node);
      if (block) item(Number(block[1]), 'a Slack block id');
      for (const m of node.matchAll(HEX_KEY)) key(m[0], /\/media\//.test(node) ? 'an image link' : 'a string');
      const uri = DATA_URI.exec(node);
      if (uri) pictures.push({ where: 'an inline card image', bytes: Buffer.from(uri[1]!, 'base64') });
      return;
    }
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (typeof o.itemId === 'number') item(o.itemId, 'a card');
    // A search hit's explanation names its entity.
    const named = (o.entity as { id?: unknown } | null | undefined)?.id;
    if (typeof named === 'number') entity(named, 'an explanation');
    const file = (o.slack_file as { id?: unknown } | undefined)?.id;
    if (typeof file === 'string') {
      const mapped = census.platformFiles.get(file);
      if (mapped) key(mapped, `Slack file ${file}`);
      const raw = ctx.slackFile?.(file);
      if (raw) pictures.push({ where: `Slack file ${file}`, bytes: raw.bytes, posted: raw.posted });
      if (!mapped && !raw) found.add(`Slack file ${file} that nothing explains`);
    }
    Object.values(o).forEach(visit);
  };
  visit(output);
  for (const p of pictures) {
    // A posted photo is an original (its key is its hash); anything else the bot sends is a thumbnail.
    const k = p.posted ? ctx.mediaHash(p.bytes) : await ctx.thumbnailKey(p.bytes);
    if (k === null) found.add(`a picture (${p.where}) that is no known thumbnail`);
    else key(k, p.where);
  }
  let hay = JSON.stringify(output ?? null).toLowerCase();
  // Random text (image data, hashes, signatures) could spell a short marker by chance.
  hay = hay.replace(/data:image\/[^"]+/g, ' ').replace(/[0-9a-f]{32,}/g, ' ');
  for (const t of ctx.typed) if (t) hay = hay.split(t.toLowerCase()).join(' ');
  for (const [s, what] of foreignStrings(census, ctx.visible, ids)) if (hay.includes(s)) found.add(`"${s}" (${what}) in the text`);
  return [...found];
}
