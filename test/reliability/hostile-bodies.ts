/**
 * Group 2: over-long and malformed bodies at the web chat, Slack's events endpoint and Teams'
 * messages endpoint. Each must get a clear 4xx (a code and a sentence where the API speaks JSON)
 * or a polite reply, without a stack or a path, and the server must keep answering.
 */
import http from 'node:http';
import fc from 'fast-check';
import type { Reply } from '../../src/chat/reply.js';
import { slackSignature } from '../support/fake-slack.js';
import { eventBody, mentionEvent, SIGNING_SECRET } from '../support/slack-world.js';
import { emptyTally, type Tally } from './tally.js';
import { clip, healthy, type HostileWorld, leakIn, postJson, rawRequest, slackPost, TENANT } from './hostile-world.js';
import { waitUntil } from '../support/wait.js';

interface Streamed {
  /** Null when the connection ended without an answer. */
  status: number | null;
  text: string;
  /** Bytes written before the answer came (or the connection broke). */
  sent: number;
  error?: string;
}

/**
 * Streams a body that only ends at `cap` bytes, stopping as soon as the server answers: a server
 * that waits for the whole body before refusing it shows up as `sent === cap`.
 */
function streamBody(base: string, path: string, headers: Record<string, string>, cap: number): Promise<Streamed> {
  const { hostname, port } = new URL(base);
  const chunk = Buffer.alloc(64 * 1024, 0x41);
  return new Promise((resolve) => {
    let sent = 0;
    let answered = false;
    const req = http.request({ host: hostname, port, method: 'POST', path, headers, agent: false }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), sent });
        req.destroy();
      });
      res.on('error', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), sent }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (!answered) resolve({ status: null, text: '', sent, error: err.code ?? err.message });
    });
    const pump = () => {
      while (!answered && sent < cap) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

interface Probe {
  what: string;
  send: () => Promise<{ status: number | null; text: string }>;
  /** Statuses that keep the promise; 200 must also carry an error reply when `replyMustBeError`. */
  allowed: number[];
  /** The codes a JSON refusal may carry. */
  codes?: string[];
  replyMustBeError?: boolean;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/** The chat API's own bound on a body (see chat-api.ts): base64 of four images plus room for the JSON. */
const chatLimit = (world: HostileWorld) => Math.min(64 * 2 ** 20, Math.ceil((4 * world.config.maxImageBytes * 4) / 3) + 64 * 1024);

function webProbes(world: HostileWorld, seed: number, runs: number): Probe[] {
  const chat = `${world.open.base}/api/chat`;
  const max = world.config.maxTextChars;
  const limit = chatLimit(world);
  const sample = <T>(arb: fc.Arbitrary<T>) => fc.sample(arb, { seed, numRuns: runs });
  const probes: Probe[] = [];
  for (const text of sample(fc.string({ minLength: max + 1, maxLength: max + 3000, unit: 'binary' }))) {
    // The chat API checks the length in its request schema (USAGE_INVALID), before the assistant would (TEXT_TOO_LONG).
    probes.push({ what: `web chat text of ${text.length} chars`, send: () => postJson(chat, { text }), allowed: [400, 413], codes: ['USAGE_INVALID', 'TEXT_TOO_LONG'] });
  }
  for (const extra of sample(fc.nat({ max: 2 ** 40 }))) {
    const declared = limit + 1 + extra;
    probes.push({ what: `web chat body declaring ${declared} bytes`, send: () => streamBody(world.open.base, '/api/chat', { ...JSON_HEADERS, 'content-length': String(declared) }, limit + 16 * 2 ** 20), allowed: [413], codes: ['IMAGE_TOO_LARGE'] });
  }
  probes.push({ what: 'web chat body streamed without end', send: () => streamBody(world.open.base, '/api/chat', JSON_HEADERS, limit + 16 * 2 ** 20), allowed: [413], codes: ['IMAGE_TOO_LARGE'] });
  const valid = JSON.stringify({ text: 'red', images: [] });
  const brokenJson = fc.oneof(
    fc.nat({ max: valid.length - 1 }).map((n) => valid.slice(0, n)),
    fc.string().filter((s) => !parses(s)),
    fc.constantFrom("{'text':'red'}", 'NaN', '\ufeff{"text":"red"}', '{"text":"red"}}', '{"text":"red",}', '[', '{"text":"\\x41"}', '\u0000'),
  );
  for (const body of sample(brokenJson)) probes.push({ what: `web chat invalid JSON ${JSON.stringify(clip(body, 60))}`, send: () => postJson(chat, body), allowed: [400], codes: ['USAGE_INVALID'] });
  const contentType = fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/jsonx', 'text/json', 'application/j', '');
  for (const type of sample(contentType)) {
    probes.push({ what: `web chat content-type "${type}"`, send: () => rawRequest(world.open.base, { method: 'POST', path: '/api/chat', headers: type ? { 'content-type': type } : {}, body: valid }), allowed: [400, 415], codes: ['USAGE_INVALID'] });
  }
  for (const body of sample(wrongTypes())) {
    probes.push({ what: `web chat body ${clip(JSON.stringify(body), 100)}`, send: () => postJson(chat, body), allowed: [200, 400, 413], replyMustBeError: true });
  }
  // Prototype pollution: JSON.parse makes "__proto__" an own key; nothing may copy it onto Object.prototype.
  for (const body of ['{"__proto__":{"polluted":"yes"},"text":"red"}', '{"constructor":{"prototype":{"polluted":"yes"}},"text":"red"}']) {
    probes.push({ what: `web chat body ${body}`, send: () => postJson(chat, body), allowed: [200, 400] });
  }
  return probes;
}

const parses = (s: string) => {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
};

/** Well-formed JSON of the wrong shape, and photos whose base64 is not a photo. */
function wrongTypes(): fc.Arbitrary<unknown> {
  const notString = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }), fc.array(fc.string(), { maxLength: 2 }));
  const garbage64 = fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b).toString('base64')), fc.constantFrom('====', '!!!!', 'data:image/png;base64,AAAA'));
  return fc.oneof(
    notString.map((text) => ({ text })),
    fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 })).map((images) => ({ text: 'find', images })),
    fc.oneof(fc.string(), fc.integer(), fc.constant({}), fc.record({ data: fc.integer() }), fc.record({ data: fc.constant('AAAA'), name: fc.string({ minLength: 301, maxLength: 400 }) })).map((image) => ({ text: 'find', images: [image] })),
    garbage64.map((data) => ({ text: 'find', images: [{ data }] })),
    fc.constant({ text: 'find', images: Array.from({ length: 5 }, () => ({ data: 'AAAA' })) }),
    fc.oneof(fc.constant([]), fc.string(), fc.integer(), fc.constant(null), fc.constant(true)),
  );
}

