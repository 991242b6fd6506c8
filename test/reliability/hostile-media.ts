/**
 * Group 6: media ids that try to leave the media folder. The server's media routes get traversal
 * in every spelling (encoded, double-encoded, backslashes, NUL, absolute paths, overlong UTF-8),
 * over-long and upper-case ids, unknown keys and signatures made for another key, with and
 * without the web token; the MediaStore gets the same keys directly. Nothing from outside media/
 * may come back, and the store must refuse an invalid key before it builds a path.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { mediaSignature } from '../../adapters/web/media-links.js';
import { ErrorCode, isReferentError } from '../../src/errors.js';
import { dataPaths } from '../../src/open.js';
import { emptyTally, type Tally } from './tally.js';
import { clip, type HostileWorld, leakIn, rawRequest, WEB_TOKEN } from './hostile-world.js';

type Mode = 'open' | 'locked' | 'locked with the token' | 'locked, signed for its own id' | 'locked, signed for another key';
const MODES: Mode[] = ['open', 'locked', 'locked with the token', 'locked, signed for its own id', 'locked, signed for another key'];
const MEDIA_ROUTE = /^\/media\/([0-9a-f]{64})\/(thumbnail|original)$/;
const DOTS = ['../', '..%2f', '..%2F', '%2e%2e/', '%2e%2e%2f', '%252e%252e%252f', '..\\', '..%5c', '%c0%ae%c0%ae/', '.%2e/', '....//', '..;/', '%2e%2e%5c'];

interface Known {
  keys: string[];
  /** sha256 of every stored file: the only bodies a 200 may carry. */
  served: Set<string>;
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function known(world: HostileWorld): Promise<Known> {
  const { media } = world.referent;
  const keys: string[] = [];
  for await (const key of media.keys()) keys.push(key);
  const served = new Set<string>();
  for (const key of keys) for (const data of [await media.readOriginal(key), await media.readThumbnail(key)]) served.add(sha(data));
  return { keys, served };
}

function targets(world: HostileWorld, key: string): string[] {
  const dataDir = path.relative(world.dir, world.config.dataDir);
  return ['canary.txt', `${dataDir}/canary.txt`, 'catalog.sqlite', `${dataDir}/catalog.sqlite`, 'etc/passwd', 'media/canary.txt', `thumbs/${key.slice(0, 2)}/${key.slice(2, 4)}/${key}.jpg`];
}

/** Paths every run sends: one of each spelling that is not a generated traversal. */
function fixedPaths(world: HostileWorld, key: string): string[] {
  const canary = path.join(world.dir, 'canary.txt');
  const absolute = ['/media//etc/passwd/thumbnail', '/media/%2fetc%2fpasswd/thumbnail', `/media/${encodeURIComponent(canary)}/thumbnail`, `/media/${canary}`, `/${canary}`, '//etc/passwd', '/media/C:%5cWindows%5cwin.ini/thumbnail'];
  const nul = [`/media/${key}%00/thumbnail`, `/media/${key}%00.jpg/thumbnail`, `/media/%00${key}/thumbnail`, `/media/${key}/thumbnail%00`, `/media/${key}/thumbnail%00../../canary.txt`];
  const odd = [63, 65, 128, 8000].map((n) => `/media/${'a'.repeat(n)}/thumbnail`).concat([`/media/${key}${key}/thumbnail`, `/media/${key.toUpperCase()}/thumbnail`, `/media/${key.slice(0, 32).toUpperCase()}${key.slice(32)}/original`]);
  const kinds = ['Thumbnail', 'thumbnail.jpg', 'thumbnail/', 'thumb', 'originals', ''].map((kind) => `/media/${key}/${kind}`);
  return [...absolute, ...nul, ...odd, ...kinds, `/media/${key}`, '/media/', '/media'];
}

