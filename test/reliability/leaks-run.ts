/**
 * Running one probe and judging it: deliver it (to the assistant, or through its scope's edge),
 * scan what came back, compare every foreign collection's rows before and after, follow the
 * picture links, ask the same about something that does not exist (the answers must not tell the
 * two apart), and account for the audit rows it wrote.
 */
import { encodeAction } from '../../src/chat/cards.js';
import { type ChatUser, scopeKey, userKey } from '../../src/chat/message.js';
import { mediaSignature } from '../../adapters/web/media-links.js';
import type { Tally } from './tally.js';
import { Edges, type EdgeOutput } from './leaks-edges.js';
import { type Census, findLeaks, Inspector, sha } from './leaks-scan.js';
import type { ScopeSpec, World } from './leaks-world.js';
import { WEB_TOKEN } from './leaks-world.js';

export type ActKind = 'confirm' | 'reject' | 'more';

/** What a probe sends: words and photos, or a card button. */
export interface Request {
  text?: string;
  images?: readonly Uint8Array[];
  action?: { kind: ActKind; itemId: number; entityId: number | null };
}

export interface Probe extends Request {
  /** "seed 3 #12 show": enough to replay it. */
  id: string;
  spec: ScopeSpec;
  via: 'assistant' | 'edge';
  /** Teams: the server whose cards link their pictures. */
  linked: boolean;
  admin: boolean;
  /** Teams: the earlier answer the button is on. */
  replyTo?: string;
  /**
   * Another door on the same edge: on Slack, /referent for words and the Find similar shortcut for a
   * photo; the web search API (with the collection to name).
   */
  variant?: { kind: 'door' } | { kind: 'search'; foreign: string; absent: string };
  /** What the probe typed: an echo of it is no leak. */
  typed: string[];
  /** The same request about something that does not exist, and the two names to read as one. */
  twin?: { request: Request; names: [string, string] };
  /** Audit rows for the person collection this request must write. */
  audit: number;
}

export interface Run {
  world: World;
  edges: Edges;
  ins: Inspector;
  seed: number;
  scopes: Tally;
  audits: Tally;
  /** What could not be checked on this engine, and why. */
  notes: string[];
}

/** Neutral words: a probe never writes a foreign collection's strings into a visible one. */
export const PROBE_QUERY = 'plain probe words';

export const visibleIds = (run: Run, spec: ScopeSpec) => new Set(spec.sees.map((k) => run.world.collectionId[k]));

export function actionValue(action: NonNullable<Request['action']>): string {
  return encodeAction(action.kind, { itemId: action.itemId, entityId: action.entityId, band: 'good', why: 'probe' }, { text: PROBE_QUERY, typed: true });
}

function userOf(spec: ScopeSpec, admin: boolean): ChatUser {
  const id = admin ? spec.users.admin : spec.users.member;
  return { platform: spec.scope.platform, id, name: id };
}

async function deliver(run: Run, p: Probe, req: Request): Promise<EdgeOutput> {
  const user = userOf(p.spec, p.admin);
  const images = req.images ?? [];
  if (p.via === 'assistant') {
    const { assistant } = run.world;
    if (req.action) return { json: await assistant.act(actionValue(req.action), user, p.spec.scope), blobs: [] };
    return { json: await assistant.handle({ text: req.text ?? '', images, user, scope: p.spec.scope }), blobs: [] };
  }
  const value = req.action ? actionValue(req.action) : undefined;
  switch (p.spec.edge) {
    case 'slack':
      if (p.variant?.kind === 'door' && !value && images.length === 0) return run.edges.slackCommand(p.spec, user.id, req.text ?? '');
      if (p.variant?.kind === 'door' && !value && images.length === 1 && !req.text) return run.edges.slackShortcut(p.spec, user.id, images[0]!);
      return value ? run.edges.slackButton(p.spec, user.id, req.action!.kind, value) : run.edges.slackMention(p.spec, user.id, req.text ?? '', images);
    case 'teams':
      return run.edges.teams(p.spec, user.id, { ...(value ? { value } : { text: req.text ?? '', images }), ...(p.replyTo ? { replyTo: p.replyTo } : {}), linked: p.linked });
    case 'web':
      if (p.variant?.kind === 'search' && !value) return run.edges.webSearch(req.text ?? '', p.variant.foreign, p.variant.absent);
      return value ? run.edges.web('/api/action', { value }) : run.edges.web('/api/chat', { text: req.text ?? '', images: images.map((b, i) => ({ name: `p${i}.png`, type: 'image/png', data: Buffer.from(b).toString('base64') })) });
  }
}

