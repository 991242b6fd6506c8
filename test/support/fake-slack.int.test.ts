/** The fake Slack against the real @slack/web-api and @slack/socket-mode clients, offline. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isValidSlackRequest } from '@slack/bolt';
import { SocketModeClient } from '@slack/socket-mode';
import { LogLevel, WebClient, WebClientEvent } from '@slack/web-api';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeSlack, postSigned, startFakeSlack } from './fake-slack.js';

const botToken = 'xoxb-test';
const appToken = 'xapp-test';
let fake: FakeSlack;
beforeEach(async () => { fake = await startFakeSlack({ botToken, appToken }); });
afterEach(async () => { await fake.close(); });
const client = (token = botToken, retryConfig: object = { retries: 0 }) =>
  new WebClient(token, { slackApiUrl: fake.apiUrl, retryConfig, logLevel: LogLevel.ERROR });

describe('fake Slack Web API', () => {
  it('answers auth.test and refuses other tokens', async () => {
    const auth = await client().auth.test();
    expect(auth).toMatchObject({ ok: true, team_id: 'T0001', user_id: 'UBOT', bot_id: 'BBOT' });
    await expect(client('xoxb-wrong').auth.test()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
    await expect(client().apps.connections.open({})).rejects.toMatchObject({ data: { error: 'not_allowed_token_type' } });
    expect(fake.callsTo('auth.test').map((c) => c.token)).toEqual([botToken, 'xoxb-wrong']);
  });

  it('decodes JSON-encoded form fields and gives increasing ts', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '[not json' } }];
    const first = await client().chat.postMessage({ channel: 'C1', text: '{"stays":"text"}', blocks });
    const second = await client().chat.postMessage({ channel: 'C1', text: 'again', thread_ts: first.ts });
    const call = await fake.waitFor('chat.postMessage', (c) => c.args.text === 'again');
    expect(call.args.thread_ts).toBe(first.ts);
    expect(fake.calls[0]?.args.blocks).toEqual(blocks);
    expect(fake.calls[0]?.args.text).toBe('{"stays":"text"}');
    expect(Number(second.ts)).toBeGreaterThan(Number(first.ts));
    await expect(client().apiCall('no.such.method')).rejects.toMatchObject({ data: { error: 'unknown_method' } });
    expect(fake.callsTo('no.such.method')).toHaveLength(1);
  });

  it('takes a filesUploadV2 upload byte for byte', async () => {
    const png = await sharp({ create: { width: 3, height: 2, channels: 3, background: '#c0ffee' } }).png().toBuffer();
    const result = await client().filesUploadV2({ channel_id: 'C1', file: png, filename: 'tiny.png', title: 'Tiny' });
    const completed = (result.files as unknown as { files: { id: string }[] }[])[0]?.files[0];
    expect(completed).toMatchObject({ name: 'tiny.png', title: 'Tiny', mimetype: 'image/png', filetype: 'png', size: png.length });
    const id = completed?.id ?? '';
    expect(Buffer.from(fake.uploaded.get(id) ?? [])).toEqual(png);
    expect((await fake.waitFor('files.completeUploadExternal')).args.files).toEqual([{ id, title: 'Tiny' }]);
    expect((await client().files.info({ file: id })).file).toMatchObject({ id, size: png.length });
  });

  it('serves private files only with the bot token', async () => {
    const bytes = new Uint8Array([1, 2, 3, 250]);
    const file = fake.addFile(bytes, { name: 'part.jpg', mimetype: 'image/jpeg' });
    expect(file).toMatchObject({ filetype: 'jpg', size: 4 });
    const ok = await fetch(file.url_private_download, { headers: { Authorization: `Bearer ${botToken}` } });
    expect(ok.headers.get('content-type')).toBe('image/jpeg');
    expect(new Uint8Array(await ok.arrayBuffer())).toEqual(bytes);
    const anonymous = await fetch(file.url_private);
    expect(anonymous.status).toBe(200);
    expect(anonymous.redirected).toBe(true);
    expect(anonymous.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await anonymous.text()).toMatch(/<html/);
    expect((await client().files.info({ file: file.id })).file).toEqual(file);
    expect(fake.calls.map((c) => c.method)).toEqual(['files.info']); // downloads are not Web API calls
  });

  it('rate-limits with Retry-After, and the client retries', async () => {
    fake.rateLimit('chat.postMessage', 1);
    const web = client(botToken, { retries: 1, factor: 1, minTimeout: 10, maxTimeout: 20 });
    const limited = new Promise<number>((resolve) => web.once(WebClientEvent.RATE_LIMITED, resolve));
    const posted = await web.chat.postMessage({ channel: 'C1', text: 'after the wait' });
    expect(posted.ok).toBe(true);
    expect(await limited).toBe(1);
    expect(fake.callsTo('chat.postMessage').map((c) => c.rateLimited ?? false)).toEqual([true, false]);
  });
});

describe('fake Slack Socket Mode', () => {
  it('says hello, delivers an envelope and takes the ack', async () => {
    const socket = new SocketModeClient({ appToken, clientOptions: { slackApiUrl: fake.apiUrl }, logLevel: LogLevel.ERROR });
    const seen = new Promise<unknown>((resolve) => {
      socket.on('app_mention', async ({ ack, event }: { ack: () => Promise<void>; event: unknown }) => { await ack(); resolve(event); });
    });
    try {
      await socket.start();
      await fake.socket.connected();
      const event = { type: 'app_mention', user: 'U1', text: '<@UBOT> hi', channel: 'C1', ts: '1.000100' };
      const ack = await fake.socket.send('events_api', { type: 'event_callback', team_id: 'T0001', event_id: 'Ev1', event });
      expect(ack.envelope_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(await seen).toEqual(event);
      expect(fake.callsTo('apps.connections.open')[0]?.token).toBe(appToken);
    } finally {
      await socket.disconnect(); // before fake.close(), or the client schedules a reconnect
    }
  });
});

describe('postSigned', () => {
  it('signs the way Bolt verifies, and forges when asked', async () => {
    const secret = 'shh';
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString(); }).on('end', () => {
        const valid = isValidSlackRequest({
          signingSecret: secret, body,
          headers: { 'x-slack-signature': String(req.headers['x-slack-signature']), 'x-slack-request-timestamp': Number(req.headers['x-slack-request-timestamp']) },
        });
        res.writeHead(valid ? 200 : 401).end(`${req.headers['content-type']} ${body}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
    try {
      const json = await postSigned(url, secret, { type: 'event_callback', event: { type: 'app_mention' } });
      expect(json).toEqual({ status: 200, text: 'application/json {"type":"event_callback","event":{"type":"app_mention"}}' });
      const form = await postSigned(url, secret, { form: { payload: JSON.stringify({ type: 'block_actions' }) } });
      expect(form.status).toBe(200);
      expect(form.text).toMatch(/^application\/x-www-form-urlencoded payload=%7B/);
      expect((await postSigned(url, secret, { a: 1 }, { signature: 'v0=forged' })).status).toBe(401);
      expect((await postSigned(url, secret, { a: 1 }, { timestamp: Math.floor(Date.now() / 1000) - 600 })).status).toBe(401);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
