/**
 * `referent faces unknown [<collection>] [--json]` and `referent faces name <group> <label>`: the
 * faces nobody has named, grouped (src/faces/face-clusters.ts), and naming one group. Both are person
 * queries, audited as the chat's are (as user `cli:<login>`, so the audit log shows the operator's
 * look at unknown people too).
 */
import os from 'node:os';
import type { Catalog, Collection } from '../../src/catalog/catalog.js';
import type { Config } from '../../src/config.js';
import { ErrorCode, ReferentError } from '../../src/errors.js';
import { type FaceGroup, nameFaceGroup, unknownFaceGroups } from '../../src/faces/face-clusters.js';
import { openStores } from '../../src/open.js';
import type { CliValues } from './main.js';

const USAGE = 'Usage: referent faces unknown [<collection>] [--json] | faces name <group> <label>';

export async function runUnknownFaces(args: string[], values: CliValues, loadConfig: () => Config): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'unknown' ? rest.length > 1 : rest.length < 2) throw new ReferentError(ErrorCode.UsageInvalid, USAGE);
  const stores = await openStores(loadConfig());
  try {
    const { catalog } = stores;
    if (sub === 'unknown') return await listUnknown(catalog, rest[0], values.json === true);
    const group = Number(rest[0]);
    const label = rest.slice(1).join(' ').trim();
    if (!Number.isSafeInteger(group) || group < 1 || !label) throw new ReferentError(ErrorCode.UsageInvalid, USAGE);
    for (const collection of await faceCollections(catalog)) {
      await audit(catalog, collection, `faces name ${group} ${label}`);
      const found = (await unknownFaceGroups(catalog, collection.id)).groups.some((g) => g.id === group);
      if (!found) continue;
      const { group: named } = await nameFaceGroup(catalog, collection.id, group, label);
      process.stdout.write(`Named ${plural(named.itemIds.length, 'photo')} in ${collection.name} as ${label}.\n`);
      return 0;
    }
    throw new ReferentError(ErrorCode.NotFound, `There is no unknown face group ${group} now (named already, or its photos changed): see \`referent faces unknown\`.`);
  } finally {
    await stores.close();
  }
}

/** Person collections with faces on; NOT_FOUND / USAGE_INVALID with what to do when there are none. */
async function faceCollections(catalog: Catalog, name?: string): Promise<Collection[]> {
  const people = (await catalog.listCollections()).filter((c) => c.kind === 'person');
  if (name !== undefined) {
    const c = await catalog.findCollection(name);
    if (!c) throw new ReferentError(ErrorCode.NotFound, `There is no collection named "${name}" (see \`referent collections\`).`);
    if (c.kind !== 'person') throw new ReferentError(ErrorCode.UsageInvalid, `${c.name} is not a person collection: faces are for collections of kind person.`);
    if (!(await catalog.facesEnabled(c.id))) throw new ReferentError(ErrorCode.UsageInvalid, `Faces are off for ${c.name}: \`referent faces on ${c.name}\` switches them on.`);
    return [c];
  }
  const on = new Set(await catalog.faceCollectionIds());
  return people.filter((c) => on.has(c.id));
}

async function listUnknown(catalog: Catalog, name: string | undefined, json: boolean): Promise<number> {
  const collections = await faceCollections(catalog, name);
  const rows: Array<{ collection: string; truncated: boolean; groups: FaceGroup[] }> = [];
  for (const c of collections) {
    await audit(catalog, c, 'faces unknown');
    const { groups, truncated } = await unknownFaceGroups(catalog, c.id);
    rows.push({ collection: c.name, truncated, groups });
  }
  if (json) {
    const out = rows.map((r) => ({
      collection: r.collection,
      truncated: r.truncated,
      groups: r.groups.map((g) => ({ id: g.id, photos: g.itemIds.length, faces: g.faces.length, sample: { itemId: g.sample.itemId, box: g.sample.box }, itemIds: g.itemIds })),
    }));
    process.stdout.write(`${JSON.stringify({ collections: out }, null, 2)}\n`);
    return 0;
  }
  if (rows.length === 0) process.stdout.write('Faces are off in every person collection: `referent faces on <collection>` switches them on.\n');
  for (const r of rows) {
    process.stdout.write(`${r.collection}: ${r.groups.length === 0 ? 'no unknown faces' : plural(r.groups.length, 'unknown face group')}${r.truncated ? ' (the first faces only: name some and list again)' : ''}\n`);
    for (const g of r.groups) {
      const b = g.sample.box;
      process.stdout.write(`  group ${g.id}: ${plural(g.itemIds.length, 'photo')}, sample image #${g.sample.itemId} at ${b.x},${b.y} ${b.width}x${b.height}\n`);
    }
    if (r.groups.length) process.stdout.write(`  Name one: referent faces name <group> <label>\n`);
  }
  return 0;
}

function audit(catalog: Catalog, collection: Collection, query: string): Promise<void> {
  return catalog.addAudit({ user: `cli:${os.userInfo().username}`, platform: 'cli', scope: 'cli', collectionId: collection.id, query });
}

function plural(n: number, word: string): string {
  return `${n} ${n === 1 ? word : `${word}s`}`;
}