function slackAndTeamsProbes(world: HostileWorld, seed: number, runs: number): Probe[] {
  const events = '/slack/events';
  const teams = '/api/messages';
  const probes: Probe[] = [];
  const pads = fc.sample(fc.integer({ min: 1, max: 256 * 1024 }), { seed, numRuns: runs });
  for (const pad of pads) {
    // Correctly signed, so only the size can be what refuses it.
    const raw = JSON.stringify({ ...eventBody(mentionEvent('red')), padding: 'x'.repeat((1 << 20) + pad) });
    const ts = Math.floor(Date.now() / 1000);
    probes.push({ what: `Slack event of ${raw.length} bytes`, send: () => rawRequest(world.open.base, { method: 'POST', path: events, headers: { ...JSON_HEADERS, 'x-slack-request-timestamp': String(ts), 'x-slack-signature': slackSignature(SIGNING_SECRET, ts, raw) }, body: raw }), allowed: [413] });
    const activity = JSON.stringify({ ...teamsActivity(world, `big-${pad}`, 'red'), padding: 'x'.repeat((1 << 20) + pad) });
    probes.push({ what: `Teams activity of ${activity.length} bytes`, send: () => rawRequest(world.open.base, { method: 'POST', path: teams, headers: JSON_HEADERS, body: activity }), allowed: [400, 413] });
  }
  probes.push({ what: 'Slack event streamed without end', send: () => streamBody(world.open.base, events, { ...JSON_HEADERS, 'x-slack-request-timestamp': String(Math.floor(Date.now() / 1000)), 'x-slack-signature': 'v0=00' }, 17 * 2 ** 20), allowed: [413] });
  probes.push({ what: 'Teams activity streamed without end', send: () => streamBody(world.open.base, teams, JSON_HEADERS, 17 * 2 ** 20), allowed: [400, 413] });
  probes.push({ what: 'Slack signed invalid JSON', send: () => signedRaw(world, '{"type":"event_callback",'), allowed: [400] });
  const malformed = fc.oneof(
    fc.string().filter((s) => !parses(s)),
    fc.constantFrom('[]', '42', '"x"', 'null', '{}'),
    fc.record({ type: fc.oneof(fc.integer(), fc.constant(null), fc.constant({}), fc.constant(['message'])) }).map((over) => JSON.stringify({ ...teamsActivity(world, 'malformed', 'red'), ...over })),
  );
  for (const body of fc.sample(malformed, { seed: seed + 1, numRuns: runs })) {
    probes.push({ what: `Teams body ${clip(body, 80)}`, send: () => rawRequest(world.open.base, { method: 'POST', path: teams, headers: JSON_HEADERS, body }), allowed: [400, 403] });
  }
  return probes;
}

/** A Slack-signed body sent as is (postSigned would re-serialise it). */
function signedRaw(world: HostileWorld, raw: string) {
  const ts = Math.floor(Date.now() / 1000);
  return rawRequest(world.open.base, { method: 'POST', path: '/slack/events', headers: { ...JSON_HEADERS, 'x-slack-request-timestamp': String(ts), 'x-slack-signature': slackSignature(SIGNING_SECRET, ts, raw) }, body: raw });
}

