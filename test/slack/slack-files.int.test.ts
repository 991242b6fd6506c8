/** Downloading posted photos: the token goes only to Slack, sizes are bounded, and Slack's sign-in page is not a photo. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import manifest from '../../adapters/slack/manifest.json' with { type: 'json' };
import { slackManifest } from '../../adapters/slack/manifest.js';
import { ADD_REFERENCE, FIND_SIMILAR, SLACK_EVENTS_PATH } from '../../adapters/slack/slack-adapter.js';
import { downloadSlackFile } from '../../adapters/slack/slack-files.js';
import { ErrorCode } from '../../src/errors.js';
import { type FakeSlack, startFakeSlack } from '../support/fake-slack.js';
import { BOT_TOKEN, pngOf } from '../support/slack-world.js';

describe('downloadSlackFile', () => {
  let fake: FakeSlack;
  let elsewhere: http.Server;
  let elsewhereUrl: string;
  const tokensSeenElsewhere: string[] = [];
  const options = () => ({ botToken: BOT_TOKEN, apiUrl: fake.apiUrl, maxBytes: 1 << 20 });

  beforeAll(async () => {
    fake = await startFakeSlack({ botToken: BOT_TOKEN });
    elsewhere = http.createServer((req, res) => {
      tokensSeenElsewhere.push(req.headers.authorization ?? '');
      res.writeHead(200, { 'content-type': 'image/png' }).end('x');
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    elsewhereUrl = `http://localhost:${(elsewhere.address() as AddressInfo).port}/evil.png`;
  });
  afterAll(async () => {
    await fake.close();
    await new Promise<void>((resolve) => elsewhere.close(() => resolve()));
  });

  it('downloads a posted photo with the bot token', async () => {
    const bytes = await pngOf([10, 20, 30]);
    const file = fake.addFile(bytes, { name: 'a.png', mimetype: 'image/png' });
    expect(Buffer.from(await downloadSlackFile(file, options()))).toEqual(bytes);
  });

  it('never sends the token to a host that is not Slack', async () => {
    const file = { id: 'F1', name: 'evil.png', mimetype: 'image/png', size: 1, url_private: elsewhereUrl };
    await expect(downloadSlackFile(file, options())).rejects.toMatchObject({ code: ErrorCode.UsageInvalid });
    const https = { ...file, url_private: 'https://files.slack.com.evil.example/x.png' };
    await expect(downloadSlackFile(https, options())).rejects.toMatchObject({ code: ErrorCode.UsageInvalid });
    expect(tokensSeenElsewhere).toEqual([]);
  });

  it('refuses a file over the limit before downloading, and one that grows past it while streaming', async () => {
    const bytes = await pngOf([1, 2, 3]);
    const file = fake.addFile(bytes, { name: 'big.png', mimetype: 'image/png' });
    await expect(downloadSlackFile({ ...file, size: 10 << 20 }, options())).rejects.toMatchObject({ code: ErrorCode.ImageTooLarge });
    await expect(downloadSlackFile({ ...file, size: 10 }, { ...options(), maxBytes: 50 })).rejects.toMatchObject({ code: ErrorCode.ImageTooLarge });
  });

  it('refuses what is not a photo, and the sign-in page Slack serves without a valid token', async () => {
    const text = fake.addFile(Buffer.from('hello'), { name: 'notes.txt', mimetype: 'text/plain' });
    await expect(downloadSlackFile(text, options())).rejects.toMatchObject({ code: ErrorCode.UsageInvalid });
    const photo = fake.addFile(await pngOf([1, 1, 1]), { name: 'p.png', mimetype: 'image/png' });
    await expect(downloadSlackFile(photo, { ...options(), botToken: 'xoxb-wrong' })).rejects.toMatchObject({ code: ErrorCode.NotFound });
  });
});

describe('Slack app manifest', () => {
  it('declares the shortcuts, command, events and scopes the adapter uses', () => {
    expect(manifest.features.shortcuts.map((s) => s.callback_id).sort()).toEqual([ADD_REFERENCE, FIND_SIMILAR].sort());
    expect(manifest.features.slash_commands.map((c) => c.command)).toEqual(['/referent']);
    expect(manifest.settings.event_subscriptions.bot_events.sort()).toEqual(['app_home_opened', 'app_mention', 'message.im']);
    expect(manifest.oauth_config.scopes.bot).toEqual(expect.arrayContaining(['app_mentions:read', 'chat:write', 'commands', 'files:read', 'files:write', 'im:history']));
    // No scope that reads channel history.
    expect(manifest.oauth_config.scopes.bot.filter((s) => /^(channels|groups|mpim):history$/.test(s))).toEqual([]);
    expect(manifest.settings.socket_mode_enabled).toBe(true);
  });

  it('points every request at /slack/events in HTTP mode', () => {
    const http = slackManifest('https://referent.example.com/');
    const url = `https://referent.example.com${SLACK_EVENTS_PATH}`;
    expect(http.settings).toMatchObject({ socket_mode_enabled: false, event_subscriptions: { request_url: url }, interactivity: { request_url: url } });
    expect(http.features.slash_commands[0]).toMatchObject({ url });
    expect(slackManifest()).toEqual(manifest);
  });
});
