/**
 * The Teams adapter end to end: activities POSTed to /api/messages on Referent's own server (real
 * catalogue, HNSW and ONNX demo encoder) through botbuilder's CloudAdapter; replies arrive at a
 * fake Bot Framework connector on 127.0.0.1.
 */
import { createSign, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { assistantFor } from '../../adapters/serve.js';
import { createTeamsAdapter } from '../../adapters/teams/teams-adapter.js';
import type { Config } from '../../src/config.js';
import type { Referent } from '../../src/open.js';
import { type ConnectorCall, type FakeConnector, startFakeConnector } from '../support/fake-connector.js';
import { KEYS_PATH, startFakeOpenId } from '../support/fake-openid.js';
import { tempDir, testConfig } from '../support/fixtures.js';
import { startServer, type TestServer } from '../support/web.js';
import { buildWorld, meanColour, pngOf } from '../support/slack-world.js';

const TENANT = 'tenant-1';
const CHANNEL = '19:general@thread.tacv2';

type CardBody = Array<Record<string, unknown> & { type: string }>;
const cardsOf = (call: ConnectorCall) => (call.activity.attachments ?? []).map((a) => a.content as { body: CardBody; actions?: Array<{ type: string; title: string; data: { referent: string } }> });
const imagesOf = (call: ConnectorCall) => cardsOf(call).flatMap((c) => c.body.filter((e) => e.type === 'Image').map((e) => String(e.url)));
const dataUriBytes = (uri: string) => Buffer.from(uri.replace(/^data:image\/jpeg;base64,/, ''), 'base64');

describe('Teams adapter (CloudAdapter, fake connector)', () => {
  let dir: string;
  let connector: FakeConnector;
  let config: Config;
  let referent: Referent;
  let server: TestServer;
  let endpoint: string;
  let seq = 0;
  const logged: string[] = [];

  /** An activity as Teams sends it; `conversation` defaults to a channel thread. */
  function activity(over: Record<string, unknown>): Record<string, unknown> {
    const id = `incoming-${++seq}`;
    return {
      type: 'message',
      id,
      timestamp: new Date().toISOString(),
      serviceUrl: connector.base,
      channelId: 'msteams',
      from: { id: '29:alice', name: 'Alice', aadObjectId: 'aad-alice' },
      recipient: { id: '28:referent', name: 'Referent' },
      conversation: { id: `${CHANNEL};messageid=${seq}`, conversationType: 'channel', tenantId: TENANT },
      channelData: { tenant: { id: TENANT }, channel: { id: CHANNEL }, team: { id: '19:team' } },
      ...over,
    };
  }
  const mention = (text: string, over: Record<string, unknown> = {}) =>
    activity({ text: `<at>Referent</at> ${text}`, entities: [{ type: 'mention', text: '<at>Referent</at>', mentioned: { id: '28:referent', name: 'Referent' } }], ...over });
  const post = (body: unknown, url = endpoint, headers: Record<string, string> = {}) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  /** Posts an activity and waits for the reply with cards to it. */
  async function ask(body: Record<string, unknown>) {
    expect((await post(body)).status).toBe(200);
    return connector.waitFor((c) => c.activityId === body.id && c.activity.type === 'message');
  }

  beforeAll(async () => {
    dir = tempDir();
    connector = await startFakeConnector();
    config = testConfig(path.join(dir, 'data'), { REFERENT_TEAMS_LOCAL: 'true' });
    referent = await buildWorld(dir, config);
    await referent.catalog.grant({ collectionId: (await referent.catalog.findCollection('parts'))!.id, platform: 'teams', workspace: TENANT });
    const assistant = assistantFor(referent, config, (l) => logged.push(l));
    const teams = createTeamsAdapter(referent, assistant, config, { log: (l) => logged.push(l) });
    server = await startServer(referent, config, { assistant, log: (l) => logged.push(l), mounts: [teams.mount] });
    endpoint = `${server.base}/api/messages`;
  });
  afterAll(async () => {
    await server.close();
    await connector.close();
    await referent.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers a mention with a typing indicator, then Adaptive Cards whose first image is red', async () => {
    const body = mention('red');
    const reply = await ask(body);
    const typing = connector.calls.find((c) => c.activityId === body.id && c.activity.type === 'typing');
    expect(typing).toBeDefined();
    expect(connector.calls.indexOf(typing!)).toBeLessThan(connector.calls.indexOf(reply));
    expect(reply.conversationId).toBe(`${CHANNEL};messageid=${seq}`);
    expect(reply.activity.text).toMatch(/^5 matches for "red"/);
    const cards = cardsOf(reply);
    expect(cards).toHaveLength(5);
    expect(reply.activity.attachments!.every((a) => a.contentType === 'application/vnd.microsoft.card.adaptive')).toBe(true);
    expect(cards[0]).toMatchObject({ type: 'AdaptiveCard', version: '1.5' });
    expect(cards[0]!.actions!.map((a) => a.title)).toEqual(["That's it", 'Not it', 'More like this']);
    const first = dataUriBytes(imagesOf(reply)[0]!);
    expect(first.length).toBeLessThan(1 << 20);
    const [r, g, b] = await meanColour(first);
    expect(r).toBeGreaterThan(150);
    expect(g + b).toBeLessThan(150);
  });

  it("records That's it from Action.Submit and updates the card in place, saying who gave it", async () => {
    const reply = await ask(mention('blue'));
    const confirm = cardsOf(reply)[0]!.actions!.find((a) => a.title === "That's it")!;
    const submit = activity({ text: '', value: confirm.data, replyToId: reply.id, conversation: { id: reply.conversationId, conversationType: 'channel', tenantId: TENANT } });
    expect((await post(submit)).status).toBe(200);
    const update = await connector.waitFor((c) => c.method === 'PUT' && c.activityId === reply.id);
    expect(cardsOf(update)).toHaveLength(5);
    expect(JSON.stringify(cardsOf(update)[0])).toContain('Confirmed by Alice');
    expect(JSON.stringify(cardsOf(update)[1])).not.toContain('Confirmed by');
  });

  it('adds an inline picture posted with "add X: …" in a personal chat', async () => {
    const url = connector.addAttachment(await pngOf([30, 200, 60]), 'inline', 'teapot.png');
    const body = activity({
      text: 'add TEAPOT-9: a green teapot',
      conversation: { id: 'a:personal-alice', conversationType: 'personal', tenantId: TENANT },
      channelData: { tenant: { id: TENANT } },
      attachments: [{ contentType: 'image/png', contentUrl: url, name: 'teapot.png' }, { contentType: 'text/html', content: '<p>add TEAPOT-9: a green teapot</p>' }],
    });
    const reply = await ask(body);
    expect(JSON.stringify(cardsOf(reply))).toContain('Added 1 photo of TEAPOT-9 to parts');
    expect(await referent.catalog.findEntities('TEAPOT-9')).toHaveLength(1);
    expect(connector.downloads.at(-1)!.path).toBe(new URL(url).pathname);
  });

  it('adds a file attached in a personal chat (download info), and refuses files that are not photos', async () => {
    const url = connector.addAttachment(await pngOf([200, 200, 30]), 'file', 'lamp.png');
    const withFile = (name: string, fileType: string, text: string) =>
      activity({ text, conversation: { id: 'a:personal-alice', conversationType: 'personal', tenantId: TENANT }, channelData: { tenant: { id: TENANT } }, attachments: [{ contentType: 'application/vnd.microsoft.teams.file.download.info', name, content: { downloadUrl: url, uniqueId: 'u1', fileType } }] });
    const added = await ask(withFile('lamp.png', 'png', 'add LAMP-2: a yellow lamp'));
    expect(JSON.stringify(cardsOf(added))).toContain('Added 1 photo of LAMP-2');
    const refused = await ask(withFile('notes.docx', 'docx', 'add LAMP-3: notes'));
    expect(JSON.stringify(cardsOf(refused))).toContain('I can only read photos, not notes.docx');
    expect(await referent.catalog.findEntities('LAMP-3')).toHaveLength(0);
  });

  it('answers an activity Teams delivers twice once', async () => {
    const body = mention('green');
    await ask(body);
    expect((await post(body)).status).toBe(200);
    // A later activity is answered after the repeat was dropped (same pipeline, in order).
    await ask(mention('blue'));
    expect(connector.calls.filter((c) => c.activityId === body.id && c.activity.type === 'message')).toHaveLength(1);
  });

  it('shows user text literally: no markdown, links or card functions from a question', async () => {
    const hostile = '*bold* [click](https://evil.example) {{DATE(2017-02-14T06:08:39Z)}} red';
    const reply = await ask(mention(hostile));
    expect(reply.activity.textFormat).toBe('plain');
    const textBlocks = cardsOf(reply).flatMap((c) => c.body.filter((e) => e.type === 'TextBlock').map((e) => String(e.text)));
    expect(textBlocks.join(' ')).not.toContain('evil.example');
    const refused = await ask(mention('show *X* [y](https://evil.example)'));
    const card = cardsOf(refused)[0]!;
    expect(card.body.every((e) => e.type === 'RichTextBlock')).toBe(true);
    const runs = JSON.stringify(card.body);
    expect(runs).toContain('[y](https://evil.example)');
  });

  it('keeps a conversation to what its tenant or channel was granted', async () => {
    const reply = await ask(mention('red', { conversation: { id: '19:other@thread.tacv2', conversationType: 'channel', tenantId: 'tenant-2' }, channelData: { tenant: { id: 'tenant-2' }, channel: { id: '19:other@thread.tacv2' } } }));
    expect(JSON.stringify(cardsOf(reply))).toContain('No collection is shared with this conversation yet');
    expect(imagesOf(reply)).toEqual([]);
  });

  it('sends the help card when added to a team, and on "help"', async () => {
    const added = activity({ type: 'conversationUpdate', membersAdded: [{ id: '28:referent' }] });
    expect((await post(added)).status).toBe(200);
    const welcome = await connector.waitFor((c) => c.activityId === added.id);
    expect(JSON.stringify(cardsOf(welcome))).toContain('Mention **@Referent**');
    const help = await ask(mention('help'));
    expect(JSON.stringify(cardsOf(help))).toContain('Mention **@Referent**');
  });

  it('in local mode, refuses to send replies off this machine, and requests that came through a proxy', async () => {
    const response = await post(mention('red', { serviceUrl: 'https://smba.trafficmanager.net/emea/' }));
    expect(response.status).toBe(403);
    // A reverse proxy on this machine would make any caller look local: proxied requests are refused too.
    expect((await post(mention('red'), endpoint, { 'x-forwarded-for': '203.0.113.9' })).status).toBe(403);
  });

  it('logged nothing unexpected', () => {
    expect(logged.filter((l) => /unexpected/.test(l))).toEqual([]);
  });
});

describe('Teams adapter with an app id', () => {
  it('refuses unauthenticated and forged activities with 401 and answers nothing', async () => {
    const dir = tempDir();
    const connector = await startFakeConnector();
    // Signing keys come from this fake, not login.botframework.com: the test stays on this machine.
    const openId = await startFakeOpenId();
    const config = testConfig(path.join(dir, 'data'), { MICROSOFT_APP_ID: '00000000-0000-0000-0000-000000000001', MICROSOFT_APP_PASSWORD: 'not-a-real-secret' });
    const referent = await buildWorld(dir, config);
    const assistant = assistantFor(referent, config, () => {});
    const teams = createTeamsAdapter(referent, assistant, config, { log: () => {}, auth: openId.auth });
    expect(teams.mode).toBe('authenticated');
    const server = await startServer(referent, config, { assistant, mounts: [teams.mount] });
    try {
      const url = `${server.base}/api/messages`;
      const body = { type: 'message', id: 'x1', serviceUrl: connector.base, channelId: 'msteams', from: { id: '29:eve' }, recipient: { id: '28:referent' }, conversation: { id: 'c1' }, text: 'red' };
      const send = (authorization?: string) =>
        fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body: JSON.stringify(body) });
      expect((await send()).status).toBe(401);
      // alg none: refused before any key is fetched.
      expect((await send('Bearer eyJhbGciOiJub25lIn0.eyJhdWQiOiJ4In0.')).status).toBe(401);
      expect(openId.requests).toEqual([]);
      // Well formed and signed, by a key the Bot Framework does not publish: botbuilder fetches the keys, then refuses
      // (and prints the refusal to the console itself, which is kept out of the test output).
      const printed: unknown[] = [];
      const quiet = vi.spyOn(console, 'error').mockImplementation((e: unknown) => void printed.push(e));
      const forged = await send(`Bearer ${rs256Token({ iss: 'https://api.botframework.com', aud: config.teams.appId, serviceurl: connector.base })}`).finally(() => quiet.mockRestore());
      expect(forged.status).toBe(401);
      expect(openId.requests).toContain(KEYS_PATH);
      expect(printed).toEqual([expect.objectContaining({ message: 'Signing Key could not be retrieved.', statusCode: 401 })]);
      expect(connector.calls).toEqual([]);
    } finally {
      await server.close();
      await connector.close();
      await openId.close();
      await referent.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** An RS256 JWT as the Bot Framework writes them, valid for an hour, signed by a key made here. */
function rs256Token(claims: Record<string, unknown>): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const signed = `${b64({ alg: 'RS256', typ: 'JWT', kid: 'not-a-published-key' })}.${b64({ nbf: now - 60, exp: now + 3600, ...claims })}`;
  return `${signed}.${createSign('RSA-SHA256').update(signed).sign(privateKey).toString('base64url')}`;
}
