/**
 * Where an answer goes in Slack, and the answering itself: a placeholder at once ("Searching…"),
 * the photos downloaded, the assistant asked, then the placeholder edited into the answer.
 * Two kinds of place: a conversation (the channel or its thread; errors go only to the asker,
 * ephemeral) and a private answer through an interaction's response URL (`/referent`, or a
 * shortcut where the bot is not a member), whose one message is edited in place.
 */
import type { webApi } from '@slack/bolt';
import type { Assistant } from '../../src/chat/assistant.js';
import { type Command, parseCommand } from '../../src/chat/message.js';
import type { Reply } from '../../src/chat/reply.js';
import { isReferentError } from '../../src/errors.js';
import type { MediaStore } from '../../src/media/media-store.js';
import { type Block, replyMessage, type SlackMessage, workingMessage } from './blocks.js';
import type { MessageMemory } from './memory.js';
import { downloadSlackFile, type DownloadOptions, isImageFile, type SlackFileRef, type SlackImages } from './slack-files.js';
import { escapeMrkdwn } from './text.js';
import { scopeOf, type Where } from './who.js';

export type { Where } from './who.js';

/** A conversation to answer in, for one person. */
export interface Sink {
  /** Posts a message; a handle to edit it later, or null when it cannot be edited. */
  post(message: SlackMessage): Promise<string | null>;
  update(ts: string, message: SlackMessage): Promise<void>;
  remove(ts: string): Promise<void>;
  /** Only the person who asked sees this. */
  tell(text: string): Promise<void>;
  /** Everything here is seen by the asker alone (an error may then take the placeholder's place). */
  readonly privately: boolean;
}

export type Respond = (message: Record<string, unknown>) => Promise<unknown>;

/** The handle of a private answer: a response URL edits "its" message, there is no ts. */
const PRIVATE = 'response_url';

const platformError = (err: unknown) => (err as { data?: { error?: string } }).data?.error;
export const notInChannel = (err: unknown) => ['not_in_channel', 'channel_not_found'].includes(platformError(err) ?? '');

/**
 * The message's channel (and thread). `fallback`: a shortcut works in channels the app was never
 * invited to, so there the answer goes privately through the interaction's response URL.
 */
export function channelSink(client: webApi.WebClient, where: Where, fallback?: Sink): Sink {
  const thread = where.thread ? { thread_ts: where.thread } : {};
  let useFallback = false;
  return {
    get privately() {
      return useFallback;
    },
    async post(message) {
      if (useFallback && fallback) return fallback.post(message);
      try {
        const result = await client.chat.postMessage({ channel: where.channel, ...thread, ...message, unfurl_links: false, unfurl_media: false });
        return result.ts ?? null;
      } catch (err) {
        if (!fallback || !notInChannel(err)) throw err;
        useFallback = true;
        return fallback.post(message);
      }
    },
    async update(ts, message) {
      if (ts === PRIVATE && fallback) return fallback.update(ts, message);
      await client.chat.update({ channel: where.channel, ts, ...message });
    },
    async remove(ts) {
      if (ts === PRIVATE && fallback) return fallback.remove(ts);
      await client.chat.delete({ channel: where.channel, ts });
    },
    async tell(text) {
      if (useFallback && fallback) return fallback.tell(text);
      await client.chat.postEphemeral({ channel: where.channel, user: where.user.id, text: escapeMrkdwn(text), ...thread });
    },
  };
}

/**
 * A private answer through a response URL: ephemeral, seen by the asker alone, whether or not the
 * bot is in the channel. Its message is edited in place (`replace_original`), so the placeholder
 * becomes the answer; what is shown is remembered for verdicts on its cards (see MessageMemory).
 */
export function privateSink(respond: Respond, memory?: MessageMemory): Sink {
  const send = (body: Record<string, unknown>) => respond({ response_type: 'ephemeral', ...body });
  return {
    privately: true,
    async post(message) {
      await send({ replace_original: false, ...message });
      memory?.remember(message);
      return PRIVATE;
    },
    async update(_ts, message) {
      await send({ replace_original: true, ...message });
      memory?.remember(message);
    },
    async remove() {
      await respond({ delete_original: true });
    },
    async tell(text) {
      await send({ replace_original: false, text: escapeMrkdwn(text) });
    },
  };
}

export interface AnswerDeps {
  assistant: Assistant;
  images: SlackImages;
  media: MediaStore;
  download: DownloadOptions;
  /** files.info: the whole file object, for files an event only names (Slack Connect, "check_file_info"). */
  fileInfo: (id: string) => Promise<SlackFileRef>;
  log: (line: string) => void;
}

export interface AnswerOptions {
  /** A form's command (a dialog), used instead of parsing the text. */
  command?: Command;
  /** Extra blocks for the first message of results: a Share button, who shared it. */
  extras?: (reply: Reply) => { head?: Block[]; tail?: Block[] };
  /** Rewords a reply before it is shown (the assistant speaks to the asker; a shortcut may act on someone else's photo). */
  reword?: (reply: Reply) => Reply;
}

