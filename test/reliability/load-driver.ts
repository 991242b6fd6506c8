/**
 * The load test's harness, set up as a deployment would be: a data folder with a small gallery, the
 * real server (`adapters/main.ts`) and a bulk `referent ingest --events` as two child processes on
 * that folder, and concurrent clients on 127.0.0.1 sending a seeded mix of chat requests. After a
 * clean SIGTERM the folder is opened again to prove nothing acknowledged was lost.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import readline from 'node:readline';
import { galleryColours } from '../../scripts/make-colour-gallery.js';
import type { Card, Reply } from '../../src/chat/reply.js';
import { solidPng } from '../../src/image/image-io.js';
import { openReferent, openStores } from '../../src/open.js';
import { mulberry32 } from '../../src/random.js';
import { type FakeConnector, startFakeConnector } from '../support/fake-connector.js';
import { makeColourGallery, tempDir, testConfig, tinyModelDir } from '../support/fixtures.js';
import { runCli, spawnCli } from '../support/run-cli.js';
import { type ServerProcess, startServerProcess } from '../support/server-process.js';
import { emptyTally, type LoadFigures, percentile, type Tally } from './tally.js';

/** How hard and how long to push; the run stops at `seconds` or `maxRequests`, whichever comes first. */
export interface LoadOptions {
  clients: number;
  seconds?: number;
  maxRequests?: number;
  /** Images the concurrent `referent ingest` adds. */
  ingestImages: number;
  /** Picks every request's kind and content: the same seed sends the same request n. */
  seed: number;
  /** Receives a short line per phase and every few seconds while the clients run. */
  progress?: (line: string) => void;
}

type Op = 'search' | 'photo' | 'add' | 'show' | 'action' | 'teams';
/** Mostly colour searches, as in use; then the writes and buttons that contend with the ingest. */
const MIX: Array<[Op, number]> = [['search', 0.55], ['photo', 0.12], ['add', 0.1], ['show', 0.08], ['action', 0.1], ['teams', 0.05]];
const COLOURS = Object.keys(galleryColours);
const FIRST_COLOURS = ['red', 'blue', 'white'];
const BULK_COLOURS = ['green', 'yellow', 'black'];
const TENANT = 'tenant-1';
const MAX_LISTED = 20;

type Acked = { label: string; bytes: Buffer };
type Reported = { itemId: number; origin: string };
interface Run {
  base: string;
  connector: FakeConnector;
  /** Entity labels of the starting gallery, for `show`. */
  galleryLabels: string[];
  acked: Acked[];
  latencies: number[];
  errors: number;
  failures: string[];
  ops: Partial<Record<Op, number>>;
}

