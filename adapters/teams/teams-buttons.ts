/**
 * A press of one of Referent's buttons, by either of Teams' two paths:
 * - Action.Execute (Universal Actions): an `adaptiveCard/action` invoke. Its invoke response (HTTP
 *   200) carries the pressed card as it should now look, and Teams redraws it in place; an error
 *   or a note comes back as a message to the presser only, the card left as it was.
 * - Action.Submit (clients without Universal Actions): a message with a `value`. There is no
 *   response to draw with, so the bot edits its message, or posts the result as a new one.
 * Either way the whole message the button was on is edited too when this process remembers it,
 * so everyone in the conversation sees the verdict (a carousel holds other cards besides).
 */
import type { TurnContext } from 'botbuilder';
import type { ActionResult } from '../../src/chat/assistant.js';
import type { Card, Reply } from '../../src/chat/reply.js';
import { cardResponse, labelCard, messageResponse, type Press, textCard } from './cards.js';
import { answerActivity, cardAttachments, conversationOf, hitAttachment, scopeOf, send, type TurnDeps, userOf } from './teams-replies.js';

export type Via = 'execute' | 'submit';
/** What an `adaptiveCard/action` invoke is answered with (the body of the HTTP 200). */
export type InvokeBody = ReturnType<typeof cardResponse> | ReturnType<typeof messageResponse>;

const GENERIC_ASK = { title: 'A photo without a label', prompt: 'What does it show? Give it a label, such as a part number or a name.' };

/** Handles a press; for Action.Execute, returns the invoke response's body. */
export async function press(deps: TurnDeps, context: TurnContext, pressed: Press, via: 'execute'): Promise<InvokeBody>;
export async function press(deps: TurnDeps, context: TurnContext, pressed: Press, via: Via): Promise<InvokeBody | undefined>;
export async function press(deps: TurnDeps, context: TurnContext, pressed: Press, via: Via): Promise<InvokeBody | undefined> {
  const a = context.activity;
  const input = pressed.label === undefined ? undefined : { label: pressed.label };
  const result = await deps.assistant.act(pressed.value, userOf(a), scopeOf(a), input);
  if (result.askLabel) return askLabel(deps, context, result.askLabel, via);
  if (result.card) return verdict(deps, context, result, result.card, via);
  if (result.update) return answered(deps, context, result.update, result.replies, via);
  const errors = result.replies.filter((r) => r.kind === 'error');
  // A label the assistant refused (empty, a colon, too long): the label card again, saying why.
  if (input && errors.length && typeof pressed.value === 'string') return labelRefused(deps, context, pressed.value, errors, via);
  if (via === 'submit') return void (await send(deps, context, result.replies));
  // More like this posts its results; an error is for the presser alone (as Slack shows it privately).
  const shown = result.replies.filter((r) => r.kind !== 'error');
  await send(deps, context, shown);
  return messageResponse(errors.length ? errors.map((r) => r.text).join(' ') : (shown[0]?.text ?? 'Done.'));
}

/** That's it on a photo nobody labelled, or Name this person: the label card, in place of the pressed card or as a message of its own. */
async function askLabel(deps: TurnDeps, context: TurnContext, ask: NonNullable<ActionResult['askLabel']>, via: Via): Promise<InvokeBody | undefined> {
  const conversation = conversationOf(context);
  deps.sent.rememberAsk(conversation, ask.value, { title: ask.title, prompt: ask.prompt, ...(ask.submit ? { submit: ask.submit } : {}) });
  const card = labelCard(ask);
  if (via === 'execute') return cardResponse(card);
  const sent = await context.sendActivity({ type: 'message', attachments: [card] });
  const origin = context.activity.replyToId;
  const fromAnswer = deps.sent.get(conversation, origin)?.kind === 'answer';
  if (sent?.id) deps.sent.remember(conversation, sent.id, { kind: 'label', ...(fromAnswer && origin ? { origin } : {}) });
}

async function labelRefused(deps: TurnDeps, context: TurnContext, value: string, errors: readonly Reply[], via: Via): Promise<InvokeBody | undefined> {
  const conversation = conversationOf(context);
  const ask = deps.sent.ask(conversation, value) ?? GENERIC_ASK;
  const card = labelCard({ ...ask, value }, errors.map((r) => r.text).join(' '));
  if (via === 'execute') return cardResponse(card);
  const at = context.activity.replyToId;
  if (at && deps.sent.get(conversation, at)?.kind === 'label') await context.updateActivity({ type: 'message', id: at, attachments: [card] });
  else await send(deps, context, errors);
}

/** That's it / Not it: the card with its verdict, wherever the button was. */
async function verdict(deps: TurnDeps, context: TurnContext, result: ActionResult, updated: Card, via: Via): Promise<InvokeBody | undefined> {
  const conversation = conversationOf(context);
  const at = context.activity.replyToId;
  const on = deps.sent.get(conversation, at);
  let redrawn = false;
  if (on?.kind === 'label' && at) {
    // The label card asked as a message of its own: it becomes the card with its verdict, and the carousel that asked shows it too.
    await context.updateActivity({ type: 'message', id: at, attachments: await cardAttachments(deps, [updated]) });
    if (on.origin) await redrawAnswer(deps, context, on.origin, updated);
    redrawn = true;
  } else if (on?.kind === 'answer' && at) {
    redrawn = await redrawAnswer(deps, context, at, updated);
  }
  // A message older than this process remembers: Action.Submit has no other way to show the verdict.
  if (!redrawn && via === 'submit') await context.sendActivity({ type: 'message', attachments: await cardAttachments(deps, [updated]) });
  // The card itself says who gave the verdict; only errors would need a message.
  await send(deps, context, result.replies.filter((r) => r.kind !== 'info'));
  return via === 'execute' ? cardResponse(await hitAttachment(deps, updated)) : undefined;
}

/** Redraws a remembered results message with one card replaced; false when it is not remembered. */
async function redrawAnswer(deps: TurnDeps, context: TurnContext, id: string, updated: Card): Promise<boolean> {
  const conversation = conversationOf(context);
  const previous = deps.sent.get(conversation, id);
  if (previous?.kind !== 'answer') return false;
  // The first card of the photo: a second one after it (`faces`, two people on one photo) stays as it was.
  const at = previous.cards.findIndex((c) => c.itemId === updated.itemId);
  const cards = previous.cards.map((c, i) => (i === at ? updated : c));
  deps.sent.remember(conversation, id, { kind: 'answer', text: previous.text, cards });
  await context.updateActivity({ ...(await answerActivity(deps, previous.text, cards)), id });
  return true;
}

/** Forget / Keep it answered: the question, redrawn without its buttons, says what happened. */
async function answered(deps: TurnDeps, context: TurnContext, update: Reply, replies: readonly Reply[], via: Via): Promise<InvokeBody | undefined> {
  const card = textCard(update);
  const at = context.activity.replyToId;
  if (at && deps.sent.get(conversationOf(context), at)?.kind === 'question') await context.updateActivity({ type: 'message', id: at, attachments: [card] });
  else if (via === 'submit') await context.sendActivity({ type: 'message', attachments: [card] });
  await send(deps, context, replies);
  return via === 'execute' ? cardResponse(card) : undefined;
}
