/**
 * Name this person in Teams (local mode, fake connector): `faces` answers a carousel with the button
 * on each unknown group's card; pressing it asks for the name in the label card That's it shows on a
 * photo nobody labelled (in place for Universal Actions, as a message of its own for Action.Submit),
 * and the name names the group and redraws its card with who named it. The same value pressed where
 * the collection is not granted is answered as a group that is not there.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { openReferent, type Referent } from '../../src/open.js';
import { addFacePeople } from '../faces/face-people.js';
import { tempDir, testConfig } from '../support/fixtures.js';
import { type AdaptiveCard, button, cardsOf, editsIn, type InvokeResponse, messagesIn, shownText, startTeams, type TeamsHarness, titleOf } from './teams-harness.js';
import { ALICE, CHANNEL, inChannel, personal, type TeamsPayloads, TENANT } from './teams-payloads.js';

const CARD_TYPE = 'application/vnd.microsoft.card.adaptive';
const MESSAGE_TYPE = 'application/vnd.microsoft.activity.message';

describe('Name this person in Teams', () => {
  let dir: string;
  let config: Config;
  let referent: Referent;
  let teams: TeamsHarness;
  let say: TeamsPayloads;
  let people: Awaited<ReturnType<typeof addFacePeople<'bo1' | 'bo2' | 'cy'>>>;

  /** `faces` in the channel thread `root`: the carousel the connector received. */
  async function faces(root: string) {
    const posted = await teams.post(say.message('faces', { where: inChannel(root) }));
    expect(posted.status).toBe(200);
    const [answer] = messagesIn(posted.calls);
    expect(answer, 'an answer to "faces"').toBeDefined();
    return answer!;
  }

  beforeAll(async () => {
    dir = tempDir();
    config = testConfig(path.join(dir, 'data'), { REFERENT_TEAMS_LOCAL: 'true', REFERENT_OCR: '0' });
    referent = await openReferent(config);
    // Granted to the channel only: a personal chat in the same tenant does not see it.
    people = await addFacePeople(
      referent,
      'people',
      [
        { name: 'bo1', people: [1] },
        { name: 'bo2', people: [1] },
        { name: 'cy', people: [2] },
      ],
      [{ platform: 'teams', workspace: TENANT, channel: CHANNEL }],
    );
    teams = await startTeams(referent, config);
    say = teams.payloads;
  });
  afterAll(async () => {
    await teams?.close();
    await referent?.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('asks for the name in the card (Action.Execute), refuses a bad one there, then names the group and redraws the carousel', async () => {
    const root = '1700000000301';
    const carousel = await faces(root);
    const [bo, cy] = cardsOf(carousel);
    expect(titleOf(bo)).toMatch(/^Unknown face group \d+$/);
    expect(shownText(bo)).toContain('2 photos, not named yet');
    expect(bo!.body[0]).toMatchObject({ type: 'Image', url: expect.stringMatching(/^data:image\/jpeg;base64,/) });
    const name = button(bo, 'Name this person');
    expect(name).toMatchObject({ type: 'Action.Execute', verb: 'referent', style: 'positive', fallback: { type: 'Action.Submit', title: 'Name this person' } });

    const asked = await teams.post(say.execute(name.data, carousel.id, { where: inChannel(root) }));
    expect(asked.body).toMatchObject({ statusCode: 200, type: CARD_TYPE });
    const form = (asked.body as InvokeResponse).value as AdaptiveCard;
    expect(shownText(form)).toMatch(/Who is this\? 2 photos in people show this face\./);
    expect(form.body.find((e) => e.type === 'Input.Text')).toMatchObject({ id: 'label', isRequired: true, maxLength: 200 });
    expect(asked.calls).toEqual([]);

    const refused = await teams.post(say.execute({ ...button(form, 'Name').data, label: 'Bo: tall' }, carousel.id, { where: inChannel(root) }));
    const again = (refused.body as InvokeResponse).value as AdaptiveCard;
    expect(shownText(again)).toContain('without a colon');
    expect(button(again, 'Name').data).toEqual(button(form, 'Name').data);
    expect(await referent.catalog.findEntities('Bo')).toEqual([]);

    const named = await teams.post(say.execute({ ...button(form, 'Name').data, label: 'Bo Brown' }, carousel.id, { where: inChannel(root) }));
    const card = (named.body as InvokeResponse).value as AdaptiveCard;
    expect(titleOf(card)).toBe('Bo Brown');
    expect(shownText(card)).toContain('✓ Named Bo Brown by Alice Martin');
    expect(card.actions ?? []).toEqual([]);
    const [edit] = editsIn(named.calls);
    expect(edit!.activityId).toBe(carousel.id);
    expect(cardsOf(edit).map(titleOf)).toEqual(['Bo Brown', titleOf(cy)]);
    const [entity] = await referent.catalog.findEntities('Bo Brown');
    expect((await referent.catalog.entityItems(entity!.id)).map((i) => i.id).sort()).toEqual([people.ids.bo1, people.ids.bo2].sort());
    expect(cardsOf(await faces('1700000000302')).map(titleOf)).toEqual([titleOf(cy)]);
  });

  it('answers the same button pressed in a personal chat, where the collection is not granted, as a group that is not there', async () => {
    const carousel = await faces('1700000000303');
    const data = button(cardsOf(carousel)[0], 'Name this person').data;
    const posted = await teams.post(say.execute(data, carousel.id, { where: personal(ALICE) }));
    expect(posted.body).toEqual({ statusCode: 200, type: MESSAGE_TYPE, value: expect.stringMatching(/^There is no unknown face group \d+ here now/) });
    expect(posted.calls).toEqual([]);
  });

  it('asks in a message of its own for Action.Submit clients, and edits it and the carousel once named', async () => {
    const root = '1700000000304';
    const carousel = await faces(root);
    const cy = cardsOf(carousel)[0]!;
    const asked = await teams.post(say.submit(button(cy, 'Name this person').data, carousel.id, { where: inChannel(root) }));
    const [form] = messagesIn(asked.calls);
    const label = cardsOf(form)[0]!;
    expect(label.body.some((e) => e.type === 'Input.Text' && e.id === 'label')).toBe(true);
    const named = await teams.post(say.submit({ ...button(label, 'Name').data, label: 'Cy' }, form!.id, { where: inChannel(root) }));
    expect(editsIn(named.calls).map((c) => c.activityId)).toEqual([form!.id, carousel.id]);
    expect(shownText(cardsOf(editsIn(named.calls)[1])[0])).toContain('✓ Named Cy by Alice Martin');
    expect((await referent.catalog.getItem(people.ids.cy))!.entityLabel).toBe('Cy');
  });
});
