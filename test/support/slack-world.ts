/**
 * A data folder for the Slack tests: a colour gallery in `parts` (granted to the whole workspace
 * T0001) and `vault` (yellow, granted to channel CVAULT only), opened on the demo encoder; and
 * Slack's payloads as Slack sends them.
 */
import path from 'node:path';
import sharp from 'sharp';
import type { Config } from '../../src/config.js';
import { ingest } from '../../src/ingest/ingest.js';
import { readSources } from '../../src/ingest/sources.js';
import { openReferent, type Referent } from '../../src/open.js';
import type { SlackCall } from './fake-slack.js';
import { makeColourGallery, testConfig } from './fixtures.js';

export const TEAM = 'T0001';
export const BOT_TOKEN = 'xoxb-test-token';
export const APP_TOKEN = 'xapp-test-token';
export const SIGNING_SECRET = 'test-signing-secret';

export function slackConfig(dataDir: string, apiUrl: string, env: Record<string, string> = {}): Config {
  return testConfig(dataDir, { SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: apiUrl, REFERENT_ADMINS: 'slack:UADMIN', ...env });
}

/** Builds the gallery and grants into config.dataDir; returns the opened Referent. */
export async function buildWorld(dir: string, config: Config): Promise<Referent> {
  const referent = await openReferent(config);
  const { catalog } = referent;
  for (const [sub, colours, collection] of [
    ['parts', ['red', 'blue', 'green'], 'parts'],
    ['vault', ['yellow'], 'vault'],
  ] as const) {
    await catalog.ensureCollection(collection, 'part');
    const list = await readSources(await makeColourGallery(path.join(dir, sub), 3, [...colours]));
    list.sources = list.sources.map((s) => ({ ...s, collection }));
    await ingest(referent, list, { collection, batchSize: 4, maxImageBytes: 1 << 20, maxTextChars: 500 });
  }
  await referent.references.catchUp();
  await catalog.grant({ collectionId: (await catalog.findCollection('parts'))!.id, platform: 'slack', workspace: TEAM });
  await catalog.grant({ collectionId: (await catalog.findCollection('vault'))!.id, platform: 'slack', workspace: TEAM, channel: 'CVAULT' });
  return referent;
}

export const pngOf = (rgb: [number, number, number]) =>
  sharp({ create: { width: 48, height: 48, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toBuffer();

/** Mean colour of an image's bytes. */
export async function meanColour(bytes: Uint8Array): Promise<[number, number, number]> {
  const { channels } = await sharp(bytes).stats();
  return [channels[0]!.mean, channels[1]!.mean, channels[2]!.mean];
}

let seq = 0;
/** A unique message timestamp, as Slack writes them. */
export const nextTs = () => `1700000${String(++seq).padStart(3, '0')}.000${String(seq).padStart(3, '0')}`;

/** An Events API body (event_callback) around one event. */
export function eventBody(event: Record<string, unknown>, team = TEAM): Record<string, unknown> {
  return { token: 'legacy', team_id: team, api_app_id: 'A1', type: 'event_callback', event_id: `Ev${++seq}`, event_time: Math.floor(Date.now() / 1000), event };
}

export function mentionEvent(text: string, options: { channel?: string; user?: string; files?: unknown[]; ts?: string } = {}): Record<string, unknown> {
  const ts = options.ts ?? nextTs();
  return { type: 'app_mention', user: options.user ?? 'UALICE', text: `<@UBOT> ${text}`, ts, event_ts: ts, channel: options.channel ?? 'CGENERAL', ...(options.files ? { files: options.files } : {}) };
}

/** A message shortcut on a message with these files, as Slack posts it (interactivity payload). */
export function messageShortcut(callbackId: string, options: { ts: string; text: string; files: unknown[]; triggerId: string; responseUrl: string }): Record<string, unknown> {
  return {
    type: 'message_action',
    callback_id: callbackId,
    trigger_id: options.triggerId,
    message_ts: options.ts,
    response_url: options.responseUrl,
    team: { id: TEAM, domain: 'fake' },
    channel: { id: 'CGENERAL', name: 'general' },
    user: { id: 'UBOB', name: 'bob', team_id: TEAM },
    message: { type: 'message', user: 'UBOB', ts: options.ts, text: options.text, files: options.files },
  };
}

/** A button press on one of Referent's messages in CGENERAL (block_actions payload). */
export function buttonPress(options: { user: string; message: { ts: string; thread_ts?: unknown; text?: unknown; blocks: unknown[] }; actionId: string; blockId?: string; value: unknown; responseUrl: string }): Record<string, unknown> {
  return {
    type: 'block_actions',
    team: { id: TEAM, domain: 'fake' },
    user: { id: `U${options.user.toUpperCase()}`, username: options.user, name: options.user, team_id: TEAM },
    api_app_id: 'A1',
    container: { type: 'message', message_ts: options.message.ts, channel_id: 'CGENERAL', is_ephemeral: false },
    channel: { id: 'CGENERAL', name: 'general' },
    message: { type: 'message', ...options.message },
    actions: [{ type: 'button', action_id: options.actionId, block_id: options.blockId, value: options.value, action_ts: '1' }],
    response_url: options.responseUrl,
    trigger_id: '1.2.3',
  };
}

/** Every block's text objects, by type: what a client would render as mrkdwn or as plain text. */
export function textsOf(blocks: unknown): { mrkdwn: string[]; plain: string[] } {
  const out = { mrkdwn: [] as string[], plain: [] as string[] };
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if ((o.type === 'mrkdwn' || o.type === 'plain_text') && typeof o.text === 'string') out[o.type === 'mrkdwn' ? 'mrkdwn' : 'plain'].push(o.text);
    Object.values(o).forEach(walk);
  };
  walk(blocks);
  return out;
}

export type Block = { type: string; block_id?: string; slack_file?: { id: string }; image_url?: string; elements?: Array<Record<string, unknown>> };
export const blocksOf = (call: SlackCall) => call.args.blocks as Block[];
export const imageIds = (blocks: Block[]) => blocks.filter((b) => b.type === 'image').map((b) => b.slack_file?.id ?? b.image_url ?? '');
