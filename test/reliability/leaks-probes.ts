/**
 * The seeded probes of the first two groups. Scopes on every path: each round takes the next kind
 * of request (so every kind runs on every path within two cycles), a seeded scope and a seeded
 * target in a collection that scope was not granted. Person queries: requests that touch the person
 * collection, mostly from the one channel that may see it.
 */
import { solidPng } from '../../src/image/image-io.js';
import { mulberry32 } from '../../src/random.js';
import { type ActKind, PROBE_QUERY, type Probe, type Request, runProbe, type Run } from './leaks-run.js';
import { COLOUR_WORDS, type CollectionKey, SCOPES, type ScopeSpec, SPECS, type WorldItem } from './leaks-world.js';

type Rng = () => number;
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
/** Ids and names far beyond anything the world holds: "does not exist". */
const ABSENT = 900_000;

const SCOPE_KINDS = [
  'findText', 'findPhoto', 'findCombined', 'moreForeign', 'moreVisible', 'show', 'describe', 'forget',
  'reviewForeign', 'entityForeign', 'reviewVisible', 'addPhoto', 'addText', 'addNamed', 'stats',
] as const;
type ScopeKind = (typeof SCOPE_KINDS)[number];

const PERSON_KINDS = ['find', 'photo', 'combined', 'moreP', 'moreA', 'show', 'describe', 'reviewP', 'reviewA'] as const;

interface Gen {
  run: Run;
  rng: Rng;
  /** Counter for fresh names, ids and photos. */
  n: number;
}

/** Items of these collections still live in the catalogue, in the world's order. */
async function itemsOf(g: Gen, keys: readonly CollectionKey[], labelled?: boolean): Promise<WorldItem[]> {
  const candidates = g.run.world.items.filter((i) => keys.includes(i.key) && (labelled === undefined || (i.label !== null) === labelled));
  const live = await g.run.world.referent.catalog.getItems(candidates.map((i) => i.id));
  return candidates.filter((i) => live.has(i.id));
}

async function unlinkedOf(g: Gen, items: readonly WorldItem[]): Promise<WorldItem[]> {
  const out: WorldItem[] = [];
  for (const i of items) if ((await entityIdOf(g, i)) === null) out.push(i);
  return out;
}

/** A photo no collection holds yet (sizes from the counter, so two are never alike). */
async function freshPhoto(g: Gen): Promise<Buffer> {
  const n = g.n++;
  return solidPng(20 + (n % 180), 20 + (Math.floor(n / 180) % 180), [Math.floor(g.rng() * 256), Math.floor(g.rng() * 256), Math.floor(g.rng() * 256)]);
}

const entityIdOf = async (g: Gen, item: WorldItem) => (await g.run.world.referent.catalog.getItem(item.id))?.entityId ?? null;
const act = (kind: ActKind, itemId: number, entityId: number | null): Request => ({ action: { kind, itemId, entityId } });

/** Whether a label names a live entity that the scope may see (a probe's `add` may have made one). */
async function labelVisible(g: Gen, spec: ScopeSpec, label: string): Promise<boolean> {
  const visible = new Set(spec.sees.map((k) => g.run.world.collectionId[k]));
  return (await g.run.world.referent.catalog.findEntities(label)).some((e) => visible.has(e.collectionId));
}

