/**
 * The ways in: mentions, direct messages, `/referent` (answered privately), the two message
 * shortcuts, the Add as reference dialog, App Home. Every listener acknowledges first (Slack's 3
 * seconds) and works after. Buttons and the label dialog are in slack-actions.ts; whatever no
 * listener takes is acknowledged by AcknowledgingApp.
 */
import type { App } from '@slack/bolt';
import { z } from 'zod';
import type { Reply } from '../../src/chat/reply.js';
import { ADD_REFERENCE_VIEW, addReferenceModal, type Block, homeView, plainFromSlack, shareBlock, shareValue } from './blocks.js';
import type { MessageMemory } from './memory.js';
import { answer, type AnswerDeps, channelSink, privateSink, type Respond } from './slack-replies.js';
import { isImageFile, type SlackFileRef } from './slack-files.js';
import { commandWhere, eventWhere, interactionWhere, type Where } from './who.js';

export const FIND_SIMILAR = 'referent_find_similar';
export const ADD_REFERENCE = 'referent_add_reference';
/** The events Referent listens to; any other is acknowledged (Bolt does) and logged once. */
const HANDLED_EVENTS = ['app_mention', 'message', 'app_home_opened'];

export interface SlackDeps extends AnswerDeps {
  memory: MessageMemory;
  botUserId: string;
}

const metadataSchema = z.object({ c: z.string().max(40), t: z.string().max(40).optional(), f: z.array(z.string().max(40)).max(10) });

/** Results answered privately get a Share in channel button (the words asked, asked again in public). */
const shareExtras = (query: string) => (reply: Reply): { tail?: Block[] } => {
  const value = reply.kind === 'results' && reply.cards.length > 0 ? shareValue(query) : null;
  return value ? { tail: [shareBlock(value)] } : {};
};

export function listenToMessages(app: App, deps: SlackDeps, once: { first(key: string): boolean }): void {
  const { assistant, botUserId, log } = deps;

  app.event('app_mention', async ({ event, body, client }) => {
    if (!once.first(`msg:${event.channel}:${event.ts}`)) return;
    const where = eventWhere(body, event as never, event.thread_ts ?? event.ts);
    const files = ((event as { files?: SlackFileRef[] }).files ?? []) as SlackFileRef[];
    await answer(deps, channelSink(client, where), where, plainFromSlack(event.text, botUserId), files);
  });

  // Direct messages: every message is for Referent (mentions in channels arrive as app_mention).
  app.event('message', async ({ event, body, client }) => {
    const e = event as { channel_type?: string; subtype?: string; bot_id?: string; user?: string; channel: string; ts: string; thread_ts?: string; text?: string; files?: SlackFileRef[] };
    if (e.channel_type !== 'im' || e.bot_id || !e.user || (e.subtype && e.subtype !== 'file_share')) return;
    if (!once.first(`msg:${e.channel}:${e.ts}`)) return;
    const where = eventWhere(body, e as never, e.thread_ts);
    await answer(deps, channelSink(client, where), where, plainFromSlack(e.text ?? '', botUserId), e.files ?? []);
  });

  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'home') return;
    await client.views.publish({ user_id: event.user, view: homeView(assistant.help(), assistant.modelName, assistant.demoEncoder) as never });
  });

  // Events Referent is not subscribed to for a reason (another app's manifest, a future one): Bolt acked them already.
  app.event(new RegExp(`^(?!(${HANDLED_EVENTS.join('|')})$)`), async ({ event }) => {
    log(`slack: acknowledged and ignored event ${JSON.stringify(String(event.type).slice(0, 80))}`);
  });

  // A slash command answers the person who typed it, privately (Slack's convention): through its
  // response URL, which works whether or not the bot is in the channel. Share in channel makes it public.
  app.command('/referent', async ({ ack, command, respond }) => {
    await ack();
    const text = plainFromSlack(command.text, botUserId);
    await answer(deps, privateSink(respond as Respond, deps.memory), commandWhere(command), text, [], { extras: shareExtras(text) });
  });
}

export function listenToShortcuts(app: App, deps: SlackDeps): void {
  const { assistant, botUserId } = deps;

  app.shortcut(FIND_SIMILAR, async ({ ack, shortcut, client, respond }) => {
    await ack();
    if (shortcut.type !== 'message_action') return;
    const where = interactionWhere(shortcut, shortcut.channel.id, shortcut.message.thread_ts ?? shortcut.message.ts);
    const photos = ((shortcut.message.files ?? []) as SlackFileRef[]).filter(isImageFile);
    const sink = channelSink(client, where, privateSink(respond as Respond, deps.memory));
    if (photos.length === 0) return void (await sink.tell('That message has no photo to search with.'));
    // The assistant says "your photo"; the shortcut may run on someone else's.
    const own = shortcut.message.user === shortcut.user.id;
    const reword = own ? undefined : (reply: Reply): Reply => ({ ...reply, text: reply.text.replace(/\byour photo\b/g, 'this photo') });
    await answer(deps, sink, where, '', photos.slice(0, 1), { command: { kind: 'find', text: '' }, ...(reword ? { reword } : {}) });
  });

  app.shortcut(ADD_REFERENCE, async ({ ack, shortcut, client, respond }) => {
    await ack();
    if (shortcut.type !== 'message_action') return;
    const photos = ((shortcut.message.files ?? []) as SlackFileRef[]).filter(isImageFile).slice(0, assistant.maxImages);
    if (photos.length === 0) return void (await privateSink(respond as Respond).tell('That message has no photo to add.'));
    const meta = JSON.stringify({ c: shortcut.channel.id, t: shortcut.message.thread_ts ?? shortcut.message.ts, f: photos.map((p) => p.id) });
    await client.views.open({ trigger_id: shortcut.trigger_id, view: addReferenceModal(meta, plainFromSlack(shortcut.message.text ?? '', botUserId)) as never });
  });

  app.view(ADD_REFERENCE_VIEW, async ({ ack, body, view, client }) => {
    const value = (block: string) => (view.state.values[block]?.value?.value ?? '').trim();
    const label = value('label');
    if (!label || label.includes(':')) return void (await ack({ response_action: 'errors', errors: { label: 'Give it a name without a colon, like P-20417.' } }));
    await ack();
    const meta = metadataSchema.safeParse(safeJson(view.private_metadata));
    if (!meta.success) return;
    const where: Where = interactionWhere({ team: body.team, user: body.user }, meta.data.c, meta.data.t);
    // The dialog only carries file ids: answer() asks files.info for the rest.
    const files = meta.data.f.map((id): SlackFileRef => ({ id, file_access: 'check_file_info' }));
    const text = value('text');
    const collection = value('collection');
    await answer(deps, channelSink(client, where), where, `add ${label}: ${text}`, files, { command: { kind: 'add', label, text, ...(collection ? { collection } : {}) } });
  });
}

/** Options for a select menu Referent never sent: an empty list, so Slack shows none rather than an error. */
export function listenToOptions(app: App, log: (line: string) => void): void {
  app.options(/.*/, async ({ ack, body }) => {
    const b = body as { type?: string; action_id?: string; callback_id?: string };
    log(`slack: acknowledged and ignored ${b.type ?? 'options request'} for ${JSON.stringify(String(b.action_id ?? b.callback_id ?? '').slice(0, 80))}`);
    await ack({ options: [] });
  });
}

export const safeJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};
