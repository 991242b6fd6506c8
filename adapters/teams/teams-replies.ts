/**
 * Replies as Teams activities: results as a carousel of Adaptive Cards, text replies as small
 * cards, each remembered (SentMemory) so that a button on it can redraw it; and who and where an
 * activity comes from, as the assistant sees them.
 */
import type { Activity, Attachment, TurnContext } from 'botbuilder';
import type { Assistant } from '../../src/chat/assistant.js';
import type { ChatScope, ChatUser } from '../../src/chat/message.js';
import type { Card, Reply } from '../../src/chat/reply.js';
import type { Config } from '../../src/config.js';
import type { MediaStore } from '../../src/media/media-store.js';
import type { SeenOnce } from '../seen-once.js';
import { publicThumbnailUrl } from '../web/media-links.js';
import { type CardAttachment, helpCard, hitCard, textCard } from './cards.js';
import type { SentMemory } from './sent-memory.js';

/** Teams shows card images up to 1 MB (and 1024 px; our thumbnails are 512). */
const MAX_CARD_IMAGE_BYTES = 1 << 20;

export interface TurnDeps {
  assistant: Assistant;
  media: MediaStore;
  config: Config;
  log: (line: string) => void;
  sent: SentMemory;
  seen: SeenOnce;
}

export const userOf = (a: Activity): ChatUser => ({ platform: 'teams', id: a.from?.aadObjectId ?? a.from?.id ?? 'unknown', ...(a.from?.name ? { name: a.from.name } : {}) });

/** Tenant and channel: a channel thread belongs to its channel, so a channel grant covers its threads. */
export function scopeOf(a: Activity): ChatScope {
  const data = (a.channelData ?? {}) as { tenant?: { id?: string }; channel?: { id?: string } };
  const tenant = a.conversation?.tenantId ?? data.tenant?.id ?? 'local';
  const channel = data.channel?.id ?? (a.conversation?.id ?? 'unknown').split(';')[0]!;
  return { platform: 'teams', workspace: tenant, channel };
}

export const conversationOf = (context: TurnContext) => context.activity.conversation?.id ?? '';

export const help = (deps: TurnDeps) => helpCard(deps.assistant.help(), deps.assistant.modelName, deps.assistant.demoEncoder);

/** A card's picture: a signed public link when Referent has a public URL, else the thumbnail inline. */
async function pictureFor(deps: TurnDeps, card: Card): Promise<string | undefined> {
  const { publicUrl, webToken } = deps.config.chat;
  if (publicUrl) return publicThumbnailUrl(publicUrl, card.mediaKey, webToken);
  try {
    const bytes = await deps.media.readThumbnail(card.mediaKey);
    return bytes.length < MAX_CARD_IMAGE_BYTES ? `data:image/jpeg;base64,${bytes.toString('base64')}` : undefined;
  } catch {
    return undefined;
  }
}

/** One hit as its card, with its picture. */
export async function hitAttachment(deps: TurnDeps, card: Card): Promise<CardAttachment> {
  return hitCard(card, await pictureFor(deps, card));
}

export async function cardAttachments(deps: TurnDeps, cards: readonly Card[]): Promise<Attachment[]> {
  return Promise.all(cards.map((c) => hitAttachment(deps, c)));
}

/** A results message: its summary and a carousel of cards, one per hit. */
export async function answerActivity(deps: TurnDeps, text: string, cards: readonly Card[]): Promise<Partial<Activity>> {
  return { type: 'message', text, textFormat: 'plain', attachmentLayout: 'carousel', attachments: await cardAttachments(deps, cards) };
}

/** Replies as activities, remembered so that a button on them can redraw them. */
export async function send(deps: TurnDeps, context: TurnContext, replies: readonly Reply[]): Promise<void> {
  const conversation = conversationOf(context);
  for (const reply of replies) {
    if (reply.cards.length === 0) {
      const sent = await context.sendActivity({ type: 'message', attachments: [reply.kind === 'help' ? help(deps) : textCard(reply)] });
      if (sent?.id && reply.actions?.length) deps.sent.remember(conversation, sent.id, { kind: 'question' });
      continue;
    }
    const text = reply.demoEncoder ? `${reply.text} (Demo encoder: it only understands colours.)` : reply.text;
    const sent = await context.sendActivity(await answerActivity(deps, text, reply.cards));
    if (sent?.id) deps.sent.remember(conversation, sent.id, { kind: 'answer', text, cards: reply.cards });
  }
}
