/**
 * Where an answer goes in Slack, and the answering itself: a placeholder at once ("Searching…"),
 * the photos downloaded, the assistant asked, then the placeholder edited into the answer.
 * Errors go only to the person who asked (ephemeral). A slash command in a channel the bot is not
 * in answers through the command's response URL instead.
 */
import type { webApi } from '@slack/bolt';
import type { Assistant } from '../../src/chat/assistant.js';
import { type ChatUser, type Command, parseCommand } from '../../src/chat/message.js';
import type { Reply } from '../../src/chat/reply.js';
import { isReferentError } from '../../src/errors.js';
import type { MediaStore } from '../../src/media/media-store.js';
import { escapeMrkdwn, replyMessage, type SlackMessage, workingMessage } from './blocks.js';
import { downloadSlackFile, type DownloadOptions, isImageFile, type SlackFileRef, type SlackImages } from './slack-files.js';

/** A conversation to answer in: the message's channel (and thread), for one person. */
export interface Sink {
  /** Posts a message; its ts, or null when it cannot be edited later. */
  post(message: SlackMessage): Promise<string | null>;
  update(ts: string, message: SlackMessage): Promise<void>;
  remove(ts: string): Promise<void>;
  /** Only the person who asked sees this. */
  tell(text: string): Promise<void>;
}

export interface Where {
  team: string;
  channel: string;
  /** Thread to answer in (a DM message outside a thread is answered in place). */
  thread?: string;
  user: ChatUser;
}

type Respond = (message: Record<string, unknown>) => Promise<unknown>;

const platformError = (err: unknown) => (err as { data?: { error?: string } }).data?.error;

export function channelSink(client: webApi.WebClient, where: Where, fallback?: Respond): Sink {
  const thread = where.thread ? { thread_ts: where.thread } : {};
  const viaRespond = fallback ? respondSink(fallback) : null;
  let useFallback = false;
  return {
    async post(message) {
      if (useFallback && viaRespond) return viaRespond.post(message);
      try {
        const result = await client.chat.postMessage({ channel: where.channel, ...thread, ...message, unfurl_links: false, unfurl_media: false });
        return result.ts ?? null;
      } catch (err) {
        // A slash command works in channels the app was never invited to: answer privately there.
        if (!viaRespond || !['not_in_channel', 'channel_not_found'].includes(platformError(err) ?? '')) throw err;
        useFallback = true;
        return viaRespond.post(message);
      }
    },
    async update(ts, message) {
      await client.chat.update({ channel: where.channel, ts, ...message });
    },
    async remove(ts) {
      await client.chat.delete({ channel: where.channel, ts });
    },
    async tell(text) {
      if (useFallback && viaRespond) return viaRespond.tell(text);
      await client.chat.postEphemeral({ channel: where.channel, user: where.user.id, text: escapeMrkdwn(text), ...thread });
    },
  };
}

export function respondSink(respond: Respond): Sink {
  return {
    post: async (message) => (await respond({ response_type: 'ephemeral', replace_original: false, ...message }), null),
    update: async () => {},
    remove: async () => {},
    tell: async (text) => void (await respond({ response_type: 'ephemeral', replace_original: false, text: escapeMrkdwn(text) })),
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

const WORKING: Partial<Record<Command['kind'], string>> = { find: 'Searching', add: 'Adding' };

/** Answers one message in Slack; never throws (failures are logged and told to the person). */
export async function answer(deps: AnswerDeps, sink: Sink, where: Where, text: string, files: readonly SlackFileRef[], command?: Command): Promise<void> {
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
    const kind = command?.kind ?? parseCommand(text, photos.length > 0).kind;
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
    const replies = await deps.assistant.handle({ text, images, user: where.user, scope: { platform: 'slack', workspace: where.team, channel: where.channel } }, command);
    if (kind === 'add' && replies[0]?.kind === 'info') await rememberPosted(deps, where.team, posted);
    await deliver(deps.images, sink, where.team, replies, placeholder);
  } catch (err) {
    await failed(deps.log, sink, placeholder, `answering ${where.user.id} in ${where.team}/${where.channel}`, err);
  }
}

/** The one place the unexpected is handled: logged once, an apology to the asker, the placeholder gone. */
export async function failed(log: (line: string) => void, sink: Sink, placeholder: string | null, context: string, err: unknown): Promise<void> {
  log(`slack: unexpected error ${context}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  await sink.tell('Something went wrong on my side; it has been logged. Please try again.').catch(() => {});
  if (placeholder) await sink.remove(placeholder).catch(() => {});
}

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
    if (await deps.media.has(key)) deps.images.remember(team, key, file);
  }
}

/** Sends the replies: the first that is not an error replaces the placeholder; errors go to the asker alone. */
export async function deliver(images: SlackImages, sink: Sink, team: string, replies: readonly Reply[], placeholder: string | null): Promise<void> {
  let slot = placeholder;
  for (const reply of replies) {
    if (reply.kind === 'error') {
      await sink.tell(`⚠️ ${reply.text}`);
      continue;
    }
    const pictures = await images.sources(team, reply.cards.map((c) => c.mediaKey));
    const message = replyMessage(reply, pictures);
    if (slot) {
      await sink.update(slot, message);
      slot = null;
    } else {
      await sink.post(message);
    }
  }
  if (slot) await sink.remove(slot);
}
