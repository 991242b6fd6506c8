/**
 * Faces in the "forget removes everything" group: nothing of a face outlives `forget` of its person
 * or `faces off` of its collection, and the chat's `faces` shows a scope only what it may see, audited.
 *
 * The faces are synthetic, written through catalog.putFaces: this probes storage and governance, not
 * the face engine (which would make the run minutes longer). Each descriptor is a marker: 64 entries
 * of ±0.125 (exactly unit length, so stored exactly as given) in a sign pattern of its own, looked
 * for as its float32 bytes (SQLite's blob, PostgreSQL's pages) and as its text (pgvector's output,
 * how the PostgreSQL reader sees the column), in every row of every table and in the raw bytes. A
 * face's box lives only in its `faces` row, so the rows of those faces are looked for by face id,
 * image id and collection, and their scans (`face_scans`) with them.
 */
import type { ChatScope, ChatUser } from '../../src/chat/message.js';
import { FACE_MODEL_ID } from '../../src/faces/face-engine.js';
import { switchFacesOff } from '../../src/faces/faces-off.js';
import { mulberry32 } from '../../src/random.js';
import type { Run } from './leaks-run.js';
import type { Needle, Row } from './storage.js';
import { sweepStorage } from './storage-sweep.js';

type Check = (name: string, problems: readonly string[]) => void;

const C3: ChatScope = { platform: 'slack', workspace: 'T1', channel: 'C3' };
const C1: ChatScope = { platform: 'slack', workspace: 'T1', channel: 'C1' };
const member: ChatUser = { platform: 'slack', id: 'UALICE', name: 'Alice' };
const admin: ChatUser = { platform: 'slack', id: 'UADMIN', name: 'Ada' };
/** The person of people-p forgotten here (leaks-world.ts labels its photos 2 and 3 so). */
const FORGOTTEN = 'PX-7402';

/** A marker descriptor: ±0.125 on the first 64 axes, signs from the seed. */
function markerDescriptor(seed: number): Float32Array {
  const rng = mulberry32(seed);
  const v = new Float32Array(128);
  for (let i = 0; i < 64; i++) v[i] = rng() < 0.5 ? 0.125 : -0.125;
  return v;
}

/** Its needle: the first 16 numbers as pgvector writes them, and as float32 bytes. */
function markerNeedle(what: string, v: Float32Array): Needle {
  const head = [...v.slice(0, 16)];
  return { what, needle: head.map((x) => (x < 0 ? '-0.125' : '0.125')).join(','), bytes: [Buffer.from(Float32Array.from(head).buffer)] };
}

interface FacePlan {
  items: Array<{ itemId: number; key: 'P' | 'Q'; label: string | null; needle: Needle }>;
  faceIds: Map<number, number[]>;
}

async function plant(run: Run, check: Check): Promise<FacePlan | null> {
  const { referent, items, collectionId } = run.world;
  const { catalog } = referent;
  await catalog.setFacesEnabled(collectionId.P, true);
  await catalog.setFacesEnabled(collectionId.Q, true);
  const plan: FacePlan = { items: [], faceIds: new Map() };
  const live = await catalog.getItems(items.map((i) => i.id));
  const problems: string[] = [];
  for (const [n, item] of items.filter((i) => (i.key === 'P' || i.key === 'Q') && live.has(i.id)).entries()) {
    const descriptor = markerDescriptor(0xface + n);
    const box = { x: 11 + n, y: 13, width: 48, height: 48 };
    if (!(await catalog.putFaces(item.id, FACE_MODEL_ID, [{ box, score: 0.9, descriptor }]))) problems.push(`putFaces refused image #${item.id}`);
    plan.items.push({ itemId: item.id, key: item.key as 'P' | 'Q', label: item.label, needle: markerNeedle(`face descriptor of image #${item.id}`, descriptor) });
  }
  const rows = await run.ins.rows('faces');
  for (const { itemId } of plan.items) plan.faceIds.set(itemId, rows.filter((r) => r.item_id === itemId).map((r) => r.id as number));
  if (plan.items.filter((i) => i.label === FORGOTTEN).length !== 2) problems.push(`${FORGOTTEN} has ${plan.items.filter((i) => i.label === FORGOTTEN).length} photos, not 2`);
  if ([...plan.faceIds.values()].some((ids) => ids.length !== 1)) problems.push('not one faces row per image');
  // Before: every marker is found, or "gone" below proves nothing.
  const found = new Set((await sweepStorage(run.ins.reader, plan.items.map((i) => i.needle))).map((r) => r.what));
  for (const i of plan.items) if (!found.has(i.needle.what)) problems.push(`the sweep does not find the ${i.needle.what} even before`);
  check('faces: setup', problems);
  return problems.length ? null : plan;
}

