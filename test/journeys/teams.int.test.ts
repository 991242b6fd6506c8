/**
 * The journeys of README.md ("Try it") through Microsoft Teams: find, teach, review as a
 * team, forget with confirmation. The demo gallery `npm run demo` shows is drawn and loaded into a
 * temp folder; Referent's server runs the Teams adapter in local mode (switched on explicitly, as for
 * the Bot Framework Emulator), and every step is an activity as Teams sends it, answered over HTTP:
 * replies reach a fake Bot Framework connector on 127.0.0.1, button presses are `adaptiveCard/action`
 * invokes answered with the refreshed card. Assertions are what a person in Teams would see.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemo } from '../../scripts/demo/build.js';
import type { DemoGallery } from '../../scripts/make-demo-gallery.js';
import type { Config } from '../../src/config.js';
import { openReferent, type Referent } from '../../src/open.js';
import { tempDir, testConfig } from '../support/fixtures.js';
import { type AdaptiveCard, button, cardsOf, editsIn, type InvokeResponse, messagesIn, shownText, startTeams, type TeamsHarness, titleOf } from '../teams/teams-harness.js';
import { ADMIN, ALICE, BOB, inChannel, personal, TeamsPayloads, TENANT, type TeamsUser, type Where } from '../teams/teams-payloads.js';

interface Answer {
  /** The message's id at the connector (what a button press names as replyToId). */
  id: string;
  where: Where;
  /** The summary of a results message, or the text of a text reply. */
  text: string;
  cards: AdaptiveCard[];
}

