import type { SearchHit } from '../src/search/search.js';

const r6 = (x: number) => Number(x.toFixed(6));

/**
 * The JSON form of a search hit, shared by `referent search --json` and the HTTP API; each front end
 * says where the media can be had (file paths for the CLI, URLs for HTTP). Refined hits carry their
 * score components (initial, entity, feedback, final) and `why`.
 */
export function hitJson(hit: SearchHit, media: Record<string, string>) {
  return {
    itemId: hit.itemId,
    score: r6(hit.score),
    caption: hit.item.caption,
    entity: hit.item.entityLabel ? { label: hit.item.entityLabel } : null,
    media: { id: hit.item.mediaKey, ...media },
    ...(hit.components ? { components: Object.fromEntries(Object.entries(hit.components).map(([k, v]) => [k, r6(v)])) } : {}),
    ...(hit.why ? { why: hit.why } : {}),
    ...(hit.more.length > 0 ? { more: hit.more } : {}),
  };
}
