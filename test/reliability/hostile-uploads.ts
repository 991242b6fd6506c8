/**
 * Group 1: hostile files through chat. Every case of the hostile corpus is posted to the web chat
 * (base64 in JSON) and shared in a Slack direct message; then `runs` random mutations of the
 * corpus's valid images go through the web chat, where only consistency can be asserted.
 */
import { createServer } from 'node:net';
import fc from 'fast-check';
import type { Reply } from '../../src/chat/reply.js';
import { buildHostileCorpus, type HostileCase } from '../media/hostile-corpus.js';
import { eventBody, mentionEvent, nextTs, TEAM } from '../support/slack-world.js';
import { emptyTally, type Tally } from './tally.js';
import { catalogueCounts, clip, type HostileWorld, leakIn, postJson, rawRequest, SLACK_UPLOAD_COLLECTION, SLACK_UPLOAD_TEAM, slackPost } from './hostile-world.js';
import { waitUntil } from '../support/wait.js';

interface Upload {
  name: string;
  fileName: string;
  bytes: Buffer;
}

interface Outcome {
  /** False when the request itself broke a promise (the reason is in `problem`). */
  ok: boolean;
  problem?: string;
  accepted: boolean;
  /** Everything the person was shown. */
  shown: string;
}

const MIME: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', tif: 'image/tiff', svg: 'image/svg+xml', heic: 'image/heic', ppm: 'image/x-portable-pixmap' };
const mimeOf = (fileName: string) => MIME[/\.([a-z]+)$/i.exec(fileName)?.[1]?.toLowerCase() ?? ''] ?? 'image/png';

async function viaWeb(world: HostileWorld, label: string, upload: Upload): Promise<Outcome> {
  const body = { text: `add ${label}: test`, images: [{ name: upload.fileName, type: mimeOf(upload.fileName), data: upload.bytes.toString('base64') }] };
  const res = await postJson(`${world.open.base}/api/chat`, body);
  if (res.status === 200) {
    const first = (JSON.parse(res.text) as { replies: Reply[] }).replies[0];
    if (!first) return { ok: false, problem: 'HTTP 200 with no reply', accepted: false, shown: res.text };
    return { ok: true, accepted: first.kind === 'info' && /^Added 1 photo/.test(first.text), shown: first.text };
  }
  if (res.status === 400 || res.status === 413) {
    const error = JSON.parse(res.text) as { error?: unknown; message?: unknown };
    if (typeof error.error !== 'string' || typeof error.message !== 'string') return { ok: false, problem: `HTTP ${res.status} without a code and a sentence`, accepted: false, shown: res.text };
    return { ok: true, accepted: false, shown: error.message };
  }
  return { ok: false, problem: `HTTP ${res.status}`, accepted: false, shown: res.text };
}

async function viaSlack(world: HostileWorld, label: string, upload: Upload, n: number): Promise<Outcome> {
  const { slack } = world;
  const file = slack.addFile(upload.bytes, { name: upload.fileName, mimetype: mimeOf(upload.fileName) });
  const channel = `DHOSTILE${n}`;
  const ts = nextTs();
  const dm = { type: 'message', subtype: 'file_share', channel_type: 'im', channel, user: 'UHOSTILE', text: `add ${label}: test`, ts, event_ts: ts, files: [file] };
  const res = await slackPost(world, eventBody(dm, SLACK_UPLOAD_TEAM));
  if (res.status !== 200) return { ok: false, problem: `Slack events answered HTTP ${res.status}`, accepted: false, shown: res.text };
  const here = () => slack.calls.filter((c) => c.args.channel === channel);
  // The placeholder is edited into the answer (accepted) or removed after a private warning (refused).
  const done = await waitUntil(() => here().some((c) => c.method === 'chat.update' || c.method === 'chat.delete'), 15_000);
  const shown = here().map((c) => String(c.args.text ?? '')).join('\n');
  if (!done) return { ok: false, problem: 'no answer in Slack within 15 s', accepted: false, shown };
  return { ok: true, accepted: here().some((c) => c.method === 'chat.update' && /Added 1 photo/.test(String(c.args.text))), shown };
}

/** The promises every upload keeps, whatever its expected outcome. */
async function checkUpload(world: HostileWorld, where: 'web' | 'slack', upload: Upload, expected: 'accepted' | 'refused' | 'either', outcome: Outcome, before: { items: number; existed: boolean }, forbidden?: string): Promise<string[]> {
  const { catalog, media } = world.referent;
  const problems: string[] = [];
  if (!outcome.ok) problems.push(outcome.problem!);
  const leak = leakIn(world, outcome.shown);
  if (leak) problems.push(`the answer shows ${leak}`);
  if (expected !== 'either' && (expected === 'accepted') !== outcome.accepted) problems.push(`expected ${expected}, was ${outcome.accepted ? 'accepted' : 'refused'}`);
  const key = media.hash(upload.bytes);
  const collection = (await catalog.findCollection(where === 'web' ? 'parts' : SLACK_UPLOAD_COLLECTION))!;
  const item = await catalog.findLiveItemByHash(collection.id, key);
  const items = catalogueCounts(world).items;
  if (outcome.accepted) {
    if (!item || !(await media.has(key))) problems.push('said added, but the image is not stored');
    if (items !== before.items + 1) problems.push(`said added, but the catalogue went from ${before.items} to ${items} items`);
    if (forbidden) problems.push(...(await payloadSurvives(world, key, forbidden)));
  } else if (!before.existed) {
    if (item) problems.push(`refused, but item #${item.id} is in the catalogue`);
    if (items !== before.items) problems.push(`refused, but the catalogue went from ${before.items} to ${items} items`);
  }
  return problems;
}

