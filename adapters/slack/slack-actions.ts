/**
 * Buttons and what follows them: a card's That's it / Not it / More like this, a reply's Forget /
 * Keep it, Share in channel, and the dialog That's it opens on a photo nobody labelled. A button
 * on a channel message edits that message (chat.update); one on a private answer edits it through
 * the press's response URL. Every value goes back to the assistant, which re-checks it.
 */
import type { App, webApi } from '@slack/bolt';
import { z } from 'zod';
import type { ActionResult } from '../../src/chat/assistant.js';
import { ErrorCode, ReferentError } from '../../src/errors.js';
import { CARD_ACTION, cardOfBlock, LABEL_VIEW, labelModal, replaceCard, REPLY_ACTION, replyMessage, SHARE_ACTION, sharedByBlock, sharedQuery, type Block, type SlackMessage, workingMessage } from './blocks.js';
import { answer, channelSink, deliver, failed, notInChannel, privateSink, type Respond, type Sink } from './slack-replies.js';
import { safeJson, type SlackDeps } from './slack-listeners.js';
import { clip } from './text.js';
import { interactionWhere, scopeOf, type Where } from './who.js';

/** Under Slack's 3 s: a label dialog waits this long for the assistant, so a refusal can show in the field. */
const DIALOG_ANSWER_MS = 2000;
/** Slack's limit on a view's private_metadata. */
const MAX_METADATA = 3000;

/** The parts of a block_actions payload read here. */
interface Pressed {
  type: string;
  team?: { id?: string } | null;
  user: { id: string; name?: string; username?: string; team_id?: string };
  channel?: { id: string };
  container?: { channel_id?: string; message_ts?: string; is_ephemeral?: boolean };
  /** Absent on an ephemeral message: Slack does not hand its blocks back. */
  message?: { ts: string; thread_ts?: string; text?: string; blocks?: Block[] };
  response_url?: string;
  trigger_id?: string;
}
interface Button {
  type: string;
  action_id: string;
  block_id?: string;
  value?: string;
}

/** What the label dialog carries to its submission: the button's value and where its card is. */
const labelMetaSchema = z.object({
  a: z.record(z.string(), z.unknown()),
  c: z.string().max(40),
  k: z.string().max(255).optional(),
  t: z.string().max(40).optional(),
  h: z.string().max(40).optional(),
  r: z.string().max(1000).optional(),
});
type LabelMeta = z.infer<typeof labelMetaSchema>;

export function listenToButtons(app: App, deps: SlackDeps): void {
  const handlers = new ButtonHandlers(deps);
  app.action(CARD_ACTION, async ({ ack, body, action, client, respond }) => {
    await ack();
    await handlers.press(body as unknown as Pressed, action as unknown as Button, client, respond as Respond);
  });
  app.action(REPLY_ACTION, async ({ ack, body, action, client, respond }) => {
    await ack();
    await handlers.press(body as unknown as Pressed, action as unknown as Button, client, respond as Respond);
  });
  app.action(SHARE_ACTION, async ({ ack, body, action, client, respond }) => {
    await ack();
    await handlers.share(body as unknown as Pressed, action as unknown as Button, client, respond as Respond);
  });
  app.view(LABEL_VIEW, async ({ ack, body, view, client }) => {
    await handlers.labelled(body as never, view.private_metadata, view.state.values.label?.value?.value ?? '', ack as never, client);
  });
}

class ButtonHandlers {
  constructor(private readonly deps: SlackDeps) {}