async function scopeProbe(g: Gen, round: number): Promise<Probe> {
  const { run, rng } = g;
  const kind: ScopeKind = SCOPE_KINDS[round % SCOPE_KINDS.length]!;
  const via = Math.floor(round / SCOPE_KINDS.length) % 2 === 1 ? 'edge' : 'assistant';
  // Through an edge, a verdict goes to Teams: the one edge where the client names the message a button was on.
  const spec = kind === 'reviewVisible' && via === 'edge' ? pick(rng, SCOPES.filter((s) => s.edge === 'teams' && s.sees.length > 0)) : pick(rng, SCOPES);
  const foreign = pick(rng, SPECS.filter((s) => !spec.sees.includes(s.key)));
  const foreignItem = pick(rng, await itemsOf(g, [foreign.key]));
  const visibleItems = await itemsOf(g, spec.sees);
  const label = pick(rng, foreign.labels);
  const colour = pick(rng, COLOUR_WORDS);
  const admin = rng() < 0.5;
  const absent = `ZZ-${ABSENT + g.n++}`;
  const seesP = spec.sees.includes('P');
  const door = rng();
  const variant: Probe['variant'] =
    spec.edge === 'slack' && door < 0.35 ? { kind: 'door' } : spec.edge === 'web' && kind === 'findText' && door < 0.5 ? { kind: 'search', foreign: foreign.name, absent: `nowhere-${ABSENT + g.n++}` } : undefined;
  // The search API names the collection it was asked for in its refusal.
  const base: Pick<Probe, 'id' | 'spec' | 'via' | 'linked' | 'admin' | 'typed' | 'audit' | 'variant'> = {
    id: `seed ${run.seed} #${round} ${kind}`,
    spec,
    via,
    linked: rng() < 0.5,
    admin,
    typed: variant?.kind === 'search' ? [foreign.name] : [],
    audit: 0,
    ...(variant ? { variant } : {}),
  };
  // A label someone taught this scope too is its own: asking about it is no probe of the foreign one.
  const twinOf = async (request: Request) => (await labelVisible(g, spec, label) ? {} : { twin: { request, names: [label, absent] as [string, string] } });
  const verdict = (): ActKind => (rng() < 0.5 ? 'confirm' : 'reject');
  switch (kind) {
    case 'findText': {
      const text = pick(rng, [foreign.tag, label, foreign.ident, `${colour} ${foreign.tag}`, `${colour} ${foreign.ident}`, `find ${label}`]);
      // The answer quotes what was asked, without the command word.
      return { ...base, text, typed: [...base.typed, text.replace(/^find /, '')], audit: seesP ? 1 : 0 };
    }
    case 'findPhoto':
      return { ...base, text: '', images: [foreignItem.bytes], audit: seesP ? 1 : 0 };
    case 'findCombined': {
      const text = `${colour} ${pick(rng, [foreign.ident, label])}`;
      return { ...base, text, images: [foreignItem.bytes], typed: [text], audit: seesP ? 1 : 0 };
    }
    case 'moreForeign':
      return { ...base, ...act('more', foreignItem.id, await entityIdOf(g, foreignItem)), twin: { request: act('more', ABSENT + g.n++, null), names: ['', ''] } };
    case 'moreVisible': {
      const item = visibleItems.length ? pick(rng, visibleItems) : foreignItem;
      return { ...base, ...act('more', item.id, await entityIdOf(g, item)), audit: seesP && visibleItems.includes(item) ? 1 : 0 };
    }
    case 'show':
    case 'describe':
    case 'forget': {
      const say = (l: string) => (kind === 'describe' ? `describe ${l}: ${PROBE_QUERY}` : `${kind} ${l}`);
      return { ...base, text: say(label), typed: [label], ...await twinOf({ text: say(absent) }) };
    }
    case 'reviewForeign': {
      const v = verdict();
      return { ...base, ...act(v, foreignItem.id, await entityIdOf(g, foreignItem)), twin: { request: act(v, ABSENT + g.n++, await entityIdOf(g, foreignItem)), names: ['', ''] } };
    }
    case 'entityForeign': {
      const unlinked = await unlinkedOf(g, await itemsOf(g, spec.sees, false));
      const entity = (await run.world.referent.catalog.findEntities(label)).find((e) => e.collectionId === run.world.collectionId[foreign.key]);
      const entityId = entity?.id ?? ABSENT;
      const v = verdict();
      if (!unlinked.length) return { ...base, ...act(v, foreignItem.id, entityId) };
      const item = pick(rng, unlinked);
      return { ...base, ...act(v, item.id, entityId), audit: seesP && item.key === 'P' ? 1 : 0, twin: { request: act(v, item.id, ABSENT + g.n++), names: ['', ''] } };
    }
    case 'reviewVisible': {
      const linked = await itemsOf(g, spec.sees, true);
      const item = linked.length ? pick(rng, linked) : foreignItem;
      // Teams: the button as if pressed on an answer given in another conversation.
      const elsewhere = run.edges.teamsAnswers.filter((a) => a.scope !== spec.name);
      const replyTo = elsewhere.length ? pick(rng, elsewhere).id : undefined;
      return { ...base, ...act(verdict(), item.id, await entityIdOf(g, item)), ...(replyTo ? { replyTo } : {}), audit: seesP && item.key === 'P' && linked.includes(item) ? 1 : 0 };
    }
    case 'addPhoto': {
      const say = (l: string) => `add ${l}: ${PROBE_QUERY}`;
      const [mine, theirs] = [await freshPhoto(g), await freshPhoto(g)];
      return { ...base, text: say(label), images: [mine], typed: [label], ...(await labelVisible(g, spec, label) ? {} : { twin: { request: { text: say(absent), images: [theirs] }, names: [label, absent] as [string, string] } }) };
    }
    case 'addText':
      return { ...base, text: `add ${label}: ${PROBE_QUERY}`, typed: [label], ...await twinOf({ text: `add ${absent}: ${PROBE_QUERY}` }) };
    case 'addNamed': {
      const nowhere = `nowhere-${ABSENT + g.n++}`;
      const say = (c: string) => `add ${absent} in ${c}: ${PROBE_QUERY}`;
      return { ...base, text: say(foreign.name), typed: [foreign.name], twin: { request: { text: say(nowhere) }, names: [foreign.name, nowhere] } };
    }
    case 'stats':
      return { ...base, text: 'stats' };
  }
}