/** `faces` in chat: people-p's unknown faces in C3 (audited, people-p alone), nothing in C1, never people-q (not enabled). */
async function listing(run: Run, plan: FacePlan, check: Check): Promise<void> {
  const { assistant } = run.world;
  const { P, Q } = run.world.collectionId;
  const before = await run.ins.lastAuditId();
  const [reply] = await assistant.handle({ text: 'faces', images: [], user: member, scope: C3 });
  const shown = (reply?.cards ?? []).map((c) => c.itemId);
  const unknown = plan.items.filter((i) => i.key === 'P' && i.label === null).map((i) => i.itemId);
  const audit = await run.ins.auditSince(before);
  check('faces: chat listing in slack:T1/C3', [
    ...(JSON.stringify(shown.sort()) === JSON.stringify([...unknown].sort()) ? [] : [`cards ${JSON.stringify(shown)}, expected people-p's unlabelled ${JSON.stringify(unknown)}`]),
    ...(audit.some((a) => a.collection_id === P && a.query === 'faces' && a.user === 'slack:UALICE') ? [] : ['no audit row for people-p']),
    ...audit.filter((a) => a.collection_id === Q).map(() => 'an audit row for people-q, which this scope may not search'),
  ]);
  const [other] = await assistant.handle({ text: 'faces', images: [], user: member, scope: C1 });
  const faceItems = new Set(plan.items.map((i) => i.itemId));
  check('faces: chat listing in slack:T1/C1', (other?.cards ?? []).filter((c) => faceItems.has(c.itemId)).map((c) => `shows image #${c.itemId} of a person collection it was not granted`));
}

function rowProblems(rows: readonly Row[], table: string, keep: (r: Row) => boolean): string[] {
  const left = rows.filter(keep);
  return left.length ? [`${table} still has ${left.length} row${left.length === 1 ? '' : 's'} (${left.slice(0, 5).map((r) => JSON.stringify(r.id ?? r.item_id ?? r.collection_id)).join(', ')})`] : [];
}

async function gone(run: Run, what: string, items: FacePlan['items'], plan: FacePlan, check: Check): Promise<void> {
  const ids = new Set(items.map((i) => i.itemId));
  const faceIds = new Set(items.flatMap((i) => plan.faceIds.get(i.itemId) ?? []));
  check(`faces: ${what}: face rows`, [
    ...rowProblems(await run.ins.rows('faces'), 'faces', (r) => ids.has(r.item_id as number) || faceIds.has(r.id as number)),
    ...rowProblems(await run.ins.reader.rows('face_scans'), 'face_scans', (r) => ids.has(r.item_id as number)),
  ]);
  const remnants = await sweepStorage(run.ins.reader, items.map((i) => i.needle));
  check(`faces: ${what}: catalogue sweep for the descriptors`, remnants.map((r) => r.line));
}

/** Runs after forgetProbes: forget a person of people-p, then faces off for people-p; people-q keeps its faces. */
export async function faceProbes(run: Run, check: Check): Promise<void> {
  const plan = await plant(run, check);
  if (!plan) return;
  await listing(run, plan, check);
  const { assistant, referent, collectionId } = run.world;
  const asked = await assistant.handle({ text: `forget ${FORGOTTEN}`, images: [], user: admin, scope: C3 });
  const go = asked[0]?.actions?.find((a) => a.kind === 'forget');
  const done = go ? await assistant.act(go.value, admin, C3) : null;
  if (!/^Forgotten by /.test(done?.update?.text ?? '')) return check('faces: forget', [`answered ${JSON.stringify(done ?? asked).slice(0, 300)}`]);
  const forgotten = plan.items.filter((i) => i.label === FORGOTTEN);
  await gone(run, `forget ${FORGOTTEN}`, forgotten, plan, check);

  // What `referent faces off people-p` calls (adapters/cli/cmd-faces.ts).
  await switchFacesOff(referent.catalog, collectionId.P);
  const p = plan.items.filter((i) => i.key === 'P');
  await gone(run, 'faces off for people-p', p, plan, check);
  check('faces: faces off for people-p: collection rows', rowProblems(await run.ins.reader.rows('face_collections'), 'face_collections', (r) => r.collection_id === collectionId.P));
  const q = plan.items.filter((i) => i.key === 'Q');
  const kept = await run.ins.rows('faces');
  check('faces: people-q keeps its faces', q.filter((i) => !kept.some((r) => r.item_id === i.itemId)).map((i) => `image #${i.itemId} of people-q lost its face`));

  // Last: on PostgreSQL this rewrites the schema's tables first (storage-postgres.ts says why).
  const raw = await run.ins.reader.rawTraces(p.map((i) => i.needle));
  if (raw.unread) run.notes.push(`faces: the raw catalogue bytes were not read on ${run.ins.reader.engine}: ${raw.unread}`);
  else check('faces: catalogue files on disk', raw.lines);
}
