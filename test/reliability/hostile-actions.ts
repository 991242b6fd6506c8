/**
 * Group 3: card buttons that are not ours. The web chat's action endpoint, Slack's block_actions
 * and Teams' Action.Submit get unknown actions and forged values (another scope's item, an id that
 * does not exist, negative, huge, NaN, strings): no crash, no 5xx, an error reply or nothing, and
 * the catalogue (verdicts, items, entities, texts) exactly as it was.
 */
import fc from 'fast-check';
import type { Reply } from '../../src/chat/reply.js';
import { buttonPress } from '../support/slack-world.js';
import { teamsActivity } from './hostile-bodies.js';
import { emptyTally, type Tally } from './tally.js';
import { catalogueCounts, clip, type HostileWorld, leakIn, postJson, sameCounts, slackPost } from './hostile-world.js';
import { waitUntil } from '../support/wait.js';

interface Ids {
  visible: number[];
  foreign: number[];
  maxId: number;
}

async function itemIds(world: HostileWorld): Promise<Ids> {
  const { catalog, encoder } = world.referent;
  const parts = (await catalog.findCollection('parts'))!.id;
  const all = [...await catalog.itemVectors(encoder.modelId, 0, 1_000_000)];
  return { visible: all.filter((v) => v.collectionId === parts).map((v) => v.itemId), foreign: all.filter((v) => v.collectionId !== parts).map((v) => v.itemId), maxId: Math.max(...all.map((v) => v.itemId)) };
}

const KINDS = ['confirm', 'reject', 'more'] as const;
const valid = (i: unknown, a: unknown = 'confirm') => ({ v: 1, a, i, q: 'red', e: null, b: 'strong', w: 'similarity 0.9', t: true });

/**
 * Button values that must be refused. Every one has a defect: an unknown action, an item this
 * scope cannot see or that cannot exist, or a field of the wrong shape (never a valid verdict).
 */
function forgedValues(ids: Ids): fc.Arbitrary<string> {
  const visible = fc.constantFrom(...ids.visible);
  const kind = fc.constantFrom(...KINDS);
  const badId = fc.oneof(
    fc.constantFrom(...ids.foreign),
    fc.integer({ min: ids.maxId + 1, max: ids.maxId + 1_000_000 }),
    fc.integer({ min: -1_000_000_000, max: 0 }),
    fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e300, max: 1e300 }).filter((d) => !Number.isInteger(d)),
    fc.constantFrom(1e300, Number.MAX_SAFE_INTEGER + 2, 2 ** 63),
    visible.map((i) => String(i)),
    visible.map((i) => [i]),
    fc.boolean(),
  );
  const wrongField = fc.oneof(
    visible.map((i) => ({ ...valid(i), v: 2 })),
    visible.map((i) => ({ ...valid(i), b: 'certain' })),
    visible.map((i) => ({ ...valid(i), t: 'yes' })),
    visible.map((i) => ({ ...valid(i), q: 'q'.repeat(1001) })),
    visible.map((i) => ({ ...valid(i), e: 'RED-1' })),
    visible.map((i) => ({ v: 1, a: 'confirm', i })),
  );
  return fc.oneof(
    fc.tuple(visible, fc.string().filter((a) => !(KINDS as readonly string[]).includes(a))).map(([i, a]) => JSON.stringify(valid(i, a))),
    fc.tuple(badId, kind).map(([i, a]) => JSON.stringify(valid(i, a))),
    wrongField.map((v) => JSON.stringify(v)),
    // What JSON.stringify cannot write: NaN, Infinity, an id past any double.
    fc.constantFrom('NaN', 'Infinity', '-0', '1e400').map((i) => JSON.stringify(valid(0)).replace('"i":0', `"i":${i}`)),
    fc.string({ maxLength: 300 }),
    fc.string({ minLength: 2001, maxLength: 3999 }),
  );
}

async function webActions(world: HostileWorld, values: string[], seed: number, tally: Tally): Promise<void> {
  const url = `${world.open.base}/api/action`;
  const bodies: unknown[] = [...values.map((value) => ({ value })), { value: 'x'.repeat(4001) }, { value: 42 }, { value: null }, { value: { v: 1 } }, {}, []];
  for (const body of bodies) {
    const before = catalogueCounts(world);
    const res = await postJson(url, body);
    tally.badInputs++;
    let problem: string | null = null;
    if (res.status === 200) {
      const answer = JSON.parse(res.text) as { replies: Reply[]; card: unknown };
      if (answer.replies[0]?.kind !== 'error' || answer.card !== null) problem = 'HTTP 200 without an error reply';
    } else if (res.status !== 400) {
      problem = `HTTP ${res.status}`;
    }
    const leak = leakIn(world, res.text);
    if (leak) problem = `the answer shows ${leak}`;
    if (!sameCounts(before, catalogueCounts(world))) problem = `the catalogue changed (${JSON.stringify(before)} → ${JSON.stringify(catalogueCounts(world))})`;
    if (problem) tally.failures.push(`seed ${seed}: web action ${clip(JSON.stringify(body), 120)}: ${problem}; answered ${clip(res.text)}`);
  }
}