/** Group 1: `rounds` seeded probes, then the signed links of pairs of images. */
export async function scopeProbes(run: Run, rounds: number): Promise<void> {
  const g: Gen = { run, rng: mulberry32(run.seed), n: 0 };
  // Answers in two Teams conversations first, so a button can claim to be on one of them; one with
  // inline pictures, one with signed links (each followed).
  for (const [name, linked] of [['teams:tenant-2', false], ['teams:tenant-3', true]] as const) {
    const spec = SCOPES.find((s) => s.name === name)!;
    await runProbe(run, { id: `seed ${run.seed} answer in ${name}`, spec, via: 'edge', linked, admin: false, text: 'red', typed: ['red'], audit: 0 }, run.scopes);
  }
  for (let r = 0; r < rounds; r++) await runProbe(run, await scopeProbe(g, r), run.scopes);
}

async function personProbe(g: Gen, round: number): Promise<Probe> {
  const { run, rng } = g;
  const kind = PERSON_KINDS[round % PERSON_KINDS.length]!;
  const via = Math.floor(round / PERSON_KINDS.length) % 2 === 1 ? 'edge' : 'assistant';
  const channel = SCOPES.find((s) => s.name === 'slack:T1/C3')!;
  const spec = rng() < 0.7 ? channel : pick(rng, SCOPES);
  const seesP = spec.sees.includes('P');
  const person = pick(rng, await itemsOf(g, ['P'], true));
  const part = pick(rng, await itemsOf(g, ['A'], true));
  const colour = pick(rng, COLOUR_WORDS);
  const label = pick(rng, SPECS.find((s) => s.key === 'P')!.labels);
  const base = { id: `seed ${run.seed} person #${round} ${kind}`, spec, via, linked: rng() < 0.5, admin: false, typed: [] as string[], audit: 0 } as const;
  const verdict = (): ActKind => (rng() < 0.5 ? 'confirm' : 'reject');
  switch (kind) {
    case 'find':
      return { ...base, text: `${colour} person`, typed: [`${colour} person`], audit: seesP ? 1 : 0 };
    case 'photo':
      return { ...base, text: '', images: [person.bytes], audit: seesP ? 1 : 0 };
    case 'combined':
      return { ...base, text: colour, images: [person.bytes], typed: [colour], audit: seesP ? 1 : 0 };
    case 'moreP':
      return { ...base, ...act('more', person.id, await entityIdOf(g, person)), audit: seesP ? 1 : 0 };
    case 'moreA':
      // More like this searches everything the scope sees, people included.
      return { ...base, ...act('more', part.id, await entityIdOf(g, part)), audit: seesP && spec.sees.includes('A') ? 1 : 0 };
    case 'show':
      return { ...base, text: `show ${label}`, typed: [label], audit: seesP ? 1 : 0 };
    case 'describe':
      return { ...base, text: `describe ${label}: ${PROBE_QUERY}`, typed: [label], audit: seesP ? 1 : 0 };
    case 'reviewP':
      return { ...base, ...act(verdict(), person.id, await entityIdOf(g, person)), audit: seesP ? 1 : 0 };
    case 'reviewA':
      return { ...base, ...act(verdict(), part.id, await entityIdOf(g, part)) };
  }
}

/** Group 2: person queries, counted against the audit rows they wrote. */
export async function personProbes(run: Run, rounds: number): Promise<void> {
  const g: Gen = { run, rng: mulberry32(run.seed ^ 0x5eed), n: 10_000 };
  for (let r = 0; r < rounds; r++) await runProbe(run, await personProbe(g, r), run.audits);
}