const pick = <T>(rng: () => number, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
/** The child's exit code, or 'timeout' while it still runs after `withinMs`. */
function exited(child: ChildProcess, withinMs = 10 * 60_000): Promise<number | null | 'timeout'> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), withinMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** Runs the load, then the checks; never throws for a broken promise, lists it in `failures`. */
export async function runLoad(options: LoadOptions): Promise<Tally> {
  if (options.seconds === undefined && options.maxRequests === undefined) throw new RangeError('runLoad needs seconds or maxRequests');
  const say = options.progress ?? (() => {});
  const tally = emptyTally('load: chat clients while an ingest runs');
  const dir = tempDir('referent-load-');
  const dataDir = path.join(dir, 'data');
  const env = { REFERENT_DATA_DIR: dataDir, REFERENT_MODEL: tinyModelDir, REFERENT_OCR: '0', REFERENT_TEAMS_LOCAL: 'true' };
  const children: ChildProcess[] = [];
  const connector = await startFakeConnector();
  try {
    const { first, bulk, startItems } = await prepare(dir, env, options.ingestImages);
    const server = await startServerProcess(env, { children });
    say(`server at ${server.base}; ${startItems} images; ingesting ${options.ingestImages} more alongside`);
    const reported: Reported[] = [];
    const ingest = startIngest(bulk, env, children, reported, tally.failures);
    // Clients start once the ingest is committing, so the two really overlap.
    await Promise.race([ingest.firstAdded, ingest.done]);

    const run: Run = { base: server.base, connector, galleryLabels: labelsOf(first), acked: [], latencies: [], errors: 0, failures: [], ops: {} };
    const t0 = performance.now();
    const ticker = setInterval(() => say(`${((performance.now() - t0) / 1000).toFixed(0)} s: ${run.latencies.length} requests (${run.errors} failed), ${reported.length} images ingested`), 5000);
    await drive(run, options, t0).finally(() => clearInterval(ticker));
    const elapsed = (performance.now() - t0) / 1000;
    tally.load = figures(run, options.clients, elapsed, reported.length);
    say(`clients done after ${elapsed.toFixed(1)} s (${Object.entries(run.ops).map(([op, n]) => `${n} ${op}`).join(', ')}); waiting for the ingest`);

    const ingestCode = await ingest.done;
    if (ingestCode !== 0) tally.failures.push(`referent ingest exited with ${ingestCode}: ${ingest.log()}`);
    if (reported.length !== options.ingestImages) tally.failures.push(`referent ingest reported ${reported.length} of ${options.ingestImages} images added`);
    await stopServer(server, tally.failures);
    tally.failures.push(...run.failures.slice(0, MAX_LISTED));
    if (run.failures.length > MAX_LISTED) tally.failures.push(`… and ${run.failures.length - MAX_LISTED} more failed requests`);
    await verify(dataDir, startItems, run.acked, reported, tally, say);
    return tally;
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(children.map((c) => exited(c)));
    await connector.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10;

function figures(run: Run, clients: number, elapsed: number, ingested: number): LoadFigures {
  const { latencies } = run;
  const p = (q: number) => round1(percentile(latencies, q));
  return { clients, seconds: round1(elapsed), requests: latencies.length, errors: run.errors, requestsPerSecond: round1(latencies.length / elapsed), p50Ms: p(50), p95Ms: p(95), p99Ms: p(99), ingested };
}

/** The starting gallery, ingested as an operator would before starting the server, and Teams' grant. */
async function prepare(dir: string, env: Record<string, string>, ingestImages: number): Promise<{ first: string; bulk: string; startItems: number }> {
  const first = await makeColourGallery(path.join(dir, 'first'), 3, FIRST_COLOURS);
  const bulk = await bulkManifest(path.join(dir, 'bulk'), ingestImages);
  const seeded = await runCli(['ingest', first, '--model', tinyModelDir, '--collection', 'parts'], env);
  if (seeded.code !== 0) throw new Error(`the starting ingest failed (${seeded.code}):\n${seeded.stderr}`);
  // Teams in local mode answers only a tenant that was granted a collection.
  const stores = await openStores(testConfig(env.REFERENT_DATA_DIR!));
  try {
    await stores.catalog.grant({ collectionId: (await stores.catalog.findCollection('parts'))!.id, platform: 'teams', workspace: TENANT });
  } finally {
    await stores.close();
  }
  return { first, bulk, startItems: FIRST_COLOURS.length * 3 };
}

/** SIGTERM is how a service manager stops it: it must exit 0, in bounded time, having logged nothing unexpected. */
async function stopServer(server: ServerProcess, failures: string[]): Promise<void> {
  server.process.kill('SIGTERM');
  const code = await exited(server.process, 30_000);
  if (code === 'timeout') failures.push('the server did not exit within 30 s of SIGTERM');
  else if (code !== 0) failures.push(`the server exited with ${code} on SIGTERM:\n${server.log().slice(-2000)}`);
  for (const line of server.log().split('\n').filter((l) => /unexpected error/i.test(l)).slice(0, 5)) failures.push(`server log: ${line}`);
}

/** The bulk gallery in colours the starting one lacks, so no image is a duplicate skipped. */
async function bulkManifest(dir: string, images: number): Promise<string> {
  const manifest = await makeColourGallery(dir, Math.ceil(images / BULK_COLOURS.length), BULK_COLOURS);
  const lines = readLines(manifest);
  // Interleave the colours, so a search for any of them meets fresh items throughout the run.
  const perColour = lines.length / BULK_COLOURS.length;
  const mixed = Array.from({ length: lines.length }, (_, i) => lines[(i % BULK_COLOURS.length) * perColour + Math.floor(i / BULK_COLOURS.length)]!);
  fs.writeFileSync(manifest, `${mixed.slice(0, images).join('\n')}\n`);
  return manifest;
}

const readLines = (file: string) => fs.readFileSync(file, 'utf8').trim().split('\n');
const labelsOf = (manifest: string) => [...new Set(readLines(manifest).map((l) => (JSON.parse(l) as { entity: string }).entity))];

/** `referent ingest --events`: every 'added' line is an item the ingest vouches for. */
function startIngest(manifest: string, env: Record<string, string>, children: ChildProcess[], reported: Reported[], failures: string[]) {
  const proc = spawnCli(['ingest', manifest, '--events', '--model', tinyModelDir, '--collection', 'parts'], env);
  children.push(proc);
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let firstAdded!: () => void;
  const first = new Promise<void>((resolve) => (firstAdded = resolve));
  readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
    let event: { event?: string; itemId?: number; origin?: string; reason?: string };
    try {
      event = JSON.parse(line) as typeof event;
    } catch {
      return void failures.push(`referent ingest printed a line that is not an event: ${line.slice(0, 200)}`);
    }
    if (event.event === 'added') {
      reported.push({ itemId: event.itemId!, origin: event.origin! });
      firstAdded();
    } else if (event.event === 'failed') failures.push(`referent ingest failed on ${event.origin}: ${event.reason}`);
  });
  // The summary and anything unexpected; progress lines and per-image failures (listed from the events) are noise here.
  return { firstAdded: first, done: exited(proc), log: () => stderr.split('\n').filter((l) => l && !/^(Ingesting:|Using the |  failed )/.test(l)).join('\n') };
}