  /** A card's or a reply's button. */
  async press(body: Pressed, action: Button, client: webApi.WebClient, respond: Respond): Promise<void> {
    if (body.type !== 'block_actions' || action.type !== 'button') return;
    const { assistant, memory } = this.deps;
    const channel = body.channel?.id ?? body.container?.channel_id ?? '';
    const message = body.message;
    const privately = !message || body.container?.is_ephemeral === true;
    const where = interactionWhere(body, channel, message ? (message.thread_ts ?? message.ts) : undefined);
    const sink = privately ? privateSink(respond, memory) : channelSink(client, where);
    // The pressed message as it reads now: from the payload, or (a private answer) from memory.
    const shown: SlackMessage | undefined = message?.blocks ? { text: message.text ?? '', blocks: message.blocks } : memory.recall(action.block_id);
    const edit = privately ? (m: SlackMessage) => sink.update('', m) : (m: SlackMessage) => client.chat.update({ channel, ts: message!.ts, ...m }).then(() => {});
    let placeholder: string | null = null;
    try {
      // In a private answer a second message would make "replace the original" ambiguous: no placeholder there.
      if (action.action_id === 'referent.more' && !privately) placeholder = await sink.post(workingMessage('Searching'));
      const result = await assistant.act(action.value, where.user, scopeOf(where));
      if (result.askLabel) return void (await this.askLabel(body, action, result.askLabel, where, shown, client));
      if (result.update) await edit(replyMessage(result.update, new Map()));
      // A private answer this server no longer remembers keeps its look; the verdict counts all the same.
      if (result.card && shown) await this.redraw(shown, result, where.team, edit);
      await this.thank(sink, where.team, result, placeholder);
    } catch (err) {
      await failed(this.deps.log, sink, placeholder, `on a button from ${where.user.id} in ${where.team}/${channel}`, err);
    }
  }

  /** The card re-rendered with its verdict, the other blocks as they were (a message without that card is left alone). */
  private async redraw(shown: SlackMessage, result: ActionResult, team: string, edit: (m: SlackMessage) => Promise<void>): Promise<void> {
    const card = result.card!;
    if (!shown.blocks.some((b) => cardOfBlock(b.block_id) === card.itemId)) return;
    const picture = (await this.deps.images.sources(team, [card.mediaKey])).get(card.mediaKey);
    await edit({ text: shown.text, blocks: replaceCard(shown.blocks, card, picture) });
  }

  /** A verdict's thanks is for the person who gave it; other replies (More like this) are posted. */
  private async thank(sink: Sink, team: string, result: ActionResult, placeholder: string | null): Promise<void> {
    const [first, ...rest] = result.replies;
    const thanks = first?.kind === 'info' && result.card !== null;
    if (thanks) await sink.tell(first.text);
    await deliver(this.deps.images, sink, team, thanks ? rest : result.replies, placeholder);
  }

  /** That's it on a photo nobody labelled, or Name this person: a dialog asks for the label (opened within the trigger's 3 s). */
  private async askLabel(body: Pressed, action: Button, ask: NonNullable<ActionResult['askLabel']>, where: Where, shown: SlackMessage | undefined, client: webApi.WebClient): Promise<void> {
    const privately = !body.message || body.container?.is_ephemeral === true;
    const meta: LabelMeta = {
      a: JSON.parse(ask.value) as Record<string, unknown>,
      c: where.channel,
      ...(action.block_id ? { k: action.block_id } : {}),
      ...(privately ? (body.response_url ? { r: body.response_url } : {}) : { t: body.message!.ts, ...(where.thread ? { h: where.thread } : {}) }),
    };
    const metadata = JSON.stringify(meta);
    if (metadata.length > MAX_METADATA || !body.trigger_id) throw new ReferentError(ErrorCode.UsageInvalid, 'I cannot ask for a label from this button: ask again and press the button on the new card.');
    // The dialog's submission carries no blocks: the card's message is kept to redraw it then.
    if (shown) this.deps.memory.remember(shown);
    await client.views.open({ trigger_id: body.trigger_id, view: labelModal(ask, metadata) as never });
  }

