/**
 * One Teams turn: what each inbound activity gets. Messages are questions (or, with a `value`,
 * an Action.Submit press); `adaptiveCard/action` invokes are Action.Execute presses and always get
 * an invoke response; every other kind Teams sends (reactions, installs, typing, other invokes) is
 * acknowledged with HTTP 200 and otherwise ignored.
 */
import { ActivityTypes, type CloudAdapter, TurnContext } from 'botbuilder';
import type { Reply } from '../../src/chat/reply.js';
import { isReferentError } from '../../src/errors.js';
import { EXECUTE_VERB, messageResponse, plainFromTeams, pressOf } from './cards.js';
import { press } from './teams-buttons.js';
import { downloadTeamsPhoto, otherFiles, photosOf } from './teams-files.js';
import { help, scopeOf, send, type TurnDeps, userOf } from './teams-replies.js';

export const ADAPTIVE_CARD_ACTION = 'adaptiveCard/action';

/** Sets the HTTP answer to an invoke (CloudAdapter answers 501 to an invoke without one). */
export const respond = (context: TurnContext, body?: unknown) => context.sendActivity({ type: ActivityTypes.InvokeResponse, value: { status: 200, ...(body === undefined ? {} : { body }) } });

export async function turn(deps: TurnDeps, adapter: CloudAdapter, context: TurnContext): Promise<void> {
  const a = context.activity;
  if (a.type === ActivityTypes.Invoke) {
    if (a.name !== ADAPTIVE_CARD_ACTION) return void (await respond(context));
    const action = (a.value as { action?: { type?: unknown; verb?: unknown; data?: unknown } } | undefined)?.action;
    const pressed = action?.type === 'Action.Execute' && action.verb === EXECUTE_VERB ? pressOf(action.data) : null;
    // Not one of our buttons: acknowledged (HTTP 200), and the card stays as it is.
    return void (await respond(context, pressed ? await press(deps, context, pressed, 'execute') : messageResponse('That button is not one of mine.')));
  }
  if (a.type === ActivityTypes.ConversationUpdate) {
    // Added to a team or chat: say hello with the help card.
    if (a.membersAdded?.some((m) => m.id === a.recipient?.id)) await context.sendActivity({ type: 'message', attachments: [help(deps)] });
    return;
  }
  if (a.type !== ActivityTypes.Message) return;
  // Teams may deliver an activity twice after a slow answer.
  if (a.id && !deps.seen.first(`${a.conversation?.id}/${a.id}`)) return;
  // A card's Action.Submit (clients without Universal Actions). Data without our key is a card
  // Referent did not send: ignored, as Slack ignores such clicks. Only card submits carry a value.
  if (a.value !== undefined && a.value !== null) {
    const pressed = typeof a.value === 'object' ? pressOf(a.value) : null;
    if (pressed) await press(deps, context, pressed, 'submit');
    return;
  }
  await ask(deps, adapter, context);
}

/** The bot's token for the conversation's service (null in local mode), for inline pictures. */
async function serviceToken(adapter: CloudAdapter, context: TurnContext): Promise<string | null> {
  const client = context.turnState.get(adapter.ConnectorClientKey) as { credentials?: { signRequest?: (r: unknown) => Promise<unknown> } } | undefined;
  const headers = new Map<string, string>();
  await client?.credentials?.signRequest?.({ headers: { set: (k: string, v: string) => headers.set(k.toLowerCase(), v), get: (k: string) => headers.get(k.toLowerCase()) } });
  return /^Bearer (.+)$/.exec(headers.get('authorization') ?? '')?.[1] ?? null;
}

async function ask(deps: TurnDeps, adapter: CloudAdapter, context: TurnContext): Promise<void> {
  const a = context.activity;
  const text = plainFromTeams(TurnContext.removeRecipientMention(a) ?? a.text ?? '');
  const photos = photosOf(a.attachments);
  const others = otherFiles(a.attachments);
  if (others.length && !photos.length) return void (await send(deps, context, [{ kind: 'error', text: `I can only read photos, not ${others.join(', ')}.`, cards: [] }]));
  if (photos.length > deps.assistant.maxImages) return void (await send(deps, context, [{ kind: 'error', text: `Attach at most ${deps.assistant.maxImages} photos to one message.`, cards: [] }]));
  await context.sendActivity({ type: 'typing' });
  const images: Uint8Array[] = [];
  const problems: Reply[] = [];
  for (const photo of photos) {
    try {
      images.push(await downloadTeamsPhoto(photo, { serviceUrl: a.serviceUrl, maxBytes: deps.config.maxImageBytes, token: () => serviceToken(adapter, context) }));
    } catch (err) {
      if (!isReferentError(err)) throw err;
      problems.push({ kind: 'error', text: err.message, cards: [] });
    }
  }
  if (photos.length && !images.length) return void (await send(deps, context, problems));
  const replies = await deps.assistant.handle({ text, images, user: userOf(a), scope: scopeOf(a) });
  await send(deps, context, [...problems, ...replies]);
}

