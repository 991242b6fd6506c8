/**
 * Group 5: the Teams endpoint's gate. With an app id, anything short of a Bot Framework token
 * signed by Microsoft gets 401 and nothing reaches the connector. In local mode (no app id),
 * replies may only go to a service on this machine, and proxied requests are refused.
 */
import { createHmac, createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import { teamsActivity } from './hostile-bodies.js';
import { emptyTally, type Tally } from './tally.js';
import { APP_ID, clip, type HostileWorld, leakIn, rawRequest } from './hostile-world.js';
import { KEYS_PATH } from '../support/fake-openid.js';
import { waitUntil } from '../support/wait.js';

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

/** Claims as the Bot Framework channel writes them, so only the signature or the dates can be wrong. */
const claims = (world: HostileWorld, over: Record<string, unknown> = {}) => ({ iss: 'https://api.botframework.com', aud: APP_ID, nbf: now() - 60, exp: now() + 3600, serviceurl: world.authConnector.base, ...over });

function rs256(key: KeyObject, kid: string, payload: object): string {
  const signed = `${b64({ alg: 'RS256', typ: 'JWT', kid })}.${b64(payload)}`;
  return `${signed}.${createSign('RSA-SHA256').update(signed).sign(key).toString('base64url')}`;
}

interface AuthProbe {
  kind: string;
  authorization?: string;
  /** A well-formed RS256 token is only refused once the signing keys are fetched (from the world's fake OpenID endpoint). */
  needsKeys?: boolean;
}

function authProbes(world: HostileWorld, seed: number, runs: number): AuthProbe[] {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const sample = <T>(arb: fc.Arbitrary<T>, offset: number) => fc.sample(arb, { seed: seed + offset, numRuns: runs });
  const headerSafe = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 400 });
  return [
    ...sample(fc.constant(null), 0).map((): AuthProbe => ({ kind: 'no Authorization' })),
    ...sample(fc.oneof(headerSafe.map((s) => `Bearer ${s}`), headerSafe.map((s) => `Basic ${s}`), fc.constantFrom('Bearer', 'Bearer ', 'bearer a.b.c', 'Bearer a.b.c')), 1).map((authorization): AuthProbe => ({ kind: `garbage ${clip(authorization, 40)}`, authorization })),
    ...sample(fc.constantFrom('none', 'None', 'NONE'), 2).map((alg): AuthProbe => ({ kind: `alg ${alg}`, authorization: `Bearer ${b64({ alg, typ: 'JWT' })}.${b64(claims(world))}.` })),
    ...sample(fc.uint8Array({ minLength: 1, maxLength: 64 }), 3).map((secret): AuthProbe => {
      const signed = `${b64({ alg: 'HS256', typ: 'JWT', kid: 'k1' })}.${b64(claims(world))}`;
      return { kind: 'HS256 with a random key', authorization: `Bearer ${signed}.${createHmac('sha256', secret).update(signed).digest('base64url')}` };
    }),
    ...sample(fc.stringMatching(/^[A-Za-z0-9_-]{8,40}$/), 4).map((kid): AuthProbe => ({ kind: `RS256 with a random key (kid ${kid})`, authorization: `Bearer ${rs256(privateKey, kid, claims(world))}`, needsKeys: true })),
    ...sample(fc.integer({ min: 301, max: 10_000_000 }), 5).map((age): AuthProbe => ({ kind: `RS256 expired ${age} s ago`, authorization: `Bearer ${rs256(privateKey, 'k1', claims(world, { nbf: now() - age - 3600, exp: now() - age }))}` })),
  ];
}

async function authenticated(world: HostileWorld, seed: number, runs: number, tally: Tally): Promise<void> {
  const probes = authProbes(world, seed, runs);
  for (const [n, probe] of probes.entries()) {
    const body = JSON.stringify(teamsActivity(world, `auth-${seed}-${n}`, 'red', { serviceUrl: world.authConnector.base }));
    const headers: Record<string, string> = { 'content-type': 'application/json', ...(probe.authorization ? { authorization: probe.authorization } : {}) };
    const res = await rawRequest(world.teamsAuth.base, { method: 'POST', path: '/api/messages', headers, body });
    tally.badInputs++;
    const what = `seed ${seed}: Teams with an app id, ${probe.kind}`;
    if (res.status !== 401) tally.failures.push(`${what}: HTTP ${res.status} (expected 401) ${clip(res.text)}`);
    const leak = leakIn(world, res.text);
    if (leak) tally.failures.push(`${what}: the answer shows ${leak}: ${clip(res.text)}`);
  }
  // Before any authentication: bodies botbuilder cannot read must not crash the endpoint either.
  const odd = fc.oneof(fc.integer(), fc.string({ maxLength: 5 }), fc.constant(null), fc.constant([null]), fc.constant({ id: 5 }));
  const bodies = fc.oneof(
    fc.record({ type: odd, from: odd, conversation: odd, attachments: odd, entities: odd, text: odd }, { requiredKeys: [] }).map((over) => JSON.stringify(teamsActivity(world, 'odd', 'red', over))),
    fc.constantFrom('{}', '[]', 'null', '"message"', '{"type":'),
  );
  for (const body of fc.sample(bodies, { seed: seed + 6, numRuns: runs * 2 })) {
    const res = await rawRequest(world.teamsAuth.base, { method: 'POST', path: '/api/messages', headers: { 'content-type': 'application/json' }, body });
    tally.badInputs++;
    if (res.status !== 400 && res.status !== 401) tally.failures.push(`seed ${seed}: Teams with an app id, unauthenticated body ${clip(body, 100)}: HTTP ${res.status} (expected 400 or 401) ${clip(res.text)}`);
  }
  if (world.authConnector.calls.length) tally.failures.push(`seed ${seed}: the app-id endpoint sent ${world.authConnector.calls.length} activities to its connector`);
  // Otherwise the well-formed tokens were refused before their signature was ever checked against published keys.
  if (probes.some((p) => p.needsKeys) && !world.openId.requests.includes(KEYS_PATH)) tally.failures.push(`seed ${seed}: the app-id endpoint never fetched signing keys for a well-formed RS256 token`);
}

