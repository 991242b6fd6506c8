/**
 * What the chat issues promise of `npm start` (adapters/main.ts, in a child process): with
 * SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and SLACK_API_URL pointing at a fake Web API, a correctly
 * signed app_mention asking for "red" gets Block Kit whose first hit is red; and an activity POSTed
 * to /api/messages asking for "red", its serviceUrl at a fake connector, gets an Adaptive Card whose
 * first image is red.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeConnector, startFakeConnector } from '../support/fake-connector.js';
import { type FakeSlack, postSigned, startFakeSlack } from '../support/fake-slack.js';
import { tempDir, tinyModelDir } from '../support/fixtures.js';
import { type ServerProcess, startServerProcess } from '../support/server-process.js';
import { BOT_TOKEN, blocksOf, buildWorld, eventBody, imageIds, meanColour, mentionEvent, SIGNING_SECRET, slackConfig, TEAM } from '../support/slack-world.js';

describe('npm start with Slack settings, and Teams in local mode', () => {
  let dir: string;
  let fake: FakeSlack;
  let connector: FakeConnector;
  let child: ChildProcess;
  let base: string;
  let server: ServerProcess;

  beforeAll(async () => {
    dir = tempDir();
    fake = await startFakeSlack({ botToken: BOT_TOKEN, teamId: TEAM });
    connector = await startFakeConnector();
    const dataDir = path.join(dir, 'data');
    const world = await buildWorld(dir, slackConfig(dataDir, fake.apiUrl));
    await world.catalog.grant({ collectionId: (await world.catalog.findCollection('parts'))!.id, platform: 'teams', workspace: 'tenant-1' });
    await world.shutdown();
    // Ready once the banner names Slack too: it is printed after the URL, maybe in another chunk.
    server = await startServerProcess({ REFERENT_DATA_DIR: dataDir, REFERENT_MODEL: tinyModelDir, SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: fake.apiUrl, REFERENT_TEAMS_LOCAL: 'true' }, { ready: /Slack: / });
    child = server.process;
    base = server.base;
  }, 60_000);
  afterAll(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await fake.close();
    await connector.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('says where Slack sends its requests', () => {
    expect(server.log()).toContain(`Slack: events, interactivity and /referent at ${base}/slack/events (bot <@UBOT> in workspace ${TEAM})`);
  });

  it('answers a signed app_mention for "red" with Block Kit whose first hit is red', async () => {
    const event = mentionEvent('red');
    const response = await postSigned(`${base}/slack/events`, SIGNING_SECRET, eventBody(event));
    expect(response.status).toBe(200);
    const placeholder = await fake.waitFor('chat.postMessage', (c) => c.args.thread_ts === event.ts);
    const update = await fake.waitFor('chat.update', (c) => c.args.ts === placeholder.response?.ts);
    const blocks = blocksOf(update);
    expect(blocks.filter((b) => b.type === 'image').length).toBeGreaterThan(0);
    const [r, g, b] = await meanColour(fake.uploaded.get(imageIds(blocks)[0]!)!);
    expect(r).toBeGreaterThan(150);
    expect(g + b).toBeLessThan(150);
  });

  it('says the Teams endpoint runs in local mode', () => {
    expect(server.log()).toContain(`Teams: ${base}/api/messages in local mode (no MICROSOFT_APP_ID)`);
  });

  it('answers a Teams activity for "red" with an Adaptive Card whose first image is red', async () => {
    const activity = {
      type: 'message',
      id: 'm-red',
      serviceUrl: connector.base,
      channelId: 'msteams',
      from: { id: '29:alice', name: 'Alice', aadObjectId: 'aad-alice' },
      recipient: { id: '28:referent', name: 'Referent' },
      conversation: { id: 'a:personal', conversationType: 'personal', tenantId: 'tenant-1' },
      channelData: { tenant: { id: 'tenant-1' } },
      text: 'red',
    };
    const response = await fetch(`${base}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) });
    expect(response.status).toBe(200);
    const reply = await connector.waitFor((c) => c.activityId === 'm-red' && c.activity.type === 'message');
    const image = (reply.activity.attachments![0]!.content as { body: Array<{ type: string; url?: string }> }).body.find((e) => e.type === 'Image')!;
    const [r, g, b] = await meanColour(Buffer.from(image.url!.split(',')[1]!, 'base64'));
    expect(r).toBeGreaterThan(150);
    expect(g + b).toBeLessThan(150);
  });

  it('stops cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