describe('journeys through Teams (demo gallery, local mode, fake connector)', () => {
  let dir: string;
  let config: Config;
  let gallery: DemoGallery;
  let referent: Referent;
  let teams: TeamsHarness;
  let thread = 0;

  const galleryPhoto = (file: string) => fs.readFileSync(path.join(dir, 'gallery', file));
  /** A photo nobody has seen: a flat square of one colour (the demo encoder sees colours). */
  const newPhoto = (rgb: [number, number, number]) => sharp({ create: { width: 96, height: 96, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toBuffer();

  /** Says something in a new channel thread (or in `where`), with pictures pasted in; returns Referent's answer. */
  async function say(text: string, options: { from?: TeamsUser; photos?: Buffer[]; where?: Where } = {}): Promise<Answer> {
    const where = options.where ?? inChannel(String(1_700_000_500_000 + ++thread));
    const pictures = (options.photos ?? []).map((bytes, i) => TeamsPayloads.pastedPicture(teams.connector.addAttachment(bytes, 'inline', `photo-${i + 1}.png`)));
    const posted = await teams.post(teams.payloads.message(text, { where, ...(options.from ? { from: options.from } : {}), attachments: pictures }));
    expect(posted.status).toBe(200);
    const [reply] = messagesIn(posted.calls);
    if (!reply) throw new Error(`no answer to "${text}"`);
    const cards = cardsOf(reply);
    return { id: reply.id, where, text: typeof reply.activity.text === 'string' ? reply.activity.text : shownText(cards[0]), cards };
  }

  /** Presses a button on an answer as an Action.Execute invoke; returns the invoke response and what the connector got. */
  async function press(answer: Answer, card: AdaptiveCard, title: string | RegExp, options: { from?: TeamsUser; label?: string } = {}) {
    const data = { ...button(card, title).data, ...(options.label === undefined ? {} : { label: options.label }) };
    const posted = await teams.post(teams.payloads.execute(data, answer.id, { where: answer.where, ...(options.from ? { from: options.from } : {}) }));
    expect(posted.status).toBe(200);
    return { response: posted.body as InvokeResponse, calls: posted.calls };
  }
  const responseCard = (r: { response: InvokeResponse }) => {
    expect(r.response).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
    return r.response.value as AdaptiveCard;
  };

  beforeAll(async () => {
    dir = tempDir('referent-teams-journeys-');
    config = testConfig(path.join(dir, 'data'), { REFERENT_TEAMS_LOCAL: 'true', REFERENT_ADMINS: `teams:${ADMIN.aadObjectId}`, REFERENT_OCR: '0', REFERENT_BATCH_SIZE: '8' });
    gallery = await buildDemo(config, path.join(dir, 'gallery'), () => {}, true);
    referent = await openReferent(config);
    // The maintenance team's tenant may search the parts (the people collection is not shared with it).
    await referent.catalog.grant({ collectionId: (await referent.catalog.findCollection('parts'))!.id, platform: 'teams', workspace: TENANT });
    teams = await startTeams(referent, config);
  });
  afterAll(async () => {
    await teams?.close();
    await referent?.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('1. find', () => {
    it('by description: the entity first, with why and a strong band', async () => {
      const answer = await say('red valve');
      // On the demo encoder the summary adds that it only understands colours.
      expect(answer.text).toMatch(/^5 matches for "red valve"\./);
      expect(titleOf(answer.cards[0])).toBe('P-40981');
      expect(shownText(answer.cards[0])).toMatch(/Strong match · parts · is P-40981/);
    });

    it('by part number: "P-20417" puts the P-20417 card first', async () => {
      const answer = await say('P-20417');
      expect(titleOf(answer.cards[0])).toBe('P-20417');
      expect(shownText(answer.cards[0])).toContain('its label is "P-20417"');
    });

    // A labelled photo of the part: on the colour-only demo encoder an unlabelled view ties with the
    // part's own photos (the identical photo, unlabelled, may come first), which says nothing about Teams.
    const labelledView = (label: string) => gallery.entities.find((e) => e.label === label)!.images[0]!;

    it('by photo: a photo of the red valve, pasted in a personal chat, finds P-40981', async () => {
      const answer = await say('', { photos: [galleryPhoto(labelledView('P-40981'))], where: personal(ALICE) });
      expect(answer.text).toMatch(/^5 matches for your photo\./);
      expect(titleOf(answer.cards[0])).toBe('P-40981');
    });

    it('by photo with words', async () => {
      const answer = await say('valve', { photos: [galleryPhoto(labelledView('P-40981'))] });
      expect(answer.text).toMatch(/^5 matches for "valve"\./);
      expect(titleOf(answer.cards[0])).toBe('P-40981');
    });
  });

  describe('2. teach', () => {
    it('add with a new photo: added, and the next search finds it', async () => {
      const before = await referent.catalog.countItems();
      const taught = await say('add TEST-1: a small blue widget', { photos: [await newPhoto([40, 60, 210])], where: personal(ALICE) });
      expect(taught.text).toContain('Added 1 photo of TEST-1 to parts');
      expect(await referent.catalog.countItems()).toBe(before + 1);
      expect(titleOf((await say('TEST-1')).cards[0])).toBe('TEST-1');
    });

    it('add with a photo already in the gallery: linked, not copied', async () => {
      const before = await referent.catalog.countItems();
      const shelf = gallery.images.find((i) => i.collection === 'parts' && i.entity === null && i.subject === 'gate valve, brass, blue handwheel')!;
      const taught = await say('add TEST-2: a brass gate valve with a blue handwheel', { photos: [galleryPhoto(shelf.file)] });
      expect(taught.text).toContain('Linked 1 photo already in the gallery to TEST-2');
      expect(await referent.catalog.countItems()).toBe(before);
      expect(titleOf((await say('TEST-2')).cards[0])).toBe('TEST-2');
    });
  });

  describe('3. review as a team', () => {
    it("Not it from Alice changes Bob's same search", async () => {
      const alice = await say('orange hex nut', { from: ALICE });
      const first = alice.cards[0]!;
      const rejected = await press(alice, first, 'Not it', { from: ALICE });
      expect(shownText(responseCard(rejected))).toContain('✗ Rejected by Alice Martin');
      expect(editsIn(rejected.calls).map((c) => c.activityId)).toEqual([alice.id]);
      const bob = await say('orange hex nut', { from: BOB });
      expect(titleOf(bob.cards[0])).not.toBe(titleOf(first));
      const titles = bob.cards.map((c) => titleOf(c));
      expect(titles.indexOf(titleOf(first))).not.toBe(0);
    });

    it("That's it on a photo nobody labelled asks for its label in the card, then links it", async () => {
      const bob = await say('red valve', { from: BOB });
      const unlabelled = bob.cards.find((c) => /^Unlabelled image #\d+$/.test(titleOf(c)));
      expect(unlabelled, 'an unlabelled photo among the hits').toBeDefined();
      const asked = await press(bob, unlabelled!, "That's it", { from: BOB });
      const form = responseCard(asked);
      expect(shownText(form)).toContain(`What does ${titleOf(unlabelled)} show?`);
      expect(form.body.find((e) => e.type === 'Input.Text')).toMatchObject({ id: 'label', placeholder: 'P-20417', isRequired: true, maxLength: 200 });
      const linked = await press(bob, form, /That's it/, { from: BOB, label: 'TEST-3' });
      const card = responseCard(linked);
      expect(titleOf(card)).toBe('TEST-3');
      expect(shownText(card)).toContain('✓ Confirmed by Bob Osei');
      // Everyone in the thread sees it: the answer is redrawn with the labelled card.
      const [edit] = editsIn(linked.calls);
      expect(edit!.activityId).toBe(bob.id);
      expect(cardsOf(edit).map((c) => titleOf(c))).toContain('TEST-3');
      expect((await say('show TEST-3', { from: ALICE })).text).toMatch(/^TEST-3 \(parts\): 1 photo/);
    });

    it('forget asks with buttons; only an admin’s Forget removes it', async () => {
      const question = await say('forget TEST-3', { from: ADMIN });
      expect(question.text).toMatch(/^Forget TEST-3 \(parts\) and its 1 photo/);
      expect(question.cards[0]!.actions!.map((a) => [a.title, a.style])).toEqual([
        ['Forget TEST-3', 'destructive'],
        ['Keep it', undefined],
      ]);
      const byAlice = await press(question, question.cards[0]!, 'Forget TEST-3', { from: ALICE });
      expect(byAlice.response).toEqual({ statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: 'Only an admin can make me forget something.' });
      const byAdmin = await press(question, question.cards[0]!, 'Forget TEST-3', { from: ADMIN });
      const answered = responseCard(byAdmin);
      expect(shownText(answered)).toMatch(/^Forgotten by Ada Admin: TEST-3 \(parts\), with its 1 photo/);
      expect(answered.actions).toBeUndefined();
      expect(editsIn(byAdmin.calls).map((c) => c.activityId)).toEqual([question.id]);
      expect((await say('show TEST-3')).text).toContain('I don\'t know anything called "TEST-3" here');
    });
  });

  it('logged nothing unexpected', () => {
    expect(teams.logged.filter((l) => /unexpected|failed/.test(l))).toEqual([]);
  });
});