function generatedPaths(world: HostileWorld, key: string, seed: number, runs: number): string[] {
  const arb = fc.record({
    dots: fc.constantFrom(...DOTS),
    depth: fc.integer({ min: 1, max: 6 }),
    target: fc.constantFrom(...targets(world, key)),
    shape: fc.constantFrom('id', 'id and kind', 'after a key', 'after a route'),
    kind: fc.constantFrom('thumbnail', 'original'),
  });
  const unknownKeys = fc.stringMatching(/^[0-9a-f]{64}$/).map((k) => `/media/${k}/thumbnail`);
  const traversals = fc.sample(arb, { seed, numRuns: runs * 4 }).map(({ dots, depth, target, shape, kind }) => {
    const up = dots.repeat(depth);
    if (shape === 'id') return `/media/${up}${target}`;
    if (shape === 'id and kind') return `/media/${up}${target}/${kind}`;
    if (shape === 'after a key') return `/media/${key}/${up}${target}`;
    return `/media/${key}/${kind}/${up}${target}`;
  });
  return [...traversals, ...fc.sample(unknownKeys, { seed: seed + 1, numRuns: runs })];
}

/** The request for one path in one mode (the id segment is what a signature would be made for). */
function requestFor(mode: Mode, route: string, other: string): { path: string; headers: Record<string, string> } {
  const id = route.split('/')[2] ?? '';
  const join = route.includes('?') ? '&' : '?';
  if (mode === 'locked with the token') return { path: route, headers: { authorization: `Bearer ${WEB_TOKEN}` } };
  if (mode === 'locked, signed for its own id') return { path: `${route}${join}sig=${mediaSignature(WEB_TOKEN, id)}`, headers: {} };
  if (mode === 'locked, signed for another key') return { path: `${route}${join}sig=${mediaSignature(WEB_TOKEN, other)}`, headers: {} };
  return { path: route, headers: {} };
}

function judge(world: HostileWorld, mode: Mode, method: string, sent: string, status: number, body: Buffer, store: Known): string | null {
  const leak = leakIn(world, body.toString('latin1'));
  if (leak) return `the answer shows ${leak}`;
  if (status === 200) {
    // A path that normalises onto a real media route may be served, but only that image's own bytes.
    const normalised = MEDIA_ROUTE.exec(new URL(sent, 'http://x').pathname);
    if (!normalised || !store.keys.includes(normalised[1]!)) return 'HTTP 200 for a path that is no stored image';
    if (method === 'GET' && !store.served.has(sha(body))) return 'HTTP 200 with bytes that are no stored image';
    return null;
  }
  const allowed = mode === 'open' || mode === 'locked with the token' ? [400, 403, 404] : [400, 401, 403, 404];
  return allowed.includes(status) ? null : `HTTP ${status} (expected ${allowed.join(', ')})`;
}

async function routes(world: HostileWorld, seed: number, runs: number, store: Known, tally: Tally): Promise<void> {
  const [key, other] = store.keys;
  const paths = [...fixedPaths(world, key!), ...generatedPaths(world, key!, seed, runs)];
  const plan = fc.sample(fc.tuple(fc.constantFrom(...MODES), fc.constantFrom('GET', 'HEAD')), { seed: seed + 2, numRuns: paths.length });
  for (const [n, route] of paths.entries()) {
    // Fixed paths go to every mode; generated ones to one mode each, drawn with the seed.
    const sends = n < fixedPaths(world, key!).length ? MODES.map((mode) => [mode, 'GET'] as const) : [plan[n]!];
    for (const [mode, method] of sends) {
      const { path: sent, headers } = requestFor(mode, route, other!);
      const server = mode === 'open' ? world.open : world.locked;
      const res = await rawRequest(server.base, { method, path: sent, headers });
      tally.badInputs++;
      const problem = judge(world, mode, method, sent, res.status, res.body, store);
      if (problem) tally.failures.push(`seed ${seed}: ${method} ${clip(sent, 200)} (${mode}): ${problem}; answered ${clip(res.text, 100)}`);
    }
  }
  // Controls: the routes do serve real images, so the refusals above are not a broken route.
  for (const [mode, expected] of [['open', 200], ['locked with the token', 200], ['locked, signed for its own id', 200], ['locked', 401]] as const) {
    const { path: sent, headers } = requestFor(mode, `/media/${key}/thumbnail`, other!);
    const res = await rawRequest((mode === 'open' ? world.open : world.locked).base, { path: sent, headers });
    if (res.status !== expected) tally.failures.push(`seed ${seed}: control GET ${sent} (${mode}) answered ${res.status}, expected ${expected}`);
  }
}

