import type { SearchHit } from '../src/search/search.js';

/**
 * The JSON form of a search hit, shared by `referent search --json` and the HTTP API; each front end
 * says where the media can be had (file paths for the CLI, URLs for HTTP).
 */
export function hitJson(hit: SearchHit, media: Record<string, string>) {
  return {
    itemId: hit.itemId,
    score: Number(hit.score.toFixed(6)),
    caption: hit.item.caption,
    entity: hit.item.entityLabel ? { label: hit.item.entityLabel } : null,
    media: { id: hit.item.mediaKey, ...media },
  };
}