/** Slack buttons: unknown action ids are acknowledged and ignored; garbage values get a private error. */
async function slackActions(world: HostileWorld, values: unknown[], actionIds: string[], seed: number, tally: Tally): Promise<void> {
  const { slack } = world;
  const press = (user: string, channel: string, actionId: string, value: unknown) => {
    const payload = buttonPress({ user, message: { ts: '1700000000.000100', text: 'cards', blocks: [] }, actionId, value, responseUrl: `${slack.base}/respond/${user}` });
    return slackPost(world, { form: { payload: JSON.stringify({ ...payload, channel: { id: channel, name: channel }, container: { type: 'message', message_ts: '1700000000.000100', channel_id: channel } }) } });
  };
  const ignored: string[] = [];
  for (const [n, actionId] of actionIds.entries()) {
    const channel = `CUNKNOWN${seed}X${n}`;
    const res = await press(`unknown${n}`, channel, actionId, JSON.stringify(valid(1)));
    tally.badInputs++;
    ignored.push(channel);
    if (res.status !== 200) tally.failures.push(`seed ${seed}: Slack button with action_id ${JSON.stringify(actionId)}: HTTP ${res.status} (expected 200, acknowledged and ignored)`);
  }
  for (const [n, value] of values.entries()) {
    const user = `garbage${seed}x${n}`;
    const channel = `CGARBAGE${seed}X${n}`;
    const res = await press(user, channel, `referent.${KINDS[n % 3]}`, value);
    const id = `U${user.toUpperCase()}`;
    const told = await waitUntil(() => slack.calls.some((c) => c.method === 'chat.postEphemeral' && c.args.user === id), 15_000);
    const here = slack.calls.filter((c) => c.args.channel === channel);
    const shown = here.map((c) => String(c.args.text ?? '')).join('\n');
    tally.badInputs++;
    const what = `seed ${seed}: Slack referent.${KINDS[n % 3]} with value ${clip(JSON.stringify(value) ?? 'undefined', 100)}`;
    if (res.status !== 200) tally.failures.push(`${what}: HTTP ${res.status}`);
    else if (!told) tally.failures.push(`${what}: no private error within 15 s`);
    else if (leakIn(world, shown)) tally.failures.push(`${what}: the answer shows ${leakIn(world, shown)}: ${clip(shown)}`);
    if (here.some((c) => c.method === 'chat.update')) tally.failures.push(`${what}: the message was edited`);
  }
  const touched = slack.calls.filter((c) => ignored.includes(String(c.args.channel)));
  for (const call of touched) tally.failures.push(`seed ${seed}: an unknown Slack action led to ${call.method} in ${String(call.args.channel)}`);
}

async function teamsSubmits(world: HostileWorld, values: unknown[], seed: number, tally: Tally): Promise<void> {
  const { connector } = world;
  for (const [n, value] of values.entries()) {
    const id = `submit-${seed}-${n}`;
    const body = teamsActivity(world, id, '', { value, replyToId: `sent-${n}` });
    const res = await postJson(`${world.open.base}/api/messages`, body);
    // Data that is not ours (no own `referent` key) is acknowledged and ignored, as Slack ignores
    // foreign buttons; the POST returns after the turn, so "no reply" needs no wait. Without any
    // value (undefined, null) it is an empty message, which gets the help.
    const ours = value === undefined || value === null || (typeof value === 'object' && Object.hasOwn(value, 'referent'));
    const replied = ours ? await waitUntil(() => connector.calls.some((c) => c.activityId === id && c.activity.type === 'message'), 15_000) : false;
    const reply = connector.calls.find((c) => c.activityId === id && c.activity.type === 'message');
    tally.badInputs++;
    const what = `seed ${seed}: Teams Action.Submit with data ${clip(JSON.stringify(value) ?? 'undefined', 100)}`;
    if (res.status !== 200) tally.failures.push(`${what}: HTTP ${res.status} ${clip(res.text)}`);
    else if (!ours && reply) tally.failures.push(`${what}: answered data that is not Referent's`);
    else if (ours && !replied) tally.failures.push(`${what}: no reply within 15 s`);
    else if (reply && leakIn(world, JSON.stringify(reply.activity))) tally.failures.push(`${what}: the reply shows ${leakIn(world, JSON.stringify(reply.activity))}`);
    if (connector.calls.some((c) => c.method === 'PUT' && c.activityId === `sent-${n}`)) tally.failures.push(`${what}: a card was updated`);
  }
}

/** Group 3. `badInputs`: button presses sent (web, Slack, Teams); the catalogue is compared before and after. */
export async function hostileActions(world: HostileWorld, seed: number, runs: number): Promise<Tally> {
  const tally = emptyTally('Unknown and forged actions');
  const ids = await itemIds(world);
  const before = catalogueCounts(world);
  const sample = <T>(arb: fc.Arbitrary<T>, offset: number, count = runs) => fc.sample(arb, { seed: seed + offset, numRuns: count });
  const forged = forgedValues(ids);
  await webActions(world, sample(forged, 0, runs * 4), seed, tally);
  const anything = fc.oneof(forged, fc.jsonValue(), fc.constant(undefined));
  // Slack always sends an action_id (a payload without one is not Slack's, and Bolt routes it nowhere).
  const unknownIds = fc.oneof(fc.constantFrom('referent.delete', 'referent.confirm ', 'REFERENT.MORE', 'referent.more.x', '', 'referent_add_reference'), fc.string());
  await slackActions(world, sample(anything, 1, runs * 2), sample(unknownIds, 2, runs * 2), seed, tally);
  const submitted = fc.oneof(forged.map((referent) => ({ referent })), fc.jsonValue().map((referent) => ({ referent })), fc.jsonValue());
  await teamsSubmits(world, sample(submitted, 3, runs * 2), seed, tally);
  const after = catalogueCounts(world);
  if (!sameCounts(before, after)) tally.failures.push(`seed ${seed}: the catalogue changed during the group: ${JSON.stringify(before)} → ${JSON.stringify(after)}`);
  return tally;
}