  /** The label dialog submitted: link the photo (or name the face group), redraw its card, and post what the assistant said. */
  async labelled(
    body: { team?: { id?: string } | null; user: Pressed['user'] },
    privateMetadata: string,
    typed: string,
    ack: (response?: Record<string, unknown>) => Promise<void>,
    client: webApi.WebClient,
  ): Promise<void> {
    const parsed = labelMetaSchema.safeParse(safeJson(privateMetadata));
    if (!parsed.success) {
      this.deps.log('slack: a label dialog came back without its metadata; ignored');
      return ack();
    }
    const meta = parsed.data;
    const where = interactionWhere(body, meta.c, meta.h);
    const acting = this.deps.assistant.act(JSON.stringify(meta.a), where.user, scopeOf(where), { label: typed });
    const early = await Promise.race([acting, new Promise<null>((resolve) => setTimeout(() => resolve(null), DIALOG_ANSWER_MS).unref())]);
    const refusal = early && !early.card ? early.replies.find((r) => r.kind === 'error') : undefined;
    // A refused label (a colon, too long, empty) is shown in the field, and the dialog stays open.
    if (refusal) return ack({ response_action: 'errors', errors: { label: clip(refusal.text, 2000) } });
    await ack();
    const respond = meta.r ? this.respondTo(meta.r) : undefined;
    const sink = respond ? privateSink(respond, this.deps.memory) : channelSink(client, where);
    try {
      const result = early ?? (await acting);
      const shown = this.deps.memory.recall(meta.k);
      const edit = respond ? (m: SlackMessage) => sink.update('', m) : meta.t ? (m: SlackMessage) => client.chat.update({ channel: meta.c, ts: meta.t!, ...m }).then(() => {}) : null;
      if (result.card && shown && edit) await this.redraw(shown, result, where.team, edit);
      // The team sees what was linked: the replies go in the card's thread (privately for a private card).
      await deliver(this.deps.images, sink, where.team, result.replies, null);
    } catch (err) {
      await failed(this.deps.log, sink, null, `on a label dialog from ${where.user.id} in ${where.team}/${meta.c}`, err);
    }
  }

  /** Posts to a response URL kept in a dialog's metadata: only ever Slack's own hosts (or the configured API host). */
  private respondTo(url: string): Respond | undefined {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return undefined;
    }
    const host = target.hostname.toLowerCase();
    const slack = target.protocol === 'https:' && (host === 'slack.com' || host.endsWith('.slack.com'));
    if (!slack && target.host !== new URL(this.deps.download.apiUrl).host) return undefined;
    return async (message) => {
      const res = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(message) });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`the response URL answered HTTP ${res.status}`);
    };
  }

  /**
   * Share in channel: the question asked again in public, saying who asked, then the private answer
   * removed. Where the bot is not a member it cannot post: the person is told how to invite it.
   */
  async share(body: Pressed, action: Button, client: webApi.WebClient, respond: Respond): Promise<void> {
    const query = sharedQuery(action.value);
    const mine = privateSink(respond);
    if (!query) return void (await mine.tell('That button is not one of mine (or it is from an older version): ask again.'));
    const where = interactionWhere(body, body.channel?.id ?? body.container?.channel_id ?? '');
    const channel = channelSink(client, where);
    // Shared once something stays in the channel: the placeholder turned answer, or an answer posted as such.
    const alive = new Set<string>();
    let answered = false;
    const sink: Sink = {
      privately: false,
      post: async (message) => {
        try {
          const ts = await channel.post(message);
          alive.add(ts ?? `posted:${alive.size}`);
          return ts;
        } catch (err) {
          if (notInChannel(err)) throw new ReferentError(ErrorCode.Forbidden, 'I am not in this channel, so I cannot share here: invite me (/invite @Referent), then press Share again.');
          throw err;
        }
      },
      update: async (ts, message) => {
        await channel.update(ts, message);
        answered = true;
      },
      remove: async (ts) => {
        await channel.remove(ts);
        alive.delete(ts);
      },
      tell: (text) => mine.tell(text),
    };
    await answer(this.deps, sink, where, query, [], { extras: (reply) => (reply.kind === 'results' ? { head: [sharedByBlock(where.user.id, query)] } : {}) });
    if (answered || alive.size > 0) await respond({ delete_original: true }).catch(() => {});
  }
}
