/**
 * Group 3, forget removes everything: an entity taught through chat with photos (one of them the
 * same bytes as a live photo in another collection), descriptions, verdicts, a label read off a
 * photo and a Slack copy of one, is forgotten by an admin in chat; then every place that held any
 * of it is asked for it, each reported on its own line.
 */
import fs from 'node:fs';
import path from 'node:path';
import { mediaSignature } from '../../adapters/web/media-links.js';
import type { ChatScope, ChatUser } from '../../src/chat/message.js';
import { solidPng } from '../../src/image/image-io.js';
import { identifiersIn } from '../../src/ocr/identifiers.js';
import { actionValue, type Run } from './leaks-run.js';
import type { Row } from './storage.js';
import { sweepStorage } from './storage-sweep.js';

/** In the captions, descriptions, verdicts and the printed label: one token for FTS and one identifier. */
export const MARKER = 'XJ40417W';
export const LABEL = 'FG-9901';
const COLLECTION = 'parts-f';
const scope: ChatScope = { platform: 'slack', workspace: 'T1', channel: 'C5' };
const admin: ChatUser = { platform: 'slack', id: 'UADMIN', name: 'Ada' };

interface Taught {
  entityId: number;
  itemIds: number[];
  /** Keys of the photos only this entity had; the shared one is `sharedKey`. */
  ownKeys: string[];
  sharedKey: string;
  /** The live photo in parts-a with the shared bytes. */
  sharedItemId: number;
  photos: Buffer[];
  textIds: number[];
  phraseIds: number[];
  verdictIds: number[];
  refs: Float32Array[];
}

type Check = (name: string, problems: readonly string[]) => void;
const ids = (xs: readonly number[]) => JSON.stringify(xs);
const idsOf = (rows: readonly Row[], keep: (r: Row) => boolean) => rows.filter(keep).map((r) => r.id as number);