/** Keys as a caller might hand them to the store directly, decoded: traversal, absolute paths, NUL, wrong case or length. */
function storeKeys(world: HostileWorld, key: string, seed: number, runs: number): unknown[] {
  const canary = path.join(world.dir, 'canary.txt');
  const fixed: unknown[] = ['../canary.txt', '../../canary.txt', '../../../canary.txt', '../../../../canary.txt', '/etc/passwd', canary, '..\\..\\canary.txt', `${key}\0`, `${key}/../../canary.txt`, `${key}\n`, ` ${key}`, key.toUpperCase(), key.slice(1), `${key}a`, 'a'.repeat(8000), '', '.', '..', `${key.slice(0, 62)}..`, '０'.repeat(64)];
  const notStrings: unknown[] = [123, null, undefined, [key], { toString: () => key }, Buffer.from(key)];
  const generated = fc.sample(fc.oneof(fc.string({ maxLength: 100 }), fc.stringMatching(/^[0-9a-fA-F./\\\u0000]{60,70}$/)), { seed: seed + 3, numRuns: runs * 4 });
  return [...fixed, ...notStrings, ...generated.filter((k) => !/^[0-9a-f]{64}$/.test(k))];
}

async function store(world: HostileWorld, seed: number, runs: number, known: Known, tally: Tally): Promise<void> {
  const { media } = world.referent;
  const invalid = (err: unknown) => isReferentError(err, ErrorCode.NotFound) && err.details.reason === 'invalid key';
  const outcome = async (call: () => Promise<unknown>) => call().then(() => 'resolved', (err: unknown) => (invalid(err) ? 'refused' : `threw ${isReferentError(err) ? `${err.code} ${JSON.stringify(err.details)}` : String(err)}`));
  for (const key of storeKeys(world, known.keys[0]!, seed, runs)) {
    const k = key as string;
    const results: Record<string, string> = {
      info: await outcome(() => media.info(k)),
      readOriginal: await outcome(() => media.readOriginal(k)),
      readThumbnail: await outcome(() => media.readThumbnail(k)),
      paths: await outcome(async () => media.paths(k)),
      remove: await outcome(() => media.remove(k)),
      has: await media.has(k).then((has) => (has ? 'true' : 'refused'), (err: unknown) => `threw ${String(err)}`),
    };
    tally.badInputs++;
    const wrong = Object.entries(results).filter(([, r]) => r !== 'refused');
    if (wrong.length) tally.failures.push(`seed ${seed}: MediaStore key ${clip(JSON.stringify(key) ?? String(key), 80)}: ${wrong.map(([m, r]) => `${m} ${clip(r, 120)}`).join('; ')}`);
  }
  // Well-formed keys that are not stored: NOT_FOUND, never another error; removing one is a no-op.
  for (const k of fc.sample(fc.stringMatching(/^[0-9a-f]{64}$/), { seed: seed + 4, numRuns: runs }).filter((k) => !known.keys.includes(k))) {
    const missing = (err: unknown) => (isReferentError(err, ErrorCode.NotFound) ? 'not found' : String(err));
    const results = [await media.info(k).then(() => 'found', missing), await media.readThumbnail(k).then(() => 'found', missing), await media.remove(k).then(() => 'not found', missing), (await media.has(k)) ? 'found' : 'not found'];
    tally.badInputs++;
    if (results.some((r) => r !== 'not found')) tally.failures.push(`seed ${seed}: MediaStore unknown key ${k}: ${results.join(', ')}`);
  }
  const media_ = dataPaths(world.config.dataDir).media;
  const canaries = [path.join(world.dir, 'canary.txt'), path.join(world.config.dataDir, 'canary.txt'), path.join(media_, 'canary.txt')];
  for (const [i, file] of canaries.entries()) {
    if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== world.canaries[i]) tally.failures.push(`seed ${seed}: canary ${file} was removed or changed`);
  }
  const stillThere = (await known.keys.reduce(async (ok, k) => (await ok) && media.has(k), Promise.resolve(true)));
  if (!stillThere) tally.failures.push(`seed ${seed}: a stored image disappeared during the group`);
}

/** Group 6. `badInputs`: media-route requests (path × mode) and MediaStore keys tried. */
export async function hostileMedia(world: HostileWorld, seed: number, runs: number): Promise<Tally> {
  const tally = emptyTally('Media ids escaping the media folder');
  const stored = await known(world);
  await routes(world, seed, runs, stored, tally);
  await store(world, seed, runs, stored, tally);
  return tally;
}
