/**
 * Every kind of request Slack sends, in the shapes of Slack's documentation (fixtures.ts), over
 * HTTP (signed) and Socket Mode: each is acknowledged, and what Referent does not handle is
 * ignored with one log line. Bolt answers an unacknowledged HTTP request 404 after 3 s and never
 * acks such a Socket Mode envelope, so a 200 (or an ack) here is the behaviour under test; no
 * test measures time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADD_REFERENCE_VIEW } from '../../adapters/slack/blocks.js';
import { ADD_REFERENCE, FIND_SIMILAR } from '../../adapters/slack/slack-adapter.js';
import { blocksOf, imageIds, pngOf } from '../support/slack-world.js';
import {
  appMention,
  appRateLimited,
  blockActions,
  blockSuggestion,
  directMessage,
  eventCallback,
  fileObject,
  globalShortcut,
  messageShortcut,
  slashCommand,
  urlVerification,
  viewClosed,
  viewSubmission,
} from './fixtures.js';
import { cardsOf, httpWorld, type HttpWorld, socketWorld, type SlackWorld } from './harness.js';

const ignoredLines = (logged: string[], what: RegExp) => logged.filter((l) => /acknowledged and ignored/.test(l) && what.test(l));

describe('every inbound kind over HTTP (signed requests)', () => {
  let w: HttpWorld;
  beforeAll(async () => {
    w = await httpWorld();
  });
  afterAll(async () => w.close());

  it('url_verification: answers the challenge', async () => {
    const res = await w.send(urlVerification('3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P'));
    expect(res.status).toBe(200);
    expect(res.text).toContain('3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P');
  });

  it('app_rate_limited (no inner event): 200, one log line naming the workspace, nothing sent to Slack', async () => {
    const before = w.fake.calls.length;
    const res = await w.send(appRateLimited());
    expect(res.status).toBe(200);
    expect(ignoredLines(w.logged, /app_rate_limited.*T0001/)).toHaveLength(1);
    expect(w.fake.calls.length).toBe(before);
  });

  it('app_mention: acknowledged, then answered in its thread with cards', async () => {
    const { update, blocks } = await w.ask('red');
    expect(String(update.args.text)).toMatch(/^5 matches for "red"/);
    expect(cardsOf(blocks)).toHaveLength(5);
  });

  it('message.im with a photo (file_share): acknowledged, then answered in the DM', async () => {
    const file = w.fake.addFile(await pngOf([220, 30, 30]), { name: 'red.png', mimetype: 'image/png' });
    await w.referent.catalog.grant({ collectionId: (await w.referent.catalog.findCollection('parts'))!.id, platform: 'slack', workspace: 'T0001', channel: 'DKINDS' });
    expect((await w.send(eventCallback(directMessage('', { channel: 'DKINDS', files: [fileObject(file)] })))).status).toBe(200);
    const answer = await w.fake.waitFor('chat.update', (c) => c.args.channel === 'DKINDS');
    expect(String(answer.args.text)).toMatch(/matches for your photo/);
    expect(imageIds(blocksOf(answer)).length).toBeGreaterThan(0);
  });

  it('an event Referent does not handle (reaction_added): 200 and one log line', async () => {
    const res = await w.send(eventCallback({ type: 'reaction_added', user: 'UALICE', reaction: 'thumbsup', item: { type: 'message', channel: 'CGENERAL', ts: '1.2' }, item_user: 'UBOT', event_ts: '1.3' }));
    expect(res.status).toBe(200);
    await expect.poll(() => ignoredLines(w.logged, /reaction_added/)).toHaveLength(1);
  });

  it('block_actions with a known action id: acknowledged and acted on', async () => {
    const { ts, thread, blocks } = await w.ask('blue');
    const [first] = cardsOf(blocks);
    const res = await w.interact(blockActions({ actionId: 'referent.reject', value: first!.values.reject, blockId: first!.blockId, user: 'UCAROL', message: { ts, thread_ts: thread, text: 'cards', blocks }, responseUrl: w.responseUrl('kinds-reject') }));
    expect(res.status).toBe(200);
    await w.fake.waitFor('chat.update', (c) => c.args.ts === ts && JSON.stringify(c.args.blocks).includes('✗ Rejected by carol'));
  });

  it('block_actions with an unknown action id: 200, one log line, no answer', async () => {
    const before = w.fake.calls.length;
    const res = await w.interact(blockActions({ actionId: 'other_app.approve', value: 'x', responseUrl: w.responseUrl('kinds-unknown-button') }));
    expect(res.status).toBe(200);
    expect(ignoredLines(w.logged, /block_actions with action_id "other_app\.approve"/)).toHaveLength(1);
    expect(w.fake.calls.length).toBe(before);
  });

  it('message shortcut Find similar (known): acknowledged and answered; Add as reference opens the dialog', async () => {
    const file = w.fake.addFile(await pngOf([30, 30, 220]), { name: 'blue.png', mimetype: 'image/png' });
    const ts = String(Date.now());
    expect((await w.interact(messageShortcut(FIND_SIMILAR, { ts, files: [fileObject(file)], responseUrl: w.responseUrl('kinds-find') }))).status).toBe(200);
    const placeholder = await w.fake.waitFor('chat.postMessage', (c) => c.args.thread_ts === ts);
    await w.fake.waitFor('chat.update', (c) => c.args.ts === placeholder.response?.ts && /matches for your photo/.test(String(c.args.text)));
    expect((await w.interact(messageShortcut(ADD_REFERENCE, { files: [fileObject(file)], triggerId: 'kinds.add', responseUrl: w.responseUrl('kinds-add') }))).status).toBe(200);
    await w.fake.waitFor('views.open', (c) => c.args.trigger_id === 'kinds.add');
  });

  it('message shortcut with another callback id, and a global shortcut: 200, logged, nothing opened', async () => {
    const before = w.fake.calls.length;
    expect((await w.interact(messageShortcut('other_app_shortcut', { responseUrl: w.responseUrl('kinds-other') }))).status).toBe(200);
    expect((await w.interact(globalShortcut('other_global')))).toMatchObject({ status: 200 });
    expect(ignoredLines(w.logged, /message_action with callback_id "other_app_shortcut"/)).toHaveLength(1);
    expect(ignoredLines(w.logged, /shortcut with callback_id "other_global"/)).toHaveLength(1);
    expect(w.fake.calls.length).toBe(before);
  });

  it('slash command /referent: acknowledged, answered privately; another command: 200 with an empty body, logged', async () => {
    expect((await w.send({ form: slashCommand('/referent', 'help', { responseUrl: w.responseUrl('kinds-help') }) })).status).toBe(200);
    await expect.poll(() => w.responses('kinds-help').length).toBe(1);
    const other = await w.send({ form: slashCommand('/deploy', 'prod', { responseUrl: w.responseUrl('kinds-deploy') }) });
    expect(other).toEqual({ status: 200, text: '' });
    expect(ignoredLines(w.logged, /slash command "\/deploy"/)).toHaveLength(1);
    expect(w.responses('kinds-deploy')).toHaveLength(0);
  });

  it('view_submission of the Add as reference dialog (known): a refusal shows in the field, a label is added', async () => {
    const file = w.fake.addFile(await pngOf([200, 200, 30]), { name: 'yellow.png', mimetype: 'image/png' });
    const meta = JSON.stringify({ c: 'CGENERAL', t: String(Date.now()), f: [file.id] });
    const refused = await w.interact(viewSubmission(ADD_REFERENCE_VIEW, { label: 'no: colons', text: null, collection: null }, meta));
    expect(JSON.parse(refused.text)).toEqual({ response_action: 'errors', errors: { label: expect.stringMatching(/without a colon/) } });
    expect((await w.interact(viewSubmission(ADD_REFERENCE_VIEW, { label: 'KINDS-1', text: 'a yellow thing', collection: null }, meta))).status).toBe(200);
    await w.fake.waitFor('chat.update', (c) => /Added 1 photo of KINDS-1/.test(String(c.args.text)));
  });

  it('view_submission of a dialog Referent does not know, and view_closed: 200 with an empty body (the dialog closes), logged', async () => {
    expect(await w.interact(viewSubmission('other_app_dialog', { name: 'x' }))).toEqual({ status: 200, text: '' });
    expect(await w.interact(viewClosed('other_app_dialog'))).toEqual({ status: 200, text: '' });
    expect(ignoredLines(w.logged, /view_submission with callback_id "other_app_dialog"/)).toHaveLength(1);
    expect(ignoredLines(w.logged, /view_closed with callback_id "other_app_dialog"/)).toHaveLength(1);
  });

  it('block_suggestion (an options request): 200 with an empty list of options', async () => {
    const res = await w.interact(blockSuggestion('pick_part', 'P-2'));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ options: [] });
    expect(ignoredLines(w.logged, /block_suggestion for "pick_part"/)).toHaveLength(1);
  });

  it('logged nothing unexpected', () => {
    expect(w.logged.filter((l) => /unexpected|could not process/.test(l))).toEqual([]);
  });
});

describe('unknown kinds over Socket Mode: every envelope is acked', () => {
  let w: SlackWorld;
  beforeAll(async () => {
    w = await socketWorld();
  });
  afterAll(async () => w.close());

  it('an events_api envelope without an inner event (app_rate_limited)', async () => {
    const ack = await w.fake.socket.send('events_api', appRateLimited());
    expect(ack.envelope_id).toBeTruthy();
    expect(ignoredLines(w.logged, /app_rate_limited/)).toHaveLength(1);
  });

  it('an event Referent does not handle', async () => {
    await w.fake.socket.send('events_api', eventCallback({ type: 'channel_created', channel: { id: 'CNEW', name: 'new', created: 1, creator: 'UALICE' }, event_ts: '1.1' }));
    await expect.poll(() => ignoredLines(w.logged, /channel_created/)).toHaveLength(1);
  });

  it('another slash command, another shortcut, an unknown button', async () => {
    await w.fake.socket.send('slash_commands', slashCommand('/deploy', 'prod', { responseUrl: `${w.fake.base}/respond/sock-deploy` }));
    await w.fake.socket.send('interactive', messageShortcut('other_app_shortcut', { responseUrl: `${w.fake.base}/respond/sock-other` }));
    await w.fake.socket.send('interactive', globalShortcut('other_global'));
    await w.fake.socket.send('interactive', blockActions({ actionId: 'other_app.approve', responseUrl: `${w.fake.base}/respond/sock-btn` }));
    expect(ignoredLines(w.logged, /\/deploy|other_app_shortcut|other_global|other_app\.approve/)).toHaveLength(4);
  });

  it('a dialog of another app submitted or closed, and an options request (acked with an empty list)', async () => {
    await w.fake.socket.send('interactive', viewSubmission('other_app_dialog', { name: 'x' }));
    await w.fake.socket.send('interactive', viewClosed('other_app_dialog'));
    const options = await w.fake.socket.send('interactive', blockSuggestion('pick_part', 'P'));
    expect(options.payload).toEqual({ options: [] });
  });

  it('still answers what it handles: a mention', async () => {
    const event = appMention('green');
    await w.fake.socket.send('events_api', eventCallback(event));
    const placeholder = await w.fake.waitFor('chat.postMessage', (c) => c.args.thread_ts === event.ts);
    await w.fake.waitFor('chat.update', (c) => c.args.ts === placeholder.response?.ts);
  });
});
