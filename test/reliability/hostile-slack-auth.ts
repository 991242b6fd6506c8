/**
 * Group 4: Slack's request signatures. Forged signatures and stale, future or unreadable
 * timestamps must get 401 and do nothing (no message to Slack, no verdict); a valid event sent
 * again (same event_id, re-signed, or marked as Slack's retry) is handled once.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { slackSignature } from '../support/fake-slack.js';
import { buttonPress, eventBody, mentionEvent, SIGNING_SECRET } from '../support/slack-world.js';
import { emptyTally, type Tally } from './tally.js';
import { catalogueCounts, type HostileWorld, rawRequest, sameCounts, slackPost } from './hostile-world.js';
import { waitUntil } from '../support/wait.js';

const now = () => Math.floor(Date.now() / 1000);
const hmac = (secret: string, base: string) => createHmac('sha256', secret).update(base).digest('hex');

/** How one forged request is signed: its headers, given the raw body. */
interface Forgery {
  kind: string;
  headers(raw: string): Record<string, string>;
}

const signedAt = (timestamp: string, raw: string) => ({ 'x-slack-request-timestamp': timestamp, 'x-slack-signature': `v0=${hmac(SIGNING_SECRET, `v0:${timestamp}:${raw}`)}` });

/** One arbitrary per kind, so every kind is sent `runs` times whatever the seed. */
const FORGERIES: Array<fc.Arbitrary<Forgery>> = [
  fc.stringMatching(/^[0-9a-f]{64}$/).map((hex) => ({ kind: 'random hex', headers: () => ({ 'x-slack-request-timestamp': String(now()), 'x-slack-signature': `v0=${hex}` }) })),
  fc.string({ minLength: 1 }).filter((s) => s !== SIGNING_SECRET).map((secret) => ({ kind: `right length, key ${JSON.stringify(secret)}`, headers: (raw: string) => ({ 'x-slack-request-timestamp': String(now()), 'x-slack-signature': slackSignature(secret, now(), raw) }) })),
  fc.string({ minLength: 1, maxLength: 20 }).map((extra) => ({ kind: 'signature of another body', headers: (raw: string) => ({ 'x-slack-request-timestamp': String(now()), 'x-slack-signature': slackSignature(SIGNING_SECRET, now(), raw + extra) }) })),
  fc.constant({ kind: 'no signature header', headers: () => ({ 'x-slack-request-timestamp': String(now()) }) }),
  fc.constantFrom('v1=', 'V0=', '', 'v0', 'v0:').map((prefix) => ({ kind: `prefix "${prefix}"`, headers: (raw: string) => ({ 'x-slack-request-timestamp': String(now()), 'x-slack-signature': `${prefix}${hmac(SIGNING_SECRET, `v0:${now()}:${raw}`)}` }) })),
  fc.integer({ min: 0, max: 66 }).map((k) => ({ kind: `signature cut to ${k} chars`, headers: (raw: string) => ({ 'x-slack-request-timestamp': String(now()), 'x-slack-signature': slackSignature(SIGNING_SECRET, now(), raw).slice(0, k) }) })),
  fc.integer({ min: 301, max: 10_000_000 }).map((age) => ({ kind: `signed ${age} s ago`, headers: (raw: string) => signedAt(String(now() - age), raw) })),
  fc.integer({ min: 310, max: 10_000_000 }).map((ahead) => ({ kind: `signed ${ahead} s ahead`, headers: (raw: string) => signedAt(String(now() + ahead), raw) })),
  fc.oneof(fc.string().filter((s) => Number.isNaN(Number(s))), fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e', 'abc')).map((ts) => ({ kind: `timestamp ${JSON.stringify(ts)}`, headers: (raw: string) => signedAt(ts, raw) })),
  fc.constant({ kind: 'no timestamp header', headers: (raw: string) => ({ 'x-slack-signature': slackSignature(SIGNING_SECRET, now(), raw) }) }),
];

/** A forged body: a mention (Referent would answer in its thread) or a "That's it" button on a real card. */
async function forgedBody(world: HostileWorld, n: number, user: string): Promise<{ raw: string; contentType: string; ts: string }> {
  const event = mentionEvent('red', { user: `U${user.toUpperCase()}` });
  if (n % 2 === 0) return { raw: JSON.stringify(eventBody(event)), contentType: 'application/json', ts: String(event.ts) };
  const { catalog, encoder } = world.referent;
  const parts = (await catalog.findCollection('parts'))!.id;
  const item = [...await catalog.itemVectors(encoder.modelId, 0, 1_000_000)].find((v) => v.collectionId === parts)!.itemId;
  const value = JSON.stringify({ v: 1, a: 'reject', i: item, q: 'red', e: null, b: 'strong', w: 'forged', t: true });
  const payload = buttonPress({ user, message: { ts: String(event.ts), thread_ts: String(event.ts), text: 'cards', blocks: [] }, actionId: 'referent.reject', value, responseUrl: `${world.slack.base}/respond/forged` });
  return { raw: new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), contentType: 'application/x-www-form-urlencoded', ts: String(event.ts) };
}