function opFor(roll: number): Op {
  let sum = 0;
  return MIX.find(([, share]) => roll < (sum += share))?.[0] ?? 'search';
}

/** `clients` loops share one request counter, so exactly `maxRequests` are sent when that bound comes first. */
async function drive(run: Run, options: LoadOptions, t0: number): Promise<void> {
  const deadline = options.seconds === undefined ? Infinity : t0 + options.seconds * 1000;
  const bound = options.maxRequests ?? Infinity;
  let issued = 0;
  const loop = async (client: number) => {
    const pool: Card[] = [];
    for (let n = issued; n < bound && performance.now() < deadline; n = issued) {
      issued++;
      const rng = mulberry32((options.seed ^ Math.imul(n + 1, 0x9e3779b1)) >>> 0);
      let op = opFor(rng());
      if (op === 'action' && pool.length === 0) op = 'search';
      run.ops[op] = (run.ops[op] ?? 0) + 1;
      const started = performance.now();
      let problem: string | null;
      try {
        problem = await send(run, op, n, rng, pool);
      } catch (err) {
        problem = `network: ${String(err)}${err instanceof Error && err.cause ? ` (${String(err.cause)})` : ''}`;
      }
      run.latencies.push(performance.now() - started);
      if (problem) {
        run.errors++;
        run.failures.push(`request ${n} (${op}, client ${client}, seed ${options.seed}): ${problem}`);
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, (_, c) => loop(c)));
}

async function post(run: Run, route: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${run.base}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : null };
}

/** One request; returns what was wrong with its answer, or null. */
async function send(run: Run, op: Op, n: number, rng: () => number, pool: Card[]): Promise<string | null> {
  const colour = pick(rng, COLOURS);
  if (op === 'teams') return teams(run, `load-${n}`, colour);
  if (op === 'action') {
    const card = pool[Math.floor(rng() * pool.length)]!;
    const kind = rng() < 0.6 ? 'confirm' : 'reject';
    const value = card.actions.find((a) => a.kind === kind)!.value;
    const { status, json } = await post(run, '/api/action', { value });
    if (status !== 200) return `HTTP ${status}: ${JSON.stringify(json).slice(0, 200)}`;
    const result = json as { replies: Reply[]; card: Card | null };
    return expect(result.replies, 'info') ?? (result.card ? null : 'no card came back with the verdict');
  }
  let text = colour;
  let image: Buffer | undefined;
  if (op === 'photo') {
    text = '';
    image = await solidPng(24 + Math.floor(rng() * 40), 24 + Math.floor(rng() * 40), galleryColours[colour]!);
  } else if (op === 'add') {
    // Colour and size from n: each taught photo differs from every other and from the gallery's.
    image = await solidPng(20 + (n % 7), 20, [n % 256, (n >> 8) % 256, 128]);
    text = `add LOAD-${n}: load test part ${n}, ${colour}`;
  } else if (op === 'show') {
    text = `show ${run.acked.length > 0 && rng() < 0.7 ? pick(rng, run.acked).label : pick(rng, run.galleryLabels)}`;
  } else if (rng() < 0.4) {
    text = `${colour} ${pick(rng, ['bolt', 'washer', 'cap', 'fitting'])}`;
  }
  const images = image ? [{ name: `load-${n}.png`, type: 'image/png', data: image.toString('base64') }] : [];
  const { status, json } = await post(run, '/api/chat', { text, images });
  if (status !== 200) return `HTTP ${status}: ${JSON.stringify(json).slice(0, 200)}`;
  const replies = (json as { replies: Reply[] }).replies;
  if (op === 'add') {
    const problem = expect(replies, 'info') ?? (/^Added 1 photo/.test(replies[0]!.text) ? null : `not added: ${replies[0]!.text}`);
    if (!problem) run.acked.push({ label: `LOAD-${n}`, bytes: image! });
    return problem;
  }
  const problem = expect(replies, 'results') ?? (replies[0]!.cards.length > 0 ? null : `no hits for "${text}"`);
  if (!problem && op !== 'show') {
    pool.push(...replies[0]!.cards.filter((c) => c.actions.some((a) => a.kind === 'confirm')).slice(0, 2));
    pool.splice(0, Math.max(0, pool.length - 10));
  }
  return problem;
}

