/**
 * Every kind of activity Teams sends, as Teams shapes it (teams-payloads.ts), answered over HTTP:
 * the status code, the invoke response, and what reached the Bot Framework connector. Universal
 * Actions (Action.Execute → `adaptiveCard/action` invokes) and the Action.Submit fallback both
 * give verdicts, ask for a missing label, and answer forget's question.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assistantFor } from '../../adapters/serve.js';
import { createTeamsAdapter } from '../../adapters/teams/teams-adapter.js';
import type { Config } from '../../src/config.js';
import { ingest } from '../../src/ingest/ingest.js';
import { readSources } from '../../src/ingest/sources.js';
import type { Referent } from '../../src/open.js';
import { startFakeConnector } from '../support/fake-connector.js';
import { tempDir, testConfig } from '../support/fixtures.js';
import { buildWorld, pngOf } from '../support/slack-world.js';
import { startServer } from '../support/web.js';
import { type AdaptiveCard, button, cardsOf, editsIn, type InvokeResponse, messagesIn, shownText, startTeams, type TeamsHarness, titleOf } from './teams-harness.js';
import { ADMIN, ALICE, BOB, CHANNEL, inChannel, personal, TeamsPayloads, TENANT } from './teams-payloads.js';

const CARD_TYPE = 'application/vnd.microsoft.card.adaptive';
const MESSAGE_TYPE = 'application/vnd.microsoft.activity.message';

describe('Teams inbound activities over HTTP (local mode, fake connector)', () => {
  let dir: string;
  let config: Config;
  let referent: Referent;
  let teams: TeamsHarness;
  let say: TeamsPayloads;

  /** Asks in the channel; returns the carousel message the connector received. */
  async function search(text: string, root = '1700000000001') {
    const posted = await teams.post(say.message(text, { where: inChannel(root) }));
    expect(posted.status).toBe(200);
    const [answer] = messagesIn(posted.calls);
    expect(answer, `an answer to "${text}"`).toBeDefined();
    return answer!;
  }

  beforeAll(async () => {
    dir = tempDir();
    config = testConfig(path.join(dir, 'data'), { REFERENT_TEAMS_LOCAL: 'true', REFERENT_ADMINS: `teams:${ADMIN.aadObjectId}`, REFERENT_OCR: '0' });
    referent = await buildWorld(dir, config);
    // Photos nobody labelled, of colours no entity has: That's it on one asks for a label.
    fs.mkdirSync(path.join(dir, 'unlabelled'));
    fs.writeFileSync(path.join(dir, 'unlabelled', 'white.png'), await pngOf([245, 245, 245]));
    fs.writeFileSync(path.join(dir, 'unlabelled', 'black.png'), await pngOf([12, 12, 12]));
    const list = await readSources(path.join(dir, 'unlabelled'));
    await ingest(referent, { ...list, sources: list.sources.map((s) => ({ ...s, collection: 'parts' })) }, { collection: 'parts', batchSize: 4, maxImageBytes: 1 << 20, maxTextChars: 500 });
    await referent.references.catchUp();
    await referent.catalog.grant({ collectionId: (await referent.catalog.findCollection('parts'))!.id, platform: 'teams', workspace: TENANT });
    teams = await startTeams(referent, config);
    say = teams.payloads;
  });
  afterAll(async () => {
    await teams.close();
    await referent.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers a channel mention in its thread: typing, then a carousel of Universal Action cards', async () => {
    const activity = say.message('red');
    const posted = await teams.post(activity);
    expect(posted.status).toBe(200);
    expect(posted.body).toBeNull();
    expect(posted.calls.map((c) => [c.method, c.activity.type, c.conversationId, c.activityId])).toEqual([
      ['POST', 'typing', `${CHANNEL};messageid=1700000000001`, activity.id],
      ['POST', 'message', `${CHANNEL};messageid=1700000000001`, activity.id],
    ]);
    const cards = cardsOf(posted.calls[1]);
    expect(posted.calls[1]!.activity.text).toMatch(/^5 matches for "red"/);
    expect(titleOf(cards[0])).toMatch(/^RED-/);
    for (const a of cards[0]!.actions!) {
      expect(a).toMatchObject({ type: 'Action.Execute', verb: 'referent', data: { referent: expect.any(String) }, fallback: { type: 'Action.Submit', title: a.title, data: a.data } });
    }
  });

  it('reads a picture pasted into a personal chat, downloaded from the service', async () => {
    const url = teams.connector.addAttachment(await pngOf([30, 200, 60]), 'inline', 'teapot.png');
    const posted = await teams.post(say.message('add TEAPOT-9: a green teapot', { where: personal(ALICE), attachments: [TeamsPayloads.pastedPicture(url)] }));
    expect(posted.status).toBe(200);
    expect(shownText(cardsOf(messagesIn(posted.calls)[0])[0])).toContain('Added 1 photo of TEAPOT-9 to parts');
    expect(posted.calls[0]!.conversationId).toBe(`a:1personal-${ALICE.aadObjectId}`);
    expect(teams.connector.downloads.at(-1)!.path).toBe(new URL(url).pathname);
  });

  it('says hello with the help card when added to a team', async () => {
    const posted = await teams.post(say.botAdded());
    expect(posted.status).toBe(200);
    expect(messagesIn(posted.calls)).toHaveLength(1);
    expect(shownText(cardsOf(posted.calls[0])[0])).toContain('Mention **@Referent**');
  });

  it('acknowledges reactions, installs, typing and invokes it does not handle with 200, and sends nothing', async () => {
    const carousel = await search('blue');
    for (const activity of [say.reaction(carousel.id), say.installationUpdate('add'), say.installationUpdate('remove', personal(BOB)), say.typing(), say.composeExtensionQuery()]) {
      const posted = await teams.post(activity);
      expect([activity.type, activity.name, posted.status, posted.body, posted.calls]).toEqual([activity.type, activity.name, 200, null, []]);
    }
  });

  it('answers Not it (an adaptiveCard/action invoke) with the refreshed card, ✗ and who, and redraws the carousel', async () => {
    const carousel = await search('green');
    const first = cardsOf(carousel)[0]!;
    const posted = await teams.post(say.execute(button(first, 'Not it').data, carousel.id, { from: BOB }));
    expect(posted.status).toBe(200);
    const response = posted.body as InvokeResponse;
    expect(response).toMatchObject({ statusCode: 200, type: CARD_TYPE, value: { type: 'AdaptiveCard', version: '1.5' } });
    expect(shownText(response.value as AdaptiveCard)).toContain('✗ Rejected by Bob Osei');
    expect(shownText(response.value as AdaptiveCard)).not.toContain('✓');
    expect(messagesIn(posted.calls)).toEqual([]);
    const [edit] = editsIn(posted.calls);
    expect(edit!.activityId).toBe(carousel.id);
    expect(shownText(cardsOf(edit)[0])).toContain('✗ Rejected by Bob Osei');
    expect(cardsOf(edit)).toHaveLength(cardsOf(carousel).length);
    const confirmed = await teams.post(say.execute(button(cardsOf(carousel)[1], "That's it").data, carousel.id));
    expect(shownText((confirmed.body as InvokeResponse).value as AdaptiveCard)).toContain('✓ Confirmed by Alice Martin');
  });

  it('acknowledges an invoke from a card Referent did not send (another verb, or data without its key) and changes nothing', async () => {
    const carousel = await search('red');
    const ours = button(cardsOf(carousel)[0], 'Not it').data;
    for (const activity of [say.execute(ours, carousel.id, { verb: 'approveExpense' }), say.execute({ expenseId: 42 }, carousel.id)]) {
      const posted = await teams.post(activity);
      expect(posted.status).toBe(200);
      expect(posted.body).toEqual({ statusCode: 200, type: MESSAGE_TYPE, value: expect.any(String) });
      expect(posted.calls).toEqual([]);
    }
  });

  it('takes Action.Submit from clients without Universal Actions: ours redraws the message, a foreign one is ignored (no help card)', async () => {
    const carousel = await search('blue');
    const posted = await teams.post(say.submit(button(cardsOf(carousel)[0], "That's it").data, carousel.id));
    expect(posted.status).toBe(200);
    expect(posted.body).toBeNull();
    expect(editsIn(posted.calls).map((c) => c.activityId)).toEqual([carousel.id]);
    expect(shownText(cardsOf(editsIn(posted.calls)[0])[0])).toContain('✓ Confirmed by Alice Martin');
    const foreign = await teams.post(say.submit({ action: 'approve', requestId: 7 }, carousel.id));
    expect([foreign.status, foreign.calls]).toEqual([200, []]);
  });

  it("asks for the label when That's it is pressed on an unlabelled photo, refuses a bad one in the card, then links it", async () => {
    const carousel = await search('white', '1700000000077');
    const first = cardsOf(carousel)[0]!;
    expect(titleOf(first)).toMatch(/^Unlabelled image #\d+$/);
    const asked = await teams.post(say.execute(button(first, "That's it").data, carousel.id, { where: inChannel('1700000000077') }));
    const form = (asked.body as InvokeResponse).value as AdaptiveCard;
    expect(asked.body).toMatchObject({ statusCode: 200, type: CARD_TYPE });
    expect(form.body.find((e) => e.type === 'Input.Text')).toEqual({ type: 'Input.Text', id: 'label', label: 'Label', placeholder: 'P-20417', isRequired: true, maxLength: 200, errorMessage: expect.any(String) });
    expect(asked.calls).toEqual([]);
    const link = button(form, /That's it/);
    const refused = await teams.post(say.execute({ ...link.data, label: 'bad: label' }, carousel.id, { where: inChannel('1700000000077') }));
    expect(shownText((refused.body as InvokeResponse).value as AdaptiveCard)).toContain('without a colon');
    expect(refused.calls).toEqual([]);
    const linked = await teams.post(say.execute({ ...link.data, label: 'WHITE-CAP-7' }, carousel.id, { where: inChannel('1700000000077') }));
    const card = (linked.body as InvokeResponse).value as AdaptiveCard;
    expect(titleOf(card)).toBe('WHITE-CAP-7');
    expect(shownText(card)).toContain('✓ Confirmed by Alice Martin');
    expect(editsIn(linked.calls).map((c) => c.activityId)).toEqual([carousel.id]);
    expect(await referent.catalog.findEntities('WHITE-CAP-7')).toHaveLength(1);
  });

  it('asks for the label in a message of its own for Action.Submit clients, and edits that message once answered', async () => {
    const black = await search('black', '1700000000079');
    const unlabelled = cardsOf(black)[0]!;
    expect(titleOf(unlabelled)).toMatch(/^Unlabelled image #\d+$/);
    const asked = await teams.post(say.submit(button(unlabelled, "That's it").data, black.id, { where: inChannel('1700000000079') }));
    const [form] = messagesIn(asked.calls);
    expect(cardsOf(form)[0]!.body.some((e) => e.type === 'Input.Text' && e.id === 'label')).toBe(true);
    const answered = await teams.post(say.submit({ ...button(cardsOf(form)[0], /That's it/).data, label: 'BLACK-1' }, form!.id, { where: inChannel('1700000000079') }));
    expect(editsIn(answered.calls).map((c) => c.activityId)).toEqual([form!.id, black.id]);
    expect(titleOf(cardsOf(editsIn(answered.calls)[0])[0])).toBe('BLACK-1');
  });

  it('asks before forgetting, with Forget (destructive) and Keep it; only an admin forgets, and the question is redrawn without buttons', async () => {
    const asked = await teams.post(say.message('forget GREEN-washer', { from: ADMIN }));
    const question = messagesIn(asked.calls)[0]!;
    const card = cardsOf(question)[0]!;
    expect(shownText(card)).toMatch(/^Forget GREEN-washer \(parts\) and its 1 photo/);
    expect(card.actions!.map((a) => [a.type, a.title, a.style])).toEqual([
      ['Action.Execute', 'Forget GREEN-washer', 'destructive'],
      ['Action.Execute', 'Keep it', undefined],
    ]);
    const byAlice = await teams.post(say.execute(button(card, /^Forget/).data, question.id, { from: ALICE }));
    expect(byAlice.body).toEqual({ statusCode: 200, type: MESSAGE_TYPE, value: 'Only an admin can make me forget something.' });
    expect(byAlice.calls).toEqual([]);
    expect(await referent.catalog.findEntities('GREEN-washer')).toHaveLength(1);
    const byAdmin = await teams.post(say.execute(button(card, /^Forget/).data, question.id, { from: ADMIN }));
    const redrawn = (byAdmin.body as InvokeResponse).value as AdaptiveCard;
    expect(shownText(redrawn)).toMatch(/^Forgotten by Ada Admin: GREEN-washer/);
    expect(redrawn.actions).toBeUndefined();
    expect(editsIn(byAdmin.calls).map((c) => c.activityId)).toEqual([question.id]);
    expect(await referent.catalog.findEntities('GREEN-washer')).toHaveLength(0);
  });

  it('answers Keep it pressed through Action.Submit by editing the question', async () => {
    const asked = await teams.post(say.message('forget GREEN-hex-bolt', { from: ADMIN }));
    const question = messagesIn(asked.calls)[0]!;
    const kept = await teams.post(say.submit(button(cardsOf(question)[0], 'Keep it').data, question.id, { from: BOB }));
    expect(editsIn(kept.calls).map((c) => c.activityId)).toEqual([question.id]);
    expect(shownText(cardsOf(editsIn(kept.calls)[0])[0])).toBe('Kept GREEN-hex-bolt: Bob Osei chose not to forget it.');
    expect(await referent.catalog.findEntities('GREEN-hex-bolt')).toHaveLength(1);
  });

  it('still answers an invoke whose turn fails (the connector is unreachable): 200, an apology to the presser, logged', async () => {
    const carousel = await search('red');
    const gone = http.createServer();
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
    const { port } = gone.address() as AddressInfo;
    await new Promise<void>((resolve) => gone.close(() => resolve()));
    const activity = { ...say.execute(button(cardsOf(carousel)[0], 'More like this').data, carousel.id), serviceUrl: `http://127.0.0.1:${port}/` };
    const before = teams.logged.length;
    const posted = await teams.post(activity);
    expect(posted.status).toBe(200);
    expect(posted.body).toEqual({ statusCode: 200, type: MESSAGE_TYPE, value: 'Something went wrong on my side; it has been logged. Please try again.' });
    const failure = teams.logged.splice(before);
    expect(failure).toEqual([expect.stringMatching(/^teams: unexpected error in a turn: .*ECONNREFUSED/s)]);
  });

  it('logged nothing unexpected', () => {
    expect(teams.logged.filter((l) => /unexpected|failed/.test(l))).toEqual([]);
  });
});

describe('Teams endpoint without an app id or REFERENT_TEAMS_LOCAL', () => {
  it('is off: every activity gets 401, saying how to configure it, and nothing is sent', async () => {
    const dir = tempDir();
    const connector = await startFakeConnector();
    const config = testConfig(path.join(dir, 'data'));
    const referent = await buildWorld(dir, config);
    const assistant = assistantFor(referent, config, () => {});
    const teams = createTeamsAdapter(referent, assistant, config, { log: () => {} });
    expect(teams.mode).toBe('off');
    const server = await startServer(referent, config, { assistant, mounts: [teams.mount] });
    try {
      const say = new TeamsPayloads(connector.base);
      for (const activity of [say.message('red', { where: personal(ADMIN) }), say.execute({ referent: '{}' }, '1'), say.botAdded()]) {
        const res = await fetch(`${server.base}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) });
        expect(res.status).toBe(401);
        expect(await res.text()).toContain('REFERENT_TEAMS_LOCAL=true');
      }
      expect(connector.calls).toEqual([]);
    } finally {
      await server.close();
      await connector.close();
      await referent.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
