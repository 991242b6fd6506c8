/**
 * The buttons: a card's That's it / Not it / More like this, an unknown face group's Name this
 * person, and a reply's Forget / Keep it. Every value comes back from a client untrusted: it is
 * parsed strictly, and everything it names is checked against what the pressing conversation may
 * see, with the same answer whether a thing is gone or merely elsewhere.
 */
import type { Item } from '../catalog/catalog.js';
import { forget, review } from '../entities/entities.js';
import { ErrorCode, ReferentError } from '../errors.js';
import { search } from '../search/search.js';
import type { AccessPolicy, Visible } from './access.js';
import { isAdmin } from './access.js';
import type { AssistantDeps } from './assistant.js';
import { type ActionValue, cardActions, cardTitle, decodeAction, encodeAction, hitCards, isCardAction, isNameAction, nameAction, type NameActionValue, type ReplyActionValue, unpackVector } from './cards.js';
import { namePressedGroup, pressedFaceGroup } from './faces-reply.js';
import { type ChatScope, type ChatUser, userKey } from './message.js';
import type { Card, Reply } from './reply.js';

/** What a platform's form collected on the way to the button (see ActionResult.askLabel). */
export interface ActionInput {
  label?: string;
}

export interface ActionResult {
  replies: Reply[];
  /** The pressed card as it should now look (a verdict on it), or null. */
  card: Card | null;
  /** The reply whose buttons were pressed, as it should now read (a forget answered), or absent. */
  update?: Reply;
  /**
   * That's it on a photo nobody labelled and that looks like nothing known, or Name this person on
   * an unknown face group: the platform asks for a label (a dialog, a field) and calls `act` again
   * with this value and `{ label }`. `submit`: the words of the button that sends it, when not the
   * platform's own for That's it ("Link").
   */
  askLabel?: { itemId: number; title: string; prompt: string; value: string; submit?: string };
}

export interface ButtonContext {
  policy: AccessPolicy;
  limits: { maxTextChars: number; maxImageBytes: number; batchSize: number };
  results: number;
  visible(scope: ChatScope): Promise<Visible>;
  audit(visible: Visible, user: ChatUser, scope: ChatScope, query: string, only?: number): Promise<void>;
}

