/**
 * A Slack world for the adapter's tests: the colour gallery (test/support/slack-world.ts), the
 * fake Slack on 127.0.0.1, and the adapter either mounted on Referent's own HTTP server (signed
 * requests) or connected over Socket Mode. Helpers send what Slack sends and wait for what a
 * person would see.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { assistantFor } from '../../adapters/serve.js';
import { createSlackAdapter, type SlackAdapter } from '../../adapters/slack/slack-adapter.js';
import type { Config } from '../../src/config.js';
import type { Referent } from '../../src/open.js';
import { type FakeSlack, postSigned, type SlackCall, startFakeSlack } from '../support/fake-slack.js';
import { tempDir } from '../support/fixtures.js';
import { APP_TOKEN, BOT_TOKEN, blocksOf, buildWorld, SIGNING_SECRET, slackConfig, TEAM, type Block } from '../support/slack-world.js';
import { startServer, type TestServer } from '../support/web.js';
import { appMention, eventCallback } from './fixtures.js';

export interface SlackWorld {
  /** The world's temp folder (removed by close). */
  dir: string;
  fake: FakeSlack;
  config: Config;
  referent: Referent;
  slack: SlackAdapter;
  /** Every line the adapter and the assistant logged. */
  logged: string[];
  close(): Promise<void>;
}

export interface HttpWorld extends SlackWorld {
  server: TestServer;
  /** POSTs a signed Events API body, or `{ form }` (a slash command's fields). */
  send(body: object, options?: Parameters<typeof postSigned>[3]): Promise<{ status: number; text: string }>;
  /** POSTs a signed interaction payload (form field `payload`). */
  interact(payload: object): Promise<{ status: number; text: string }>;
  /** A mention in CGENERAL, answered: the placeholder and the message it became. */
  ask(text: string, options?: Parameters<typeof appMention>[1]): Promise<{ ts: string; thread: string; update: SlackCall; blocks: Block[] }>;
  /** A response URL of the fake, and what was posted to it. */
  responseUrl(name: string): string;
  responses(name: string): SlackCall[];
}

async function openWorld(env: Record<string, string>) {
  const dir = tempDir();
  const fake = await startFakeSlack({ botToken: BOT_TOKEN, appToken: APP_TOKEN, teamId: TEAM });
  const config = slackConfig(path.join(dir, 'data'), fake.apiUrl, env);
  const referent = await buildWorld(dir, config);
  const logged: string[] = [];
  const log = (line: string) => void logged.push(line);
  const assistant = assistantFor(referent, config, log);
  const slack = await createSlackAdapter(referent, assistant, { ...config, slack: config.slack! }, { log, retryConfig: { retries: 0 } });
  const cleanup = async () => {
    await fake.close();
    await referent.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { dir, fake, config, referent, slack, logged, assistant, log, cleanup };
}

export async function httpWorld(env: Record<string, string> = {}): Promise<HttpWorld> {
  const w = await openWorld(env);
  const server = await startServer(w.referent, w.config, { assistant: w.assistant, log: w.log, mounts: [w.slack.mount!] });
  const events = `${server.base}/slack/events`;
  const send = (body: object, options?: Parameters<typeof postSigned>[3]) => postSigned(events, SIGNING_SECRET, body, options);
  const respondPath = (name: string) => `/respond/${name}`;
  return {
    ...w,
    server,
    send,
    interact: (payload) => send({ form: { payload: JSON.stringify(payload) } }),
    async ask(text, options = {}) {
      const event = appMention(text, options);
      expect((await send(eventCallback(event))).status).toBe(200);
      const thread = String(event.thread_ts ?? event.ts);
      const placeholder = await w.fake.waitFor('chat.postMessage', (c) => c.args.thread_ts === thread && c.args.text === 'Searching…');
      const update = await w.fake.waitFor('chat.update', (c) => c.args.ts === placeholder.response?.ts);
      return { ts: String(placeholder.response!.ts), thread, update, blocks: blocksOf(update) };
    },
    responseUrl: (name) => `${w.fake.base}${respondPath(name)}`,
    responses: (name) => w.fake.callsTo('response_url').filter((c) => c.path === respondPath(name)),
    async close() {
      await server.close();
      await w.cleanup();
    },
  };
}

export async function socketWorld(env: Record<string, string> = {}): Promise<SlackWorld> {
  const w = await openWorld({ SLACK_APP_TOKEN: APP_TOKEN, SLACK_SIGNING_SECRET: '', ...env });
  await w.slack.start();
  await w.fake.socket.connected();
  return {
    ...w,
    async close() {
      await w.slack.stop();
      await w.cleanup();
    },
  };
}

/** The first card's title and its buttons' values, from a message's blocks. */
export function cardsOf(blocks: readonly Block[]): Array<{ itemId: number; title: string; blockId: string; values: Record<string, string> }> {
  const out: Array<{ itemId: number; title: string; blockId: string; values: Record<string, string> }> = [];
  for (const [i, b] of blocks.entries()) {
    const m = /^card:(\d+):act:/.exec(b.block_id ?? '');
    if (!m || b.type !== 'actions') continue;
    const picture = blocks.slice(0, i).reverse().find((x) => x.block_id?.startsWith(`card:${m[1]}:img:`)) as (Block & { title?: { text: string }; text?: { text: string } }) | undefined;
    const values = Object.fromEntries((b.elements ?? []).map((e) => [String(e.action_id).replace('referent.', ''), String(e.value)]));
    out.push({ itemId: Number(m[1]), title: picture?.title?.text ?? picture?.text?.text ?? '', blockId: b.block_id!, values });
  }
  return out;
}

/** The plain text of a message's first section (the reply's text). */
export const replyText = (blocks: readonly Block[]) => String((blocks.find((b) => b.type === 'section') as { text?: { text?: string } } | undefined)?.text?.text ?? '');