function expect(replies: readonly Reply[] | undefined, kind: Reply['kind']): string | null {
  const first = replies?.[0];
  if (!first) return 'no reply';
  return first.kind === kind ? null : `a reply of kind ${first.kind} where ${kind} was due: ${first.text.replace(/\n/g, ' / ').slice(0, 200)}`;
}

/** A Teams activity in local mode: the turn (and so every reply to the fake connector) is over when the POST answers. */
async function teams(run: Run, id: string, colour: string): Promise<string | null> {
  const { status } = await post(run, '/api/messages', {
    ...{ type: 'message', id, text: colour, serviceUrl: run.connector.base, channelId: 'msteams', channelData: { tenant: { id: TENANT } } },
    ...{ from: { id: '29:load', name: 'Load' }, recipient: { id: '28:referent', name: 'Referent' }, conversation: { id: 'a:load', conversationType: 'personal', tenantId: TENANT } },
  });
  if (status < 200 || status > 299) return `Teams: HTTP ${status}`;
  const replies = run.connector.calls.filter((c) => c.activityId === id && c.activity.type === 'message');
  if (replies.length === 0) return 'Teams: no reply reached the connector';
  const bad = replies.find((c) => JSON.stringify(c.activity).includes('"Attention"'));
  return bad ? `Teams: an error card: ${JSON.stringify(bad.activity).slice(0, 300)}` : null;
}

/** Opens the data folder as the next start would, and counts what it no longer holds. */
async function verify(dataDir: string, startItems: number, acked: Acked[], reported: Reported[], tally: Tally, say: (line: string) => void): Promise<void> {
  const referent = await openReferent(testConfig(dataDir, { REFERENT_OCR: '0' }));
  try {
    const { catalog, index, media } = referent;
    say(`reopened: index from ${referent.indexReport.source}${referent.indexReport.reason ? ` (${referent.indexReport.reason})` : ''}, ${await catalog.countItems()} items`);
    const lost = (what: string, where: string | null) => {
      if (!where) return;
      tally.itemsLost++;
      tally.failures.push(`${what} lost: ${where}`);
    };
    for (const { label, bytes } of acked) {
      const key = media.hash(bytes);
      const entity = (await catalog.findEntities(label))[0];
      const item = entity ? (await catalog.entityItems(entity.id)).find((i) => i.mediaKey === key) : undefined;
      lost(`acknowledged add ${label}`, !entity ? 'no entity' : !item ? 'no item with its photo' : !(await media.has(key)) ? 'photo file missing' : !(await index.holds(item.id)) ? 'not in the index' : null);
    }
    for (const { itemId, origin } of reported) {
      lost(`ingested item ${itemId} (${origin})`, !await catalog.getItem(itemId) ? 'not in the catalogue' : !(await index.holds(itemId)) ? 'not in the index' : null);
    }
    const vectors = await catalog.countItemVectors(referent.encoder.modelId);
    if ((await index.count()) !== vectors) tally.failures.push(`the index holds ${(await index.count())} items, the catalogue ${vectors} item vectors`);
    const expected = startItems + reported.length + acked.length;
    if (await catalog.countItems() !== expected) tally.failures.push(`the catalogue holds ${await catalog.countItems()} items, expected ${expected} (start + ingested + acknowledged adds)`);
  } finally {
    await referent.shutdown();
  }
}