async function forged(world: HostileWorld, seed: number, runs: number, tally: Tally): Promise<Array<{ ts: string; user: string }>> {
  const refused: Array<{ ts: string; user: string }> = [];
  for (const [k, arb] of FORGERIES.entries()) {
    for (const [i, forgery] of fc.sample(arb, { seed: seed + k, numRuns: runs }).entries()) {
      const user = `forger${k}x${i}`;
      const body = await forgedBody(world, k + i, user);
      const before = catalogueCounts(world);
      const res = await rawRequest(world.open.base, { method: 'POST', path: '/slack/events', headers: { 'content-type': body.contentType, ...forgery.headers(body.raw) }, body: body.raw });
      tally.badInputs++;
      refused.push({ ts: body.ts, user: `U${user.toUpperCase()}` });
      const what = `seed ${seed}: Slack ${body.contentType === 'application/json' ? 'event' : 'button'} with ${forgery.kind}`;
      if (res.status !== 401) tally.failures.push(`${what}: HTTP ${res.status} (expected 401)`);
      if (!sameCounts(before, catalogueCounts(world))) tally.failures.push(`${what}: the catalogue changed`);
    }
  }
  return refused;
}

/** Valid events, each followed by copies: the same bytes, re-signed, marked as a retry, or re-wrapped. */
async function replays(world: HostileWorld, seed: number, runs: number, tally: Tally): Promise<string[]> {
  const plans = fc.sample(fc.array(fc.constantFrom('same bytes', 're-signed', 'retry headers', 'new timestamp and retry'), { minLength: 1, maxLength: 4 }), { seed: seed + 100, numRuns: runs });
  const threads: string[] = [];
  for (const plan of plans) {
    const event = mentionEvent('green', { user: 'UREPLAY' });
    const body = eventBody(event);
    const raw = JSON.stringify(body);
    const ts = now();
    const headers = { 'content-type': 'application/json', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': slackSignature(SIGNING_SECRET, ts, raw) };
    const first = await rawRequest(world.open.base, { method: 'POST', path: '/slack/events', headers, body: raw });
    if (first.status !== 200) tally.failures.push(`seed ${seed}: the genuine event before a replay answered HTTP ${first.status}`);
    threads.push(String(event.ts));
    for (const copy of plan) {
      const later = now() + 1;
      const resigned = { 'x-slack-request-timestamp': String(later), 'x-slack-signature': slackSignature(SIGNING_SECRET, later, raw) };
      const retry = { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' };
      const extra = copy === 'same bytes' ? {} : copy === 're-signed' ? resigned : copy === 'retry headers' ? retry : { ...resigned, ...retry };
      const res = await rawRequest(world.open.base, { method: 'POST', path: '/slack/events', headers: { ...headers, ...extra }, body: raw });
      tally.badInputs++;
      if (res.status !== 200) tally.failures.push(`seed ${seed}: replay (${copy}) of event ${String(body.event_id)}: HTTP ${res.status} (expected 200, then dropped)`);
    }
  }
  return threads;
}

/** Group 4. `badInputs`: forged or stale requests and replays sent; what Slack was told is checked at the end. */
export async function hostileSlackSignatures(world: HostileWorld, seed: number, runs: number): Promise<Tally> {
  const tally = emptyTally('Slack signatures');
  const { slack } = world;
  const refused = await forged(world, seed, runs, tally);
  const replayed = await replays(world, seed, runs, tally);
  // Events are answered in arrival order: once a later one is answered, the earlier ones were handled or dropped.
  const sentinel = mentionEvent('blue');
  await slackPost(world, eventBody(sentinel));
  const placeholderOf = (ts: string) => slack.calls.find((c) => c.method === 'chat.postMessage' && c.args.thread_ts === ts);
  const answered = (ts: string) => slack.calls.some((c) => c.method === 'chat.update' && c.args.ts === placeholderOf(ts)?.response?.ts);
  if (!(await waitUntil(() => [sentinel.ts as string, ...replayed].every(answered), 20_000))) tally.failures.push(`seed ${seed}: genuine Slack events were not all answered within 20 s`);
  for (const { ts, user } of refused) {
    const acted = slack.calls.filter((c) => c.args.thread_ts === ts || c.args.ts === ts || c.args.user === user);
    if (acted.length) tally.failures.push(`seed ${seed}: a refused request (thread ${ts}) still led to ${acted.map((c) => c.method).join(', ')}`);
  }
  for (const ts of replayed) {
    const placeholders = slack.calls.filter((c) => c.method === 'chat.postMessage' && c.args.thread_ts === ts).length;
    if (placeholders !== 1) tally.failures.push(`seed ${seed}: a replayed event (thread ${ts}) was answered ${placeholders} times`);
  }
  return tally;
}