/** A polyglot's payload must be gone from the stored files and from what the server serves. */
async function payloadSurvives(world: HostileWorld, key: string, marker: string): Promise<string[]> {
  const { media } = world.referent;
  const found: string[] = [];
  if ((await media.readOriginal(key)).includes(marker)) found.push('payload marker in the stored original');
  if ((await media.readThumbnail(key)).includes(marker)) found.push('payload marker in the stored thumbnail');
  for (const kind of ['original', 'thumbnail']) {
    const res = await rawRequest(world.open.base, { path: `/media/${key}/${kind}` });
    if (res.status !== 200) found.push(`GET /media/…/${kind} of a stored image answered ${res.status}`);
    if (res.body.includes(marker)) found.push(`payload marker served by /media/…/${kind}`);
  }
  return found;
}

/** Listens where the corpus's SVGs point: any connection means an SVG was rendered. */
async function startCanary(): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = createServer((socket) => {
    hits++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/x.png`, hits: () => hits, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Random damage to a valid image: cut, flipped bytes, inserted junk, or two images spliced. */
function mutations(valid: readonly HostileCase[], seed: number, runs: number): Upload[] {
  const arb = fc.record({
    base: fc.nat({ max: valid.length - 1 }),
    other: fc.nat({ max: valid.length - 1 }),
    op: fc.constantFrom('cut', 'flip', 'insert', 'splice'),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    flips: fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }),
    junk: fc.uint8Array({ minLength: 1, maxLength: 64 }),
  });
  return fc.sample(arb, { seed, numRuns: runs }).map((m, i) => {
    const base = valid[m.base]!;
    const at = Math.floor(m.at * base.bytes.length);
    let bytes: Buffer;
    if (m.op === 'cut') bytes = base.bytes.subarray(0, Math.max(1, at));
    else if (m.op === 'insert') bytes = Buffer.concat([base.bytes.subarray(0, at), Buffer.from(m.junk), base.bytes.subarray(at)]);
    else if (m.op === 'splice') bytes = Buffer.concat([base.bytes.subarray(0, at), valid[m.other]!.bytes.subarray(at)]);
    else {
      bytes = Buffer.from(base.bytes);
      for (const [where, xor] of m.flips) {
        const p = Math.floor(where * bytes.length);
        bytes[p] = (bytes[p] ?? 0) ^ xor;
      }
    }
    return { name: `mutation-${i} (${m.op} of ${base.name} at ${at})`, fileName: base.fileName, bytes };
  });
}

/** A normal question still gets results, on the web and in Slack. */
async function stillSearches(world: HostileWorld): Promise<string[]> {
  const problems: string[] = [];
  const res = await postJson(`${world.open.base}/api/chat`, { text: 'red' });
  const first = res.status === 200 ? (JSON.parse(res.text) as { replies: Reply[] }).replies[0] : undefined;
  if (first?.kind !== 'results' || first.cards.length === 0) problems.push(`web search "red" afterwards: HTTP ${res.status} ${clip(res.text)}`);
  const event = mentionEvent('red');
  await slackPost(world, eventBody(event, TEAM));
  const { slack } = world;
  const answered = await waitUntil(() => {
    const placeholder = slack.calls.find((c) => c.method === 'chat.postMessage' && c.args.thread_ts === event.ts);
    return slack.calls.some((c) => c.method === 'chat.update' && c.args.ts === placeholder?.response?.ts && /matches for "red"/.test(String(c.args.text)));
  }, 15_000);
  if (!answered) problems.push('Slack search "red" afterwards was not answered');
  return problems;
}

/** Group 1. `badInputs`: uploads sent (corpus × web and Slack, plus `runs` mutations). */
export async function hostileUploads(world: HostileWorld, seed: number, runs: number): Promise<Tally> {
  const tally = emptyTally('Hostile files through chat');
  const canary = await startCanary();
  try {
    const corpus = await buildHostileCorpus({ canaryUrl: canary.url });
    const { catalog, media } = world.referent;
    const run = async (where: 'web' | 'slack', label: string, upload: Upload, expected: 'accepted' | 'refused' | 'either', n: number, forbidden?: string) => {
      const collection = (await catalog.findCollection(where === 'web' ? 'parts' : SLACK_UPLOAD_COLLECTION))!;
      const before = { items: catalogueCounts(world).items, existed: await catalog.findLiveItemByHash(collection.id, media.hash(upload.bytes)) !== null };
      const outcome = where === 'web' ? await viaWeb(world, label, upload) : await viaSlack(world, label, upload, n);
      tally.badInputs++;
      const problems = await checkUpload(world, where, upload, expected, outcome, before, forbidden);
      for (const p of problems) tally.failures.push(`seed ${seed}: ${where} upload ${upload.name} (${upload.bytes.length} bytes as ${upload.fileName}): ${p}; shown: ${clip(outcome.shown)}`);
    };
    for (const [n, c] of corpus.entries()) {
      const expected = c.expected === 'accepted' ? 'accepted' : 'refused';
      await run('web', `HOSTILE-${n}`, c, expected, n, c.forbiddenInOutput);
      await run('slack', `HOSTILE-S${n}`, c, expected, n, c.forbiddenInOutput);
    }
    const valid = corpus.filter((c) => c.expected === 'accepted');
    for (const [n, upload] of mutations(valid, seed, runs).entries()) await run('web', `HOSTILE-M${n}`, upload, 'either', n);
    if (canary.hits() > 0) tally.failures.push(`seed ${seed}: an SVG's external reference was fetched ${canary.hits()} time(s)`);
    for (const p of await stillSearches(world)) tally.failures.push(`seed ${seed}: ${p}`);
  } finally {
    await canary.close();
  }
  return tally;
}