const WORKING: Partial<Record<Command['kind'], string>> = { find: 'Searching', add: 'Adding' };

/** Answers one message in Slack; never throws (failures are logged and told to the person). */
export async function answer(deps: AnswerDeps, sink: Sink, where: Where, text: string, files: readonly SlackFileRef[], options: AnswerOptions = {}): Promise<void> {
  let placeholder: string | null = null;
  try {
    const known = await completeFiles(deps, sink, files);
    const photos = known.filter(isImageFile);
    if (photos.length > deps.assistant.maxImages) return void (await sink.tell(`Attach at most ${deps.assistant.maxImages} photos to one message.`));
    if (files.length > 0 && photos.length === 0) {
      // Files Slack would not describe were reported already; anything else posted is not a photo.
      if (known.length > 0) await sink.tell('I can only read photos (PNG, JPEG, WebP, GIF…).');
      return;
    }
    const kind = options.command?.kind ?? parseCommand(text, photos.length > 0).kind;
    const working = WORKING[kind];
    if (working) placeholder = await sink.post(workingMessage(working));
    const posted: Array<{ file: SlackFileRef; bytes: Uint8Array }> = [];
    for (const file of photos) {
      try {
        posted.push({ file, bytes: await downloadSlackFile(file, deps.download) });
      } catch (err) {
        if (!isReferentError(err)) throw err;
        await sink.tell(err.message);
      }
    }
    const images = posted.map((p) => p.bytes);
    if (photos.length > 0 && images.length === 0) {
      if (placeholder) await sink.remove(placeholder);
      return;
    }
    let replies = await deps.assistant.handle({ text, images, user: where.user, scope: scopeOf(where) }, options.command);
    if (kind === 'add' && replies[0]?.kind === 'info') await rememberPosted(deps, where.team, posted);
    if (options.reword) replies = replies.map(options.reword);
    await deliver(deps.images, sink, where.team, replies, placeholder, options.extras);
  } catch (err) {
    await failed(deps.log, sink, placeholder, `answering ${where.user.id} in ${where.team}/${where.channel}`, err);
  }
}

/**
 * The one place the unexpected is handled: logged once, an apology to the asker, the placeholder
 * gone. A ReferentError is no accident: its message is told as it is, and nothing is logged.
 */
export async function failed(log: (line: string) => void, sink: Sink, placeholder: string | null, context: string, err: unknown): Promise<void> {
  const text = isReferentError(err) ? err.message : 'Something went wrong on my side; it has been logged. Please try again.';
  if (!isReferentError(err)) log(`slack: unexpected error ${context}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  if (placeholder && sink.privately) return void (await sink.update(placeholder, errorMessage(text)).catch(() => {}));
  await sink.tell(text).catch(() => {});
  if (placeholder) await sink.remove(placeholder).catch(() => {});
}

const errorMessage = (text: string) => replyMessage({ kind: 'error', text, cards: [] }, new Map());

/** Events name some files without describing them (Slack Connect: "check_file_info"); files.info fills them in. */
async function completeFiles(deps: AnswerDeps, sink: Sink, files: readonly SlackFileRef[]): Promise<SlackFileRef[]> {
  const out: SlackFileRef[] = [];
  for (const file of files) {
    if (file.file_access !== 'check_file_info' && (file.url_private_download ?? file.url_private)) {
      out.push(file);
      continue;
    }
    try {
      out.push(await deps.fileInfo(file.id));
    } catch (err) {
      if (!isReferentError(err)) throw err;
      await sink.tell(err.message);
    }
  }
  return out;
}

/** The photos someone posted are now images in the catalogue: cards show Slack's own file for them. */
async function rememberPosted(deps: AnswerDeps, team: string, posted: ReadonlyArray<{ file: SlackFileRef; bytes: Uint8Array }>): Promise<void> {
  for (const { file, bytes } of posted) {
    const key = deps.media.hash(bytes);
    // A photo the media store refused is not an image of ours: nothing to remember.
    if (await deps.media.has(key)) await deps.images.remember(team, key, file);
  }
}

/**
 * Sends the replies: the first that is not an error replaces the placeholder. Errors go to the
 * asker alone: told privately in a conversation, or in the placeholder's place in a private answer.
 */
export async function deliver(images: SlackImages, sink: Sink, team: string, replies: readonly Reply[], placeholder: string | null, extras?: AnswerOptions['extras']): Promise<void> {
  let slot = placeholder;
  for (const reply of replies) {
    if (reply.kind === 'error' && !(sink.privately && slot)) {
      await sink.tell(`⚠️ ${reply.text}`);
      continue;
    }
    const pictures = await images.sources(team, reply.cards.map((c) => c.mediaKey));
    const message = replyMessage(reply, pictures, reply.kind === 'error' ? {} : (extras?.(reply) ?? {}));
    if (slot) {
      await sink.update(slot, message);
      slot = null;
    } else {
      await sink.post(message);
    }
  }
  if (slot) await sink.remove(slot);
}