/** Addresses a local-mode bot must not reply to: other machines, and names that only start like 127.0.0.1. */
const NOT_LOOPBACK: unknown[] = ['https://smba.trafficmanager.net/emea/', 'http://127.0.0.1.nip.io/', 'http://127.0.0.1.example.com:3978/', 'http://localhost.example.com/', 'http://0.0.0.0:3978/', 'http://169.254.169.254/latest/', 'http://[::ffff:7f00:1]/', 'file:///etc/passwd', 'javascript:alert(1)', 'not a url', ''];
const notLoopback = fc.oneof(
  fc.domain().map((d) => `https://${d}/`),
  fc.ipV4().filter((ip) => !ip.startsWith('127.')).map((ip) => `http://${ip}:3978/`),
  fc.oneof(fc.integer(), fc.constant(null), fc.constant({ url: 'http://127.0.0.1/' })),
);

async function local(world: HostileWorld, seed: number, runs: number, tally: Tally): Promise<void> {
  const { connector } = world;
  const ids: string[] = [];
  for (const [n, serviceUrl] of [...NOT_LOOPBACK, ...fc.sample(notLoopback, { seed: seed + 7, numRuns: runs * 3 })].entries()) {
    const id = `remote-${seed}-${n}`;
    ids.push(id);
    const res = await rawRequest(world.open.base, { method: 'POST', path: '/api/messages', headers: { 'content-type': 'application/json' }, body: JSON.stringify(teamsActivity(world, id, 'red', { serviceUrl })) });
    tally.badInputs++;
    if (res.status !== 403) tally.failures.push(`seed ${seed}: local Teams with serviceUrl ${JSON.stringify(serviceUrl)}: HTTP ${res.status} (expected 403) ${clip(res.text)}`);
  }
  const proxies = fc.oneof(fc.ipV4().map((ip) => ({ 'x-forwarded-for': ip })), fc.ipV4().map((ip) => ({ forwarded: `for=${ip};proto=https` })), fc.constant({ 'x-forwarded-for': '127.0.0.1' }));
  for (const [n, headers] of fc.sample(proxies, { seed: seed + 8, numRuns: runs }).entries()) {
    const id = `proxied-${seed}-${n}`;
    ids.push(id);
    const res = await rawRequest(world.open.base, { method: 'POST', path: '/api/messages', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(teamsActivity(world, id, 'red')) });
    tally.badInputs++;
    if (res.status !== 403) tally.failures.push(`seed ${seed}: local Teams through a proxy (${JSON.stringify(headers)}): HTTP ${res.status} (expected 403)`);
  }
  // A genuine local message afterwards is answered; none of the refused ones ever was.
  const control = teamsActivity(world, `control-${seed}`, 'red');
  await rawRequest(world.open.base, { method: 'POST', path: '/api/messages', headers: { 'content-type': 'application/json' }, body: JSON.stringify(control) });
  if (!(await waitUntil(() => connector.calls.some((c) => c.activityId === control.id && c.activity.type === 'message'), 15_000))) tally.failures.push(`seed ${seed}: a genuine local Teams message was not answered`);
  const answered = connector.calls.filter((c) => c.activityId !== null && ids.includes(c.activityId));
  if (answered.length) tally.failures.push(`seed ${seed}: refused local Teams messages were answered: ${answered.map((c) => c.activityId).join(', ')}`);
}

/** Group 5. `badInputs`: requests to the app-id endpoint and refused local-mode requests. */
export async function hostileTeamsAuth(world: HostileWorld, seed: number, runs: number): Promise<Tally> {
  const tally = emptyTally('Bot Framework auth');
  await authenticated(world, seed, runs, tally);
  await local(world, seed, runs, tally);
  return tally;
}