/** Labels typed into a form: what `add <label>:` accepts (no colon, one line), bounded. */
const MAX_LABEL_CHARS = 200;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export class ButtonHandler {
  constructor(
    private readonly deps: AssistantDeps,
    private readonly context: ButtonContext,
  ) {}

  async run(value: unknown, user: ChatUser, scope: ChatScope, input?: ActionInput): Promise<ActionResult> {
    const action = decodeAction(value);
    if (isNameAction(action)) return this.nameGroup(action, user, scope, input);
    if (!isCardAction(action)) return this.forgetAnswer(action, user, scope);
    const visible = await this.context.visible(scope);
    const item = await this.deps.catalog.getItem(action.i);
    // The same answer whether the image is gone or merely elsewhere: nothing leaks across scopes.
    if (!item || !visible.ids.has(item.collectionId)) throw new ReferentError(ErrorCode.NotFound, 'That image is not available in this conversation.');
    const query = action.q || 'a posted photo';
    // More like this searches every collection visible here, people included; a verdict touches only the image's.
    await this.context.audit(visible, user, scope, `${action.a} on image #${item.id}: ${query}`, action.a === 'more' ? undefined : item.collectionId);
    if (action.a === 'more') return this.moreLike(item, visible);
    return this.verdict(action, item, visible, user, input);
  }

  private async moreLike(item: Item, visible: Visible): Promise<ActionResult> {
    const { hits, vector } = await search(this.deps, { likeItem: item.id, collectionIds: visible.ids, limit: this.context.results }, this.context.limits);
    // Verdicts on these cards are recorded against the photo they were found with.
    const cards = hitCards(hits, visible.byId, { text: `images like ${cardTitle(item)}`, typed: false, vector });
    return { replies: [{ kind: 'results', text: `${plural(hits.length, 'image')} like ${cardTitle(item)}.`, cards }], card: null };
  }

  private async verdict(action: ActionValue, item: Item, visible: Visible, user: ChatUser, input: ActionInput | undefined): Promise<ActionResult> {
    const searched = action.x === undefined ? undefined : unpackVector(action.x, this.deps.encoder.dim);
    if (searched === null) throw new ReferentError(ErrorCode.UsageInvalid, 'That button is from another model or an older version: search again.');
    // The entity id comes back from the client too: one this conversation cannot see is no entity at all.
    const named = action.e === null ? null : await this.deps.catalog.getEntity(action.e);
    const entityId = item.entityId ?? (named && visible.ids.has(named.collectionId) ? named.id : null);
    const label = input?.label === undefined ? undefined : checkLabel(input.label);
    const asked = { text: action.q, typed: action.t, ...(searched ? { vector: searched } : {}) };
    if (action.a === 'confirm' && entityId === null && label === undefined) {
      const title = cardTitle(item);
      // Made anew, not echoed: an entity id the client sent that this conversation cannot see goes no further.
      const again = encodeAction('confirm', { itemId: item.id, entityId: null, band: action.b, why: action.w }, asked);
      return { replies: [], card: null, askLabel: { itemId: item.id, title, value: again, prompt: `What does ${title} show? Give it a label, such as a part number or a name.` } };
    }
    const result = await review(
      this.deps,
      {
        query: action.q,
        itemId: item.id,
        verdict: action.a as 'confirm' | 'reject',
        ...(label !== undefined && entityId === null ? { entityLabel: label } : { entityId }),
        user: userKey(user),
        keepQuery: action.t,
        ...(searched ? { searched } : {}),
      },
      this.context.limits,
    );
    const who = user.name ?? user.id;
    const after = await this.deps.catalog.getItem(item.id) ?? item;
    const collection = visible.byId.get(item.collectionId)!;
    const base = { itemId: item.id, entityId: after.entityId ?? entityId, band: action.b, why: action.w };
    const card: Card = {
      itemId: item.id,
      mediaKey: item.mediaKey,
      title: cardTitle(after),
      collection: collection.name,
      ...(action.b ? { band: action.b } : {}),
      why: action.w,
      more: 0,
      actions: cardActions(base, asked),
      verdict: action.a === 'confirm' ? `Confirmed by ${who}` : `Rejected by ${who}`,
    };
    const like = action.t ? (searched ? 'searches like this one' : 'questions like this one') : 'photos like this one';
    const entityCard = item.entityId !== null && item.entityLabel !== null;
    let effect: string;
    if (action.a === 'reject') effect = entityCard ? `${item.entityLabel} will rank lower for ${like}` : `this image will rank lower for ${like}`;
    else if (item.entityId === null && result.entity) effect = `this image is now ${result.entity.label}, and it will rank higher for ${like}`;
    else effect = `it will rank higher for ${like}`;
    return { replies: [{ kind: 'info', text: `Thanks, ${who}: ${effect}.`, cards: [] }], card };
  }

  /**
   * Name this person on an unknown face group's card: first the label is asked for, then the group is
   * named with it, as `faces name <group> <label>` would. Each press is a person query, audited before
   * the group is read; the label is checked before anything is.
   */
  private async nameGroup(action: NameActionValue, user: ChatUser, scope: ChatScope, input: ActionInput | undefined): Promise<ActionResult> {
    const label = input?.label === undefined ? undefined : checkLabel(input.label);
    const visible = await this.context.visible(scope);
    const query = label === undefined ? `Name this person on face group ${action.g}` : `faces name ${action.g} ${label}`;
    const audit = (id: number) => this.context.audit(visible, user, scope, query, id);
    const pressed = await pressedFaceGroup(this.deps.catalog, visible, audit, { collectionId: action.c, groupId: action.g, itemId: action.i });
    const { collection, group, item } = pressed;
    if (label === undefined) {
      // Made anew from what was checked, not echoed.
      const { value } = nameAction({ collectionId: collection.id, groupId: group.id, itemId: item.id });
      const photos = group.itemIds.length;
      const prompt = `Who is this? ${plural(photos, 'photo')} in ${collection.name} ${photos === 1 ? 'shows' : 'show'} this face. Give the name your team uses: I link ${photos === 1 ? 'it' : 'them all'} to that person.`;
      return { replies: [], card: null, askLabel: { itemId: item.id, title: `Unknown face group ${group.id}`, prompt, value, submit: 'Name' } };
    }
    const named = await namePressedGroup(this.deps.catalog, pressed, label);
    const who = user.name ?? user.id;
    const card: Card = {
      itemId: item.id,
      mediaKey: item.mediaKey,
      title: label,
      collection: collection.name,
      why: `${plural(named.photos, 'photo')} of ${label}`,
      more: named.photos - 1,
      actions: [],
      verdict: `Named ${label} by ${who}`,
    };
    return { replies: [{ kind: 'info', text: named.text, cards: [] }], card };
  }

  /** Forget (admins) or Keep it, under the question `forget <label>` asked. */
  private async forgetAnswer(action: ReplyActionValue, user: ChatUser, scope: ChatScope): Promise<ActionResult> {
    const who = user.name ?? user.id;
    if (action.a === 'cancel') {
      const text = `Kept ${action.l}: ${who} chose not to forget it.`;
      return { replies: [], card: null, update: { kind: 'info', text, cards: [] } };
    }
    if (!isAdmin(this.context.policy, user)) throw new ReferentError(ErrorCode.Forbidden, 'Only an admin can make me forget something.');
    const visible = await this.context.visible(scope);
    const entity = await this.deps.catalog.getEntity(action.e);
    if (!entity || !visible.ids.has(entity.collectionId)) throw new ReferentError(ErrorCode.NotFound, `${action.l} is not here any more (already forgotten, or not in this conversation).`);
    const collection = visible.byId.get(entity.collectionId)!;
    await this.context.audit(visible, user, scope, `forget ${entity.label}`, entity.collectionId);
    const result = await forget(this.deps, entity.label, collection.name);
    const text = `Forgotten by ${who}: ${entity.label} (${collection.name}), with its ${plural(result.items, 'photo')}, descriptions and verdicts.`;
    return { replies: [], card: null, update: { kind: 'info', text, cards: [] } };
  }
}

function checkLabel(raw: string): string {
  const label = raw.trim();
  if (!label) throw new ReferentError(ErrorCode.UsageInvalid, 'Give a label, such as a part number or a name.');
  if (label.length > MAX_LABEL_CHARS || /[:\r\n]/.test(label)) {
    throw new ReferentError(ErrorCode.UsageInvalid, `A label is one line of at most ${MAX_LABEL_CHARS} characters, without a colon.`);
  }
  return label;
}
