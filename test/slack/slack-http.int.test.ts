/**
 * The Slack adapter in HTTP mode, end to end: signed requests to POST /slack/events on Referent's
 * own server (real catalogue, HNSW and ONNX demo encoder), answers going to a fake Slack Web API
 * on 127.0.0.1 that speaks Slack's wire protocol.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assistantFor } from '../../adapters/serve.js';
import { ADD_REFERENCE, createSlackAdapter, FIND_SIMILAR } from '../../adapters/slack/slack-adapter.js';
import type { Config } from '../../src/config.js';
import { ErrorCode } from '../../src/errors.js';
import type { Referent } from '../../src/open.js';
import { type FakeSlack, postSigned, startFakeSlack } from '../support/fake-slack.js';
import { tempDir } from '../support/fixtures.js';
import { startServer, type TestServer } from '../support/web.js';
import {
  BOT_TOKEN,
  blocksOf,
  buttonPress,
  messageShortcut,
  buildWorld,
  eventBody,
  imageIds,
  meanColour,
  mentionEvent,
  nextTs,
  pngOf,
  SIGNING_SECRET,
  slackConfig,
  TEAM,
  textsOf,
} from '../support/slack-world.js';

describe('Slack adapter over HTTP (signed requests, fake Web API)', () => {
  let dir: string;
  let fake: FakeSlack;
  let config: Config;
  let referent: Referent;
  let server: TestServer;
  let events: string;
  const logged: string[] = [];

  const send = (body: object, options?: Parameters<typeof postSigned>[3]) => postSigned(events, SIGNING_SECRET, body, options);
  const interact = (payload: object) => send({ form: { payload: JSON.stringify(payload) } });
  /** Posts a mention and returns the placeholder and the update that replaced it. */
  async function ask(text: string, options: Parameters<typeof mentionEvent>[1] = {}) {
    const event = mentionEvent(text, options);
    expect((await send(eventBody(event))).status).toBe(200);
    const placeholder = await fake.waitFor('chat.postMessage', (c) => c.args.thread_ts === event.ts && !c.rateLimited);
    const update = await fake.waitFor('chat.update', (c) => c.args.ts === placeholder.response?.ts && !c.rateLimited);
    return { event, placeholder, update, blocks: blocksOf(update) };
  }
  const uploadedColour = async (fileId: string) => meanColour(fake.uploaded.get(fileId)!);

  beforeAll(async () => {
    dir = tempDir();
    fake = await startFakeSlack({ botToken: BOT_TOKEN, teamId: TEAM });
    config = slackConfig(path.join(dir, 'data'), fake.apiUrl);
    referent = await buildWorld(dir, config);
    const assistant = assistantFor(referent, config, (l) => logged.push(l));
    const slack = await createSlackAdapter(referent, assistant, { ...config, slack: config.slack! }, { log: (l) => logged.push(l), retryConfig: { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 20 } });
    server = await startServer(referent, config, { assistant, log: (l) => logged.push(l), mounts: [slack.mount!] });
    events = `${server.base}/slack/events`;
  });
  afterAll(async () => {
    await server.close();
    await fake.close();
    await referent.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers a mention with "Searching…", then edits it into Block Kit cards whose first image is red', async () => {
    const { placeholder, update, blocks } = await ask('red');
    expect(placeholder.args.text).toBe('Searching…');
    expect(placeholder.args.channel).toBe('CGENERAL');
    expect(update.args.text).toMatch(/^5 matches for "red"/);
    expect(blocks.length).toBeLessThanOrEqual(50);
    const images = imageIds(blocks);
    expect(images).toHaveLength(5);
    const [r, g, b] = await uploadedColour(images[0]!);
    expect(r).toBeGreaterThan(150);
    expect(g + b).toBeLessThan(150);
    const buttons = blocks.find((x) => x.type === 'actions')!.elements!.map((e) => e.action_id);
    expect(buttons).toEqual(['referent.confirm', 'referent.reject', 'referent.more']);
    // Uploaded once per workspace: asking again reuses the files.
    const uploads = fake.callsTo('files.getUploadURLExternal').length;
    const again = await ask('red');
    expect(imageIds(again.blocks)).toEqual(images);
    expect(fake.callsTo('files.getUploadURLExternal')).toHaveLength(uploads);
  });

  it("records That's it from a button and edits the card in place to say who gave it", async () => {
    const { update, blocks } = await ask('blue');
    const actions = blocks.find((x) => x.type === 'actions')!;
    const confirm = actions.elements!.find((e) => e.action_id === 'referent.confirm')!;
    const messageTs = update.args.ts as string;
    const before = await referent.catalog.countItems();
    await interact(
      buttonPress({ user: 'alice', message: { ts: messageTs, thread_ts: messageTs, text: update.args.text, blocks }, actionId: 'referent.confirm', blockId: actions.block_id, value: confirm.value, responseUrl: `${fake.base}/respond/1` }),
    );
    const edited = await fake.waitFor('chat.update', (c) => c.args.ts === messageTs && JSON.stringify(c.args.blocks).includes('Confirmed by alice'));
    expect(blocksOf(edited).filter((b) => b.type === 'image')).toHaveLength(5);
    const thanks = await fake.waitFor('chat.postEphemeral', (c) => c.args.user === 'UALICE' && /Thanks, alice/.test(String(c.args.text)));
    expect(thanks.args.channel).toBe('CGENERAL');
    const itemId = Number(/^card:(\d+):/.exec(actions.block_id!)![1]);
    expect(await referent.catalog.getItem(itemId)).not.toBeNull();
    expect(await referent.catalog.countItems()).toBe(before);
  });

  it('adds a photo posted in a direct message with "add X: …", and later shows it by its Slack file', async () => {
    const file = fake.addFile(await pngOf([20, 200, 40]), { name: 'teapot.png', mimetype: 'image/png' });
    const ts = nextTs();
    const dm = { type: 'message', subtype: 'file_share', channel_type: 'im', channel: 'DALICE', user: 'UALICE', text: 'add TEAPOT-7: a green teapot', ts, event_ts: ts, files: [file] };
    await referent.catalog.grant({ collectionId: (await referent.catalog.findCollection('parts'))!.id, platform: 'slack', workspace: TEAM, channel: 'DALICE' });
    expect((await send(eventBody(dm))).status).toBe(200);
    const done = await fake.waitFor('chat.update', (c) => c.args.channel === 'DALICE' && /Added 1 photo of TEAPOT-7 to parts/.test(String(c.args.text)));
    expect(done.args.thread_ts).toBeUndefined();
    const [entity] = await referent.catalog.findEntities('TEAPOT-7');
    expect(entity).toBeDefined();
    const [item] = await referent.catalog.entityItems(entity!.id);
    expect(await referent.catalog.platformFile({ platform: 'slack', workspace: TEAM, mediaKey: item!.mediaKey })).toBe(file.id);
    // `show` is immediate: answered without a placeholder.
    const event = mentionEvent('show TEAPOT-7');
    await send(eventBody(event));
    const shown = await fake.waitFor('chat.postMessage', (c) => c.args.thread_ts === event.ts);
    expect(imageIds(blocksOf(shown))).toEqual([file.id]);
    expect(fake.uploaded.has(file.id)).toBe(false);
  });

  it('refuses a forged signature and a stale timestamp with 401, and does nothing for them', async () => {
    const forged = mentionEvent('red');
    expect((await send(eventBody(forged), { signature: 'v0=' + '0'.repeat(64) })).status).toBe(401);
    const stale = mentionEvent('red');
    expect((await send(eventBody(stale), { timestamp: Math.floor(Date.now() / 1000) - 600 })).status).toBe(401);
    // A later genuine request is answered; the refused ones never were.
    await ask('green');
    expect(fake.calls.some((c) => c.args.thread_ts === forged.ts || c.args.thread_ts === stale.ts)).toBe(false);
  });

  it('handles an event once when Slack retries it', async () => {
    const event = mentionEvent('green');
    const body = eventBody(event);
    expect((await send(body)).status).toBe(200);
    const first = await fake.waitFor('chat.postMessage', (c) => c.args.thread_ts === event.ts);
    await fake.waitFor('chat.update', (c) => c.args.ts === first.response?.ts);
    expect((await send(body, { headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } })).status).toBe(200);
    // A later event is answered after the retry was dropped (same pipeline, in order).
    await ask('blue');
    expect(fake.callsTo('chat.postMessage').filter((c) => c.args.thread_ts === event.ts)).toHaveLength(1);
  });

  it('escapes mentions, links and formatting that arrive in a question', async () => {
    const hostile = '<!channel> *bold* <@U999|mallory> <https://evil.example|click> &lt;!here&gt; red';
    const { update, blocks } = await ask(hostile);
    const fallback = String(update.args.text);
    const { mrkdwn, plain } = textsOf(blocks);
    for (const text of [fallback, ...mrkdwn]) {
      expect(text).not.toMatch(/<!|<@|<https?:/);
    }
    expect(fallback).toContain('&lt;!here&gt;');
    expect(fallback).toContain('@\u200bchannel');
    // Plain-text objects are never parsed by Slack: the words show as typed.
    expect(plain.some((t) => t.includes('"@channel *bold* @mallory click <!here> red"'))).toBe(true);
  });

  it('tells only the asker when a channel was given no collection, and removes the placeholder', async () => {
    const event = mentionEvent('red', { channel: 'CELSEWHERE' });
    await send(eventBody(event, 'T0002'));
    const told = await fake.waitFor('chat.postEphemeral', (c) => c.args.channel === 'CELSEWHERE');
    expect(told.args.user).toBe('UALICE');
    expect(String(told.args.text)).toContain('referent grant &lt;collection&gt; slack:T0002/CELSEWHERE');
    await fake.waitFor('chat.delete', (c) => c.args.channel === 'CELSEWHERE');
    expect(fake.callsTo('chat.update').some((c) => c.args.channel === 'CELSEWHERE')).toBe(false);
  });

  it('keeps a channel grant to its channel', async () => {
    const inVault = await ask('yellow', { channel: 'CVAULT' });
    const [r, g] = await uploadedColour(imageIds(inVault.blocks)[0]!);
    expect(r).toBeGreaterThan(150);
    expect(g).toBeGreaterThan(150);
    const elsewhere = await ask('yellow');
    expect(String(elsewhere.update.args.text)).toMatch(/matches for "yellow"/);
    const vaultItems = new Set(imageIds(inVault.blocks).slice(0, 3));
    expect(imageIds(elsewhere.blocks).some((id) => vaultItems.has(id))).toBe(false);
  });

  it('shows titles without images where the app may not upload, says why once, and stops trying', async () => {
    await referent.catalog.grant({ collectionId: (await referent.catalog.findCollection('parts'))!.id, platform: 'slack', workspace: 'T0003' });
    fake.answer('files.getUploadURLExternal', () => ({ ok: false, error: 'missing_scope', needed: 'files:write' }));
    try {
      const askIn = async (text: string) => {
        const event = mentionEvent(text);
        await send(eventBody(event, 'T0003'));
        const placeholder = await fake.waitFor('chat.postMessage', (c) => c.args.thread_ts === event.ts);
        return blocksOf(await fake.waitFor('chat.update', (c) => c.args.ts === placeholder.response?.ts));
      };
      const first = await askIn('red');
      expect(imageIds(first)).toEqual([]);
      expect(first.filter((b) => b.type === 'section' && String(b.block_id).startsWith('card:'))).toHaveLength(5);
      const attempts = fake.callsTo('files.getUploadURLExternal').length;
      await askIn('blue');
      expect(fake.callsTo('files.getUploadURLExternal')).toHaveLength(attempts);
      expect(logged.filter((l) => l.includes('add the files:write scope'))).toHaveLength(1);
    } finally {
      fake.answer('files.getUploadURLExternal', null);
    }
  });

  it('waits out a 429 and retries', async () => {
    fake.rateLimit('chat.update', 1, 1);
    const { update } = await ask('green');
    expect(update.rateLimited).toBeUndefined();
    expect(fake.callsTo('chat.update').filter((c) => c.args.ts === update.args.ts && c.rateLimited)).toHaveLength(1);
  });

  it('runs the "Find similar" shortcut on a posted photo, answering in its thread', async () => {
    const file = fake.addFile(await pngOf([220, 30, 30]), { name: 'red.png', mimetype: 'image/png' });
    const ts = nextTs();
    await interact(messageShortcut(FIND_SIMILAR, { ts, text: 'what is this?', files: [file], triggerId: '1.2.3', responseUrl: `${fake.base}/respond/find` }));
    const placeholder = await fake.waitFor('chat.postMessage', (c) => c.args.thread_ts === ts);
    expect(placeholder.args.text).toBe('Searching…');
    const update = await fake.waitFor('chat.update', (c) => c.args.ts === placeholder.response?.ts);
    const [r, g, b] = await uploadedColour(imageIds(blocksOf(update))[0]!);
    expect(r).toBeGreaterThan(150);
    expect(g + b).toBeLessThan(150);
  });

  it('adds a posted photo through the "Add as reference" dialog', async () => {
    const file = fake.addFile(await pngOf([30, 30, 220]), { name: 'valve.png', mimetype: 'image/png' });
    const ts = nextTs();
    await interact(messageShortcut(ADD_REFERENCE, { ts, text: 'the new blue valve', files: [file], triggerId: '9.9.9', responseUrl: `${fake.base}/respond/add` }));
    const opened = await fake.waitFor('views.open', (c) => c.args.trigger_id === '9.9.9');
    const view = opened.args.view as { callback_id: string; private_metadata: string; blocks: Array<{ block_id: string; element: { initial_value?: string } }> };
    expect(view.callback_id).toBe('referent.add_reference');
    // Empty: the message's words are a placeholder, never a description stored unread.
    expect(view.blocks.find((b) => b.block_id === 'text')!.element.initial_value).toBeUndefined();
    const submit = (label: string) =>
      interact({
        type: 'view_submission',
        team: { id: TEAM, domain: 'fake' },
        user: { id: 'UBOB', name: 'bob', team_id: TEAM },
        view: { id: 'V1', type: 'modal', callback_id: view.callback_id, private_metadata: view.private_metadata, state: { values: { label: { value: { type: 'plain_text_input', value: label } }, text: { value: { type: 'plain_text_input', value: 'blue valve, 1/2 inch' } }, collection: { value: { type: 'plain_text_input', value: null } } } } },
      });
    const refused = await submit('bad: label');
    expect(JSON.parse(refused.text)).toMatchObject({ response_action: 'errors' });
    expect((await submit('VALVE-9')).status).toBe(200);
    await fake.waitFor('chat.update', (c) => c.args.channel === 'CGENERAL' && /Added 1 photo of VALVE-9 to parts/.test(String(c.args.text)));
    expect(fake.callsTo('chat.postMessage').some((c) => c.args.thread_ts === ts && c.args.text === 'Adding…')).toBe(true);
    expect(await referent.catalog.findEntities('VALVE-9')).toHaveLength(1);
  });

  it('publishes the App Home tab with help', async () => {
    await send(eventBody({ type: 'app_home_opened', user: 'UCAROL', channel: 'DCAROL', tab: 'home', event_ts: nextTs() }));
    const published = await fake.waitFor('views.publish', (c) => c.args.user_id === 'UCAROL');
    const view = published.args.view as { type: string; blocks: unknown };
    expect(view.type).toBe('home');
    expect(textsOf(view.blocks).mrkdwn.join('\n')).toMatch(/Find similar/);
  });

  it('answers More like this in the thread, with a placeholder first', async () => {
    const { update, blocks } = await ask('red');
    const actions = blocks.find((x) => x.type === 'actions')!;
    const more = actions.elements!.find((e) => e.action_id === 'referent.more')!;
    const messageTs = update.args.ts as string;
    const thread = update.args.thread_ts ?? (await fake.waitFor('chat.postMessage', (c) => c.response?.ts === messageTs)).args.thread_ts;
    await interact(buttonPress({ user: 'bob', message: { ts: messageTs, thread_ts: thread, text: update.args.text, blocks }, actionId: 'referent.more', blockId: actions.block_id, value: more.value, responseUrl: `${fake.base}/respond/more` }));
    // A new placeholder in the same thread (the answer's own placeholder became messageTs).
    const placeholder = await fake.waitFor('chat.postMessage', (c) => c.args.thread_ts === thread && c.args.text === 'Searching…' && c.response?.ts !== messageTs);
    const answer = await fake.waitFor('chat.update', (c) => c.args.ts === placeholder.response?.ts);
    expect(String(answer.args.text)).toMatch(/images? like RED-/);
    expect(imageIds(blocksOf(answer)).length).toBeGreaterThan(0);
  });

  it('answers help in a direct message, in place', async () => {
    const ts = nextTs();
    await send(eventBody({ type: 'message', channel_type: 'im', channel: 'DHELP', user: 'UALICE', text: 'help', ts, event_ts: ts }));
    const help = await fake.waitFor('chat.postMessage', (c) => c.args.channel === 'DHELP');
    expect(help.args.thread_ts).toBeUndefined();
    expect(textsOf(help.args.blocks).mrkdwn.join('\n')).toMatch(/add/);
  });

  it('asks files.info for a file the event only names (Slack Connect), then adds it', async () => {
    const file = fake.addFile(await pngOf([240, 240, 240]), { name: 'white.png', mimetype: 'image/png' });
    const event = mentionEvent('add WHITE-1: a white part', { files: [{ id: file.id, file_access: 'check_file_info' }] });
    await send(eventBody(event));
    await fake.waitFor('chat.update', (c) => /Added 1 photo of WHITE-1 to parts/.test(String(c.args.text)));
    expect(fake.callsTo('files.info').some((c) => c.args.file === file.id)).toBe(true);
  });

  it('never reads channel history', () => {
    expect(fake.calls.filter((c) => /^conversations\.(history|replies)$/.test(c.method))).toEqual([]);
  });

  it('refuses to start with a bot token Slack does not accept, and says which setting to fix', async () => {
    const wrong = slackConfig(path.join(dir, 'data'), fake.apiUrl, { SLACK_BOT_TOKEN: 'xoxb-revoked' });
    const start = createSlackAdapter(referent, assistantFor(referent, wrong, () => {}), { ...wrong, slack: wrong.slack! }, { log: () => {}, retryConfig: { retries: 0 } });
    await expect(start).rejects.toMatchObject({ code: ErrorCode.ConfigInvalid, message: expect.stringMatching(/SLACK_BOT_TOKEN was not accepted: Slack answered "invalid_auth"/) });
  });

  it("answers Slack's URL verification (signed) with its challenge", async () => {
    const response = await send({ token: 'legacy', challenge: 'c-123', type: 'url_verification' });
    expect(response.status).toBe(200);
    expect(response.text).toContain('c-123');
  });

  it('answers only POST on the events path', async () => {
    const response = await fetch(events);
    expect(response.status).toBe(405);
  });

  it('logged nothing unexpected', () => {
    expect(logged.filter((l) => /unexpected|Error/.test(l))).toEqual([]);
  });
});