async function teach(run: Run, check: Check): Promise<Taught | null> {
  const { referent, assistant, items } = run.world;
  const { catalog } = referent;
  const ask = (text: string, images: readonly Uint8Array[] = []) => assistant.handle({ text, images, user: admin, scope });
  const collection = await catalog.ensureCollection(COLLECTION, 'part');
  await catalog.grant({ collectionId: collection.id, platform: 'slack', workspace: 'T1', channel: 'C5' });
  const unlabelled = items.filter((i) => i.key === 'A' && i.label === null);
  const live = await catalog.getItems(unlabelled.map((i) => i.id));
  const shared = unlabelled.find((i) => live.has(i.id))!;
  const photos = [await solidPng(97, 61, [0, 128, 128]), await solidPng(98, 62, [0, 140, 120]), shared.bytes];
  const added = await ask(`add ${LABEL} in ${COLLECTION}: a teal gadget ${MARKER}`, photos);
  await ask(`describe ${LABEL}: ${MARKER} described with stripes`);
  const entity = (await catalog.findEntities(LABEL)).find((e) => e.collectionId === collection.id);
  const own = entity ? await catalog.entityItems(entity.id) : [];
  if (!entity || own.length !== 3) {
    check('setup', [`teaching ${LABEL} gave ${own.length} photos: ${JSON.stringify(added)}`]);
    return null;
  }
  const byKey = new Map(own.map((i) => [i.mediaKey, i]));
  const [first, second] = photos.map((p) => byKey.get(referent.media.hash(p))!);
  const verdict = (kind: 'confirm' | 'reject', itemId: number) =>
    assistant.act(actionValue({ kind, itemId, entityId: entity.id }).replace(/"q":"[^"]*"/, `"q":"${MARKER} ${kind}ed"`), admin, scope);
  await verdict('confirm', first!.id);
  await verdict('reject', second!.id);
  const line = `LOT ${MARKER}`;
  await catalog.putOcr(first!.id, { modelId: 'stand-in', lines: [{ text: line, confidence: 0.99, box: [[0, 0], [9, 0], [9, 9], [0, 9]] }], identifiers: identifiersIn(line) });
  await catalog.setPlatformFile({ platform: 'slack', workspace: 'T1', mediaKey: first!.mediaKey }, 'FFORGOTTEN1');
  await referent.references.catchUp();
  const { ins } = run;
  const itemIds = own.map((i) => i.id);
  const mine = (r: Row) => r.entity_id === entity.id || itemIds.includes(r.item_id as number);
  const textIds = idsOf(await ins.rows('texts'), mine);
  const phraseIds = idsOf(await ins.rows('phrases'), (r) => textIds.includes(r.text_id as number));
  const verdictIds = idsOf(await ins.rows('feedback'), mine);
  const ref = referent.references.get(entity.id)?.ref;
  const taught: Taught = {
    entityId: entity.id,
    itemIds,
    ownKeys: [first!.mediaKey, second!.mediaKey],
    sharedKey: shared.mediaKey,
    sharedItemId: shared.id,
    photos,
    textIds,
    phraseIds,
    verdictIds,
    refs: [ref?.text, ref?.image].filter((v): v is Float32Array => v instanceof Float32Array),
  };
  // Before forgetting, each place must hold it: otherwise "gone" below proves nothing.
  const found = await ask(`find ${MARKER}`);
  const problems = [
    ...(JSON.stringify(found).includes(`"itemId":${first!.id}`) ? [] : [`"find ${MARKER}" did not find the labelled photo before the forget`]),
    ...(textIds.length >= 4 && verdictIds.length === 2 && phraseIds.length > 0 ? [] : [`texts ${ids(textIds)}, phrases ${ids(phraseIds)}, verdicts ${ids(verdictIds)}`]),
    ...(taught.refs.length === 2 && await catalog.ocrOf(first!.id) ? [] : ['no reference or no OCR reading before the forget']),
    ...((await sweepStorage(ins.reader, [{ what: 'marker', needle: MARKER }])).length > 0 ? [] : ['the sweep finds no marker even before the forget']),
  ];
  check('setup', problems);
  return problems.length ? null : taught;
}

/** What a chat answer may not show any more: the forgotten photos, their files, the marker and label beyond what was typed. */
function answerProblems(t: Taught, json: unknown, typed: string): string[] {
  let s = JSON.stringify(json);
  const out: string[] = [];
  for (const id of t.itemIds) if (new RegExp(`("itemId":|\\\\"i\\\\":|card:)${id}\\b`).test(s)) out.push(`shows forgotten photo #${id}`);
  for (const key of t.ownKeys) if (s.includes(key)) out.push(`carries media key ${key.slice(0, 12)}…`);
  s = s.toLowerCase().split(typed.toLowerCase()).join(' ');
  for (const needle of [MARKER, LABEL]) if (s.includes(needle.toLowerCase())) out.push(`says "${needle}"`);
  return out;
}

async function searches(run: Run, t: Taught, check: Check): Promise<void> {
  const { assistant, referent } = run.world;
  const ask = (text: string, images: readonly Uint8Array[] = []) => assistant.handle({ text, images, user: admin, scope });
  for (const q of [MARKER, MARKER.toLowerCase(), `teal gadget ${MARKER}`, 'teal gadget described with stripes']) {
    check(`text search "${q}"`, answerProblems(t, await ask(q), q));
  }
  const lexical = await referent.catalog.lexicalMatches({ words: [MARKER.toLowerCase()], identifiers: identifiersIn(MARKER) });
  check(`identifier search "LOT ${MARKER}"`, [...answerProblems(t, await ask(`LOT ${MARKER}`), `LOT ${MARKER}`), ...(lexical.items.size ? [`lexicalMatches still finds images ${ids([...lexical.items.keys()])}`] : [])]);
  for (const [i, photo] of t.photos.entries()) {
    const reply = await ask('', [photo]);
    const problems = answerProblems(t, reply, '');
    // The shared photo still belongs to parts-a: it must still be found there.
    if (i === 2 && !JSON.stringify(reply).includes(`"itemId":${t.sharedItemId}`)) problems.push(`the live photo #${t.sharedItemId} with the same bytes is no longer found`);
    check(`photo search with photo ${i + 1}${i === 2 ? ' (shared bytes)' : ''}`, problems);
  }
  const shown = await ask(`show ${LABEL}`);
  check(`show ${LABEL}`, shown[0]?.kind === 'error' ? answerProblems(t, shown, LABEL) : [`answered ${JSON.stringify(shown).slice(0, 200)}`]);
}

async function media(run: Run, t: Taught, check: Check): Promise<void> {
  const { referent, server, token, dir } = run.world;
  const files = fs.readdirSync(path.join(dir, 'data', 'media'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  for (const key of t.ownKeys) {
    const left = files.filter((f) => f.name.includes(key)).map((f) => path.relative(dir, path.join(f.parentPath, f.name)));
    check(`media files of ${key.slice(0, 12)}…`, [...left.map((f) => `${f} is still there`), ...((await referent.media.has(key)) ? ['the media store still has it'] : [])]);
    const res = await fetch(`${server.base}/media/${key}/thumbnail?sig=${mediaSignature(token, key)}`);
    await res.arrayBuffer();
    check(`thumbnail link of ${key.slice(0, 12)}…`, res.status === 404 ? [] : [`answered ${res.status}, not 404`]);
  }
  const shared = await fetch(`${server.base}/media/${t.sharedKey}/thumbnail?sig=${mediaSignature(token, t.sharedKey)}`);
  await shared.arrayBuffer();
  const kept = (await referent.media.has(t.sharedKey)) && shared.status === 200;
  check(`shared photo ${t.sharedKey.slice(0, 12)}… kept for parts-a`, kept && await referent.catalog.getItem(t.sharedItemId) ? [] : [`media ${await referent.media.has(t.sharedKey)}, link ${shared.status}, item ${await referent.catalog.getItem(t.sharedItemId) ? 'live' : 'gone'}`]);
}

async function stores(run: Run, t: Taught, check: Check): Promise<void> {
  const { referent } = run.world;
  const { ins } = run;
  const owned: Record<string, readonly number[]> = { item: t.itemIds, text: t.textIds, phrase: t.phraseIds, feedback: t.verdictIds };
  const vectors = (await ins.reader.vectorOwners()).filter((v) => owned[v.kind]?.includes(v.id));
  check('vectors rows', vectors.map((v) => `vectors row (${v.kind} #${v.id})`));
  const indexed: number[] = [];
  for (const id of t.itemIds) if (await referent.index.holds(id)) indexed.push(id);
  check('image index', indexed.map((id) => `the image index still holds ${id}`));
  const refs = [
    ...(referent.references.get(t.entityId) ? [`references.get(${t.entityId}) still answers`] : []),
    ...(await Promise.all(t.refs.map((v) => referent.references.search(v, 1000)))).filter((hits) => hits.includes(t.entityId)).map(() => 'the reference index still returns it'),
    ...t.itemIds.filter((id) => referent.references.entityOf(id) !== null).map((id) => `references.entityOf(${id}) still names it`),
  ];
  check('references', refs);
  check('platform_files', await referent.catalog.platformFile({ platform: 'slack', workspace: 'T1', mediaKey: t.ownKeys[0]! }) ? ['the Slack copy of photo 1 is still mapped'] : []);
  const ocr = (await ins.rows('item_ocr', 'item_id')).filter((r) => t.itemIds.includes(r.item_id as number)).length;
  const identifiers = (await ins.reader.rows('item_identifiers')).filter((r) => t.itemIds.includes(r.item_id as number) || r.ident === MARKER).length;
  check('OCR and lexical rows', [
    ...(ocr ? [`${ocr} item_ocr rows`] : []),
    ...(identifiers ? [`${identifiers} item_identifiers rows`] : []),
    ...(await ins.reader.lexicalHits(MARKER)).map((hit) => `${hit} (the marker)`),
  ]);
}

/** Group 3: teach, forget through chat as an admin, then look everywhere. */
export async function forgetProbes(run: Run, check: Check): Promise<void> {
  const taught = await teach(run, check);
  if (!taught) return;
  // Forget asks first; its Forget button is what forgets.
  const asked = await run.world.assistant.handle({ text: `forget ${LABEL}`, images: [], user: admin, scope });
  const go = asked[0]?.actions?.find((a) => a.kind === 'forget');
  if (!go) return check('forget', [`answered ${JSON.stringify(asked)}`]);
  const done = await run.world.assistant.act(go.value, admin, scope);
  if (!/^Forgotten by /.test(done.update?.text ?? '')) return check('forget', [`answered ${JSON.stringify(done)}`]);
  await searches(run, taught, check);
  await media(run, taught, check);
  await stores(run, taught, check);
  const live = new Set(idsOf(await run.ins.rows('items'), (r) => r.deleted_at === null));
  const needles = [
    { what: 'marker', needle: MARKER },
    { what: 'label', needle: LABEL },
    ...taught.ownKeys.map((k, i) => ({ what: `hash/media key of photo ${i + 1}`, needle: k })),
    // The shared bytes stay with parts-a's photo (and its Slack copies); anywhere else they are a remnant.
    { what: 'hash/media key of the shared photo', needle: taught.sharedKey, allow: (table: string, row: Record<string, unknown>) => table === 'platform_files' || (table === 'items' && live.has(row.id as number)) },
  ];
  const remnants = await sweepStorage(run.ins.reader, needles);
  for (const { what } of needles) check(`catalogue sweep for the ${what}`, remnants.filter((r) => r.what === what).map((r) => r.line));
  // Last: on PostgreSQL this rewrites the schema's tables first (storage-postgres.ts says why).
  const raw = await run.ins.reader.rawTraces(needles.filter((n) => !n.allow));
  if (raw.unread) run.notes.push(`forget: the raw catalogue bytes were not read on ${run.ins.reader.engine}: ${raw.unread}`);
  else check('catalogue files on disk', raw.lines);
}