/** A message activity as Teams sends it, replying to the local fake connector. */
export function teamsActivity(world: HostileWorld, id: string, text: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'message',
    id,
    timestamp: new Date().toISOString(),
    serviceUrl: world.connector.base,
    channelId: 'msteams',
    from: { id: '29:mallory', name: 'Mallory', aadObjectId: 'aad-mallory' },
    recipient: { id: '28:referent', name: 'Referent' },
    conversation: { id: `a:personal-${id}`, conversationType: 'personal', tenantId: TENANT },
    channelData: { tenant: { id: TENANT } },
    text,
    ...over,
  };
}

/** Over-long text reaches the assistant through Slack and Teams too: a polite error, not a crash. */
async function longTextInChats(world: HostileWorld, seed: number, runs: number, tally: Tally): Promise<void> {
  const lengths = fc.sample(fc.integer({ min: world.config.maxTextChars + 1, max: world.config.maxTextChars + 20_000 }), { seed: seed + 2, numRuns: runs });
  for (const [n, length] of lengths.entries()) {
    const user = `ULONG${n}`;
    const res = await slackPost(world, eventBody(mentionEvent('r'.repeat(length), { user })));
    const told = await waitUntil(() => world.slack.calls.some((c) => c.method === 'chat.postEphemeral' && c.args.user === user), 15_000);
    const shown = world.slack.calls.filter((c) => c.args.user === user).map((c) => String(c.args.text)).join('\n');
    tally.badInputs++;
    if (res.status !== 200 || !told || leakIn(world, shown)) tally.failures.push(`seed ${seed}: Slack mention of ${length} chars: HTTP ${res.status}, ${told ? `told ${clip(shown)}` : 'no private error within 15 s'}`);
    const id = `long-${seed}-${n}`;
    const posted = await rawRequest(world.open.base, { method: 'POST', path: '/api/messages', headers: JSON_HEADERS, body: JSON.stringify(teamsActivity(world, id, 'r'.repeat(length))) });
    const replied = await waitUntil(() => world.connector.calls.some((c) => c.activityId === id && c.activity.type === 'message'), 15_000);
    const reply = world.connector.calls.find((c) => c.activityId === id && c.activity.type === 'message');
    tally.badInputs++;
    if (posted.status !== 200 || !replied || reply?.activity.attachmentLayout === 'carousel' || leakIn(world, JSON.stringify(reply?.activity ?? ''))) {
      tally.failures.push(`seed ${seed}: Teams message of ${length} chars: HTTP ${posted.status}, ${replied ? `replied ${clip(JSON.stringify(reply?.activity))}` : 'no reply within 15 s'}`);
    }
  }
}

/** Group 2. `badInputs`: bodies sent and judged, over-long chat messages in Slack and Teams included. */
export async function hostileBodies(world: HostileWorld, seed: number, runs: number): Promise<Tally> {
  const tally = emptyTally('Over-long and malformed bodies');
  for (const probe of [...webProbes(world, seed, runs), ...slackAndTeamsProbes(world, seed, runs)]) {
    let problem: string | null = null;
    let answer = { status: null as number | null, text: '' };
    try {
      answer = await probe.send();
      problem = judge(world, probe, answer);
    } catch (err) {
      problem = `the request failed: ${err instanceof Error ? err.message : String(err)}`;
    }
    tally.badInputs++;
    if (!problem && !(await healthy(world))) problem = 'the server stopped answering afterwards';
    if (problem) tally.failures.push(`seed ${seed}: ${probe.what}: ${problem}; answered ${answer.status} ${clip(answer.text)}`);
  }
  if ((Object.prototype as Record<string, unknown>).polluted !== undefined) tally.failures.push(`seed ${seed}: Object.prototype was polluted by a request body`);
  await longTextInChats(world, seed, runs, tally);
  return tally;
}

function judge(world: HostileWorld, probe: Probe, answer: { status: number | null; text: string; sent?: number }): string | null {
  if (answer.status === null) return 'no answer: the connection ended first';
  if (!probe.allowed.includes(answer.status)) return `expected ${probe.allowed.join(' or ')}`;
  const leak = leakIn(world, answer.text);
  if (leak) return `the answer shows ${leak}`;
  if (answer.status === 200) {
    if (!probe.replyMustBeError) return null;
    const first = (JSON.parse(answer.text) as { replies?: Reply[] }).replies?.[0];
    return first?.kind === 'error' ? null : 'HTTP 200 without an error reply';
  }
  // The web chat's refusals are JSON with a stable code and a sentence; Bolt's are empty bodies.
  if (answer.text && answer.text.startsWith('{')) {
    const body = JSON.parse(answer.text) as { error?: unknown; message?: unknown };
    if (typeof body.error !== 'string' || typeof body.message !== 'string') return 'a JSON refusal without a code and a sentence';
    if (probe.codes && !probe.codes.includes(body.error)) return `code ${body.error} (expected ${probe.codes.join(' or ')})`;
  }
  return null;
}
