/**
 * The Slack adapter in Socket Mode: Referent opens the WebSocket itself (apps.connections.open with
 * the app-level token), so no public URL is needed. A fake Socket Mode server on 127.0.0.1 sends
 * envelopes; Referent acknowledges each and answers through the fake Web API.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assistantFor } from '../../adapters/serve.js';
import { createSlackAdapter, type SlackAdapter } from '../../adapters/slack/slack-adapter.js';
import { ErrorCode } from '../../src/errors.js';
import type { Referent } from '../../src/open.js';
import { type FakeSlack, startFakeSlack } from '../support/fake-slack.js';
import { tempDir } from '../support/fixtures.js';
import { APP_TOKEN, BOT_TOKEN, blocksOf, buildWorld, eventBody, imageIds, meanColour, mentionEvent, slackConfig, TEAM } from '../support/slack-world.js';

describe('Slack adapter in Socket Mode (fake Socket Mode server)', () => {
  let dir: string;
  let fake: FakeSlack;
  let referent: Referent;
  let slack: SlackAdapter;

  beforeAll(async () => {
    dir = tempDir();
    fake = await startFakeSlack({ botToken: BOT_TOKEN, appToken: APP_TOKEN, teamId: TEAM });
    const config = slackConfig(path.join(dir, 'data'), fake.apiUrl, { SLACK_APP_TOKEN: APP_TOKEN, SLACK_SIGNING_SECRET: '' });
    referent = await buildWorld(dir, config);
    slack = await createSlackAdapter(referent, assistantFor(referent, config, () => {}), { ...config, slack: config.slack! }, { log: () => {}, retryConfig: { retries: 0 } });
    await slack.start();
    await fake.socket.connected();
  });
  afterAll(async () => {
    await slack.stop();
    await fake.close();
    await referent.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('connects with the app-level token and mounts nothing on the HTTP server', () => {
    expect(slack.mode).toBe('socket');
    expect(slack.mount).toBeUndefined();
    expect(fake.callsTo('apps.connections.open')[0]!.token).toBe(APP_TOKEN);
  });

  it('acknowledges a mention envelope and answers it with cards, the first one red', async () => {
    const event = mentionEvent('red');
    const ack = await fake.socket.send('events_api', eventBody(event));
    expect(ack.envelope_id).toBeTruthy();
    const placeholder = await fake.waitFor('chat.postMessage', (c) => c.args.thread_ts === event.ts);
    const update = await fake.waitFor('chat.update', (c) => c.args.ts === placeholder.response?.ts);
    const first = imageIds(blocksOf(update))[0]!;
    const [r, g, b] = await meanColour(fake.uploaded.get(first)!);
    expect(r).toBeGreaterThan(150);
    expect(g + b).toBeLessThan(150);
  });

  it('handles a redelivered envelope once', async () => {
    const event = mentionEvent('blue');
    const body = eventBody(event);
    await fake.socket.send('events_api', body);
    const first = await fake.waitFor('chat.postMessage', (c) => c.args.thread_ts === event.ts);
    await fake.waitFor('chat.update', (c) => c.args.ts === first.response?.ts);
    await fake.socket.send('events_api', body, { retryAttempt: 1 });
    const later = mentionEvent('green');
    await fake.socket.send('events_api', eventBody(later));
    const marker = await fake.waitFor('chat.postMessage', (c) => c.args.thread_ts === later.ts);
    await fake.waitFor('chat.update', (c) => c.args.ts === marker.response?.ts);
    expect(fake.callsTo('chat.postMessage').filter((c) => c.args.thread_ts === event.ts)).toHaveLength(1);
  });

  it('says plainly when the app-level token is refused', async () => {
    const config = slackConfig(path.join(dir, 'data'), fake.apiUrl, { SLACK_APP_TOKEN: 'xapp-wrong', SLACK_SIGNING_SECRET: '' });
    const wrong = await createSlackAdapter(referent, assistantFor(referent, config, () => {}), { ...config, slack: config.slack! }, { log: () => {}, retryConfig: { retries: 0 } });
    await expect(wrong.start()).rejects.toMatchObject({ code: ErrorCode.ConfigInvalid, message: expect.stringContaining('SLACK_APP_TOKEN') });
  });

  it('answers a slash command envelope privately, through its response URL', async () => {
    const ack = await fake.socket.send('slash_commands', { command: '/referent', text: 'help', team_id: TEAM, channel_id: 'CSOCK', user_id: 'UALICE', user_name: 'alice', response_url: `${fake.base}/respond/sock`, trigger_id: '1' });
    expect(ack.envelope_id).toBeTruthy();
    const help = await fake.waitFor('response_url', (c) => c.path === '/respond/sock');
    expect(help.args.response_type).toBe('ephemeral');
    expect(String(help.args.text)).toMatch(/find/i);
    expect(fake.calls.some((c) => c.args.channel === 'CSOCK')).toBe(false);
  });
});