/** Every signed picture link in an answer opens its own thumbnail, and its signature opens nothing else. */
async function followLinks(run: Run, json: unknown, census: Census): Promise<string[]> {
  const out: string[] = [];
  const links = [...JSON.stringify(json).matchAll(/https?:\/\/[^"\s]+\/media\/([0-9a-f]{64})\/thumbnail\?sig=([0-9a-f]+)/g)];
  const keys = [...new Set([...census.items.values()].flatMap((i) => (i.live && i.mediaKey ? [i.mediaKey] : [])))];
  for (const [url, key] of links) {
    const res = await fetch(url);
    const body = new Uint8Array(await res.arrayBuffer());
    const own = await run.world.referent.media.readThumbnail(key!).catch(() => null);
    if (res.status !== 200 || !own || sha(body) !== sha(own)) out.push(`link ${url.replace(/sig=.*/, 'sig=…')} answered ${res.status} with bytes that are not its thumbnail`);
    const other = keys.find((k) => k !== key);
    if (other) {
      const swapped = await fetch(url.replace(key!, other));
      await swapped.arrayBuffer();
      if (swapped.status !== 401) out.push(`the signature of ${key!.slice(0, 12)}… opened ${other.slice(0, 12)}… (${swapped.status})`);
    }
  }
  return out;
}

/** Two answers that must read the same once the two names (and ids) are made one. */
function normalise(json: unknown, names: readonly string[]): string {
  let s = JSON.stringify(json);
  for (const n of names) if (n) s = s.split(n).join('<NAME>');
  return s.replace(/(\\?"[ie]\\?":)\d+/g, '$1<ID>').replace(/#\d+/g, '#<ID>');
}

function record(tally: Tally, where: string, problems: readonly string[]): void {
  tally.badInputs++;
  if (problems.length === 0) return;
  tally.leaksFound++;
  for (const p of problems) tally.failures.push(`${where}: ${p}`);
}

function describeProbe(p: Probe): string {
  const { edge } = p.spec;
  const door = p.via === 'assistant' ? 'the assistant' : edge === 'teams' && p.linked ? 'teams (linked pictures)' : p.variant ? `${edge} (${p.variant.kind === 'search' ? 'search API' : '/referent or shortcut'})` : edge;
  return `${p.id} via ${door} in ${p.spec.name}`;
}

async function auditProblems(run: Run, p: Probe, since: number, answer: unknown): Promise<string[]> {
  const { world, ins } = run;
  const visible = visibleIds(run, p.spec);
  const rows = await ins.auditSince(since);
  const out: string[] = [];
  const person = world.collectionId.P;
  for (const r of rows) {
    if (r.collection_id === null || !visible.has(r.collection_id)) out.push(`audit row #${r.id} names collection #${r.collection_id} that ${p.spec.name} cannot see`);
  }
  const mine = rows.filter((r) => r.collection_id === person);
  if (mine.length !== p.audit) out.push(`${mine.length} audit rows for people-p, expected ${p.audit} (answer: ${JSON.stringify(answer).slice(0, 300)})`);
  const user = userKey(userOf(p.spec, p.admin));
  for (const r of mine) {
    const what = p.action ? `${p.action.kind} on image #${p.action.itemId}` : p.text ? p.text.replace(/^find\s+/i, '') : 'a posted photo';
    if (r.user !== user || r.scope !== scopeKey(p.spec.scope) || r.platform !== p.spec.scope.platform || !r.query.includes(what)) {
      out.push(`audit row #${r.id} says ${r.user} in ${r.scope} asked "${r.query}"; expected ${user} in ${scopeKey(p.spec.scope)} asking "${what}"`);
    }
  }
  return out;
}

/**
 * Runs one probe and records it: its leaks in `home` (the scopes group, or the audit group for a
 * person query), its audit accounting in the audit group.
 */
export async function runProbe(run: Run, p: Probe, home: Tally): Promise<void> {
  const { world, ins } = run;
  const before = await ins.fingerprints();
  const auditFrom = await ins.lastAuditId();
  const logFrom = world.logged.length;
  const problems: string[] = [];
  let out: EdgeOutput | null = null;
  try {
    out = await deliver(run, p, p);
  } catch (err) {
    problems.push(`no answer: ${err instanceof Error ? err.message : String(err)}`);
  }
  const census = await ins.census();
  const visible = visibleIds(run, p.spec);
  if (out) {
    const ctx = { visible, typed: p.typed, slackFile: run.edges.slackFile, mediaHash: (b: Uint8Array) => world.referent.media.hash(b), thumbnailKey: (b: Uint8Array) => ins.thumbnailKey(b, census) };
    problems.push(...(out.problems ?? []), ...(await findLeaks(census, world.collectionId, ctx, out.json, out.blobs)));
    if (p.via === 'edge' && p.linked) problems.push(...(await followLinks(run, out.json, census)));
  }
  for (const [id, print] of await ins.fingerprints()) {
    if (!visible.has(id) && before.get(id) !== print) problems.push(`changed rows of ${census.collections.get(id) ?? `collection #${id}`}, which it cannot see`);
  }
  const audit = await auditProblems(run, p, auditFrom, out?.json);
  // Only the assistant's own answers are compared: the edges add timestamps and ids of their own.
  if (out && p.twin && p.via === 'assistant') {
    const twin = await deliver(run, p, p.twin.request).catch((err: unknown) => ({ json: `no answer: ${String(err)}`, blobs: [] }));
    if (normalise(out.json, p.twin.names) !== normalise(twin.json, p.twin.names)) {
      problems.push(`answers differently about "${p.twin.names[0]}" than about something that does not exist: ${JSON.stringify(out.json).slice(0, 300)} vs ${JSON.stringify(twin.json).slice(0, 300)}`);
    }
  }
  for (const line of world.logged.slice(logFrom)) if (/unexpected/i.test(line)) problems.push(`logged: ${line.slice(0, 300)}`);
  if (home === run.audits) return record(home, describeProbe(p), [...problems, ...audit]);
  record(home, describeProbe(p), problems);
  record(run.audits, describeProbe(p), audit);
}

/** Signed thumbnail links: each opens its own thumbnail only, never the original or another image. */
export async function probeSignedLinks(run: Run, pairs: Array<[string, string]>): Promise<void> {
  const { world } = run;
  for (const [a, b] of pairs) {
    const sig = mediaSignature(world.token, a);
    const problems: string[] = [];
    const get = async (path: string) => {
      const res = await fetch(`${world.server.base}${path}`);
      return { status: res.status, body: new Uint8Array(await res.arrayBuffer()) };
    };
    const own = await get(`/media/${a}/thumbnail?sig=${sig}`);
    const thumb = await world.referent.media.readThumbnail(a);
    if (own.status !== 200 || sha(own.body) !== sha(thumb)) problems.push(`the signed link of ${a.slice(0, 12)}… answered ${own.status} without its thumbnail`);
    for (const path of [`/media/${b}/thumbnail?sig=${sig}`, `/media/${a}/original?sig=${sig}`, `/media/${b}/original?sig=${sig}`, `/media/${a}/thumbnail`]) {
      const res = await get(path);
      if (res.status !== 401) problems.push(`${path.replace(/sig=.*/, 'sig=<of ' + a.slice(0, 12) + '…>')} answered ${res.status}, not 401`);
    }
    record(run.scopes, `seed ${run.seed} signed links ${a.slice(0, 8)}…/${b.slice(0, 8)}…`, problems);
  }
}

/**
 * The web chat's own media route and health check (with its token): images of the collections it
 * sees (parts-b) open, every other collection's answer 404, and the health count is parts-b's.
 */
export async function probeWebMedia(run: Run): Promise<void> {
  const { world } = run;
  const auth = { authorization: `Bearer ${WEB_TOKEN}` };
  for (const item of world.items) {
    if (await world.referent.catalog.getItem(item.id) === null) continue;
    const problems: string[] = [];
    const mine = (await world.referent.catalog.mediaCollections(item.mediaKey)).includes(world.collectionId.B);
    for (const kind of ['thumbnail', 'original']) {
      const res = await fetch(`${world.server.base}/media/${item.mediaKey}/${kind}`, { headers: auth });
      await res.arrayBuffer();
      if (res.status !== (mine ? 200 : 404)) problems.push(`/media/<${item.key} image>/${kind} answered ${res.status}, not ${mine ? 200 : 404}`);
    }
    record(run.scopes, `seed ${run.seed} web media of ${item.key} item ${item.id}`, problems);
  }
  const health = (await (await fetch(`${world.server.base}/api/health`, { headers: auth })).json()) as { items: number };
  const seen = await world.referent.catalog.countItems(world.collectionId.B);
  record(run.scopes, `seed ${run.seed} web health`, health.items === seen ? [] : [`/api/health counts ${health.items} images, the web chat sees ${seen}`]);
}
