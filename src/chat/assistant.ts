/**
 * The platform-neutral assistant: a chat message in, replies out (text and neutral cards), and the
 * card buttons. It never throws: typed errors become friendly replies, and anything unexpected is
 * logged once and answered with an apology. Every request is checked against what the message's
 * scope may see, including item ids that come back in button values.
 */
import type { Collection, Entity } from '../catalog/catalog.js';
import { describe, forget, review, show } from '../entities/entities.js';
import { ErrorCode, isReferentError, ReferentError } from '../errors.js';
import { ingest } from '../ingest/ingest.js';
import { searchItems, type SearchDeps, type SearchRequest } from '../search/search.js';
import type { MediaStore } from '../media/media-store.js';
import { type AccessPolicy, isAdmin, type Visible, visibleCollections } from './access.js';
import { cardActions, cardTitle, decodeAction, hitCards } from './cards.js';
import { helpReply } from './help.js';
import { type ChatMessage, type ChatScope, type ChatUser, type Command, parseCommand, scopeKey, userKey } from './message.js';
import type { Card, Reply } from './reply.js';

export interface AssistantDeps extends SearchDeps {
  media: MediaStore;
}

export interface AssistantOptions {
  policy: AccessPolicy;
  limits: { maxTextChars: number; maxImageBytes: number; batchSize: number };
  /** Cards per answer (default 5). */
  results?: number;
  /** Photos per message (default 4). */
  maxImages?: number;
  /** Where the unexpected goes (once per failure). */
  log: (line: string) => void;
  /** Called after photos were added (the server starts reading their labels). */
  onAdded?: () => void;
}

export interface ActionResult {
  replies: Reply[];
  /** The pressed card as it should now look (a verdict on it), or null. */
  card: Card | null;
}

const PHOTO_NOTE = 'a posted photo';
/** Where the web chat's first `add` goes when there is no collection yet. */
const DEFAULT_COLLECTION = 'default';
const PHOTO_QUERY = { text: PHOTO_NOTE, typed: false };

export class Assistant {
  private readonly results: number;

  constructor(
    private readonly deps: AssistantDeps,
    private readonly options: AssistantOptions,
  ) {
    this.results = options.results ?? 5;
  }

  help(): Reply {
    return helpReply(this.deps.encoder.isDemo);
  }

  get modelName(): string {
    return this.deps.encoder.displayName;
  }

  /** Photos one message may carry. */
  get maxImages(): number {
    return this.options.maxImages ?? 4;
  }

  get demoEncoder(): boolean {
    return this.deps.encoder.isDemo;
  }

  /**
   * Answers one message. `command` is for forms that were not typed (a platform's dialog): it is
   * used instead of parsing the text, which then only serves the audit log.
   */
  async handle(message: ChatMessage, command?: Command): Promise<Reply[]> {
    try {
      return await this.dispatch(message, command);
    } catch (err) {
      return [this.failure(err, `message from ${userKey(message.user)} in ${scopeKey(message.scope)}`)];
    }
  }

  /** Handles a card button (its value as the client sent it back). */
  async act(value: unknown, user: ChatUser, scope: ChatScope): Promise<ActionResult> {
    try {
      return await this.runAction(value, user, scope);
    } catch (err) {
      return { replies: [this.failure(err, `button from ${userKey(user)} in ${scopeKey(scope)}`)], card: null };
    }
  }

  private async dispatch(message: ChatMessage, given: Command | undefined): Promise<Reply[]> {
    const { maxTextChars } = this.options.limits;
    if (message.text.length > maxTextChars) {
      throw new ReferentError(ErrorCode.TextTooLong, `That message is ${message.text.length} characters; I read at most ${maxTextChars}.`);
    }
    const { maxImages } = this;
    if (message.images.length > maxImages) throw new ReferentError(ErrorCode.UsageInvalid, `Attach at most ${maxImages} photos to one message.`);
    const command = given ?? parseCommand(message.text, message.images.length > 0);
    switch (command.kind) {
      case 'help':
        return [this.help()];
      case 'usage':
        return [{ kind: 'error', text: command.problem, cards: [] }];
      case 'stats':
        return [this.stats(message.scope)];
      case 'find':
        return [await this.find(message, command.text)];
      case 'add':
        return [await this.add(message, command.label, command.text, command.collection)];
      case 'describe': {
        const { entity, collection } = this.resolve(message.scope, command.label, message);
        await describe(this.deps, { label: entity.label, text: command.text, collection: collection.name, author: userKey(message.user) }, this.options.limits);
        return [{ kind: 'info', text: `Noted: ${entity.label} — "${command.text}". Searches use it from now on.`, cards: [] }];
      }
      case 'show':
        return [this.show(message, command.label)];
      case 'forget': {
        if (!isAdmin(this.options.policy, message.user)) throw new ReferentError(ErrorCode.Forbidden, 'Only an admin can make me forget something.');
        const { entity, collection } = this.resolve(message.scope, command.label, message);
        const result = await forget(this.deps, entity.label, collection.name);
        return [{ kind: 'info', text: `Forgotten: ${entity.label}, with its ${result.items} photo${result.items === 1 ? '' : 's'}, descriptions and verdicts.`, cards: [] }];
      }
    }
  }

  private visible(scope: ChatScope): Visible {
    return visibleCollections(this.deps.catalog, this.options.policy, scope);
  }

  private nothingShared(visible: Visible, scope: ChatScope): ReferentError {
    if (visible.mayCreate) {
      return new ReferentError(ErrorCode.NotFound, 'There is nothing to search yet. Teach me: attach a photo and write "add <label>: what it is", or add a folder with `referent ingest`.');
    }
    const off = visible.personOff.map((c) => c.name);
    const more = off.length ? ` Person search is off for ${off.join(', ')} until an admin enables it.` : '';
    return new ReferentError(ErrorCode.Forbidden, `No collection is shared with this conversation yet: an admin can grant one (referent grant <collection> ${scopeKey(scope)}).${more}`);
  }

  /** Person queries are audited before they run: who, where, what, when. */
  private audit(visible: Visible, user: ChatUser, scope: ChatScope, query: string, only?: number): void {
    for (const c of visible.collections) {
      if (c.kind !== 'person' || (only !== undefined && c.id !== only)) continue;
      this.deps.catalog.addAudit({ user: userKey(user), platform: scope.platform, scope: scopeKey(scope), collectionId: c.id, query });
    }
  }

  private async find(message: ChatMessage, text: string): Promise<Reply> {
    const visible = this.visible(message.scope);
    if (visible.collections.length === 0) throw this.nothingShared(visible, message.scope);
    const image = message.images[0];
    this.audit(visible, message.user, message.scope, text || PHOTO_NOTE);
    const request: SearchRequest = { limit: this.results, collectionIds: visible.ids, ...(text ? { text } : {}), ...(image ? { image } : {}) };
    const hits = await searchItems(this.deps, request, this.options.limits);
    const asked = text ? `"${text}"` : 'your photo';
    const extra = message.images.length > 1 ? ` (I searched with the first of your ${message.images.length} photos.)` : '';
    return {
      kind: 'results',
      text: hits.length ? `${hits.length} match${hits.length === 1 ? '' : 'es'} for ${asked}.${extra}` : `Nothing matches ${asked} in what this conversation can see.`,
      cards: hitCards(hits, visible.byId, text ? { text, typed: true } : PHOTO_QUERY),
      ...(this.deps.encoder.isDemo ? { demoEncoder: true } : {}),
    };
  }

  /**
   * The visible entity with this label; errors name what to do in chat. Naming a person is a person
   * query: with the message at hand, it is audited.
   */
  private resolve(scope: ChatScope, label: string, message?: ChatMessage): { entity: Entity; collection: Collection } {
    const visible = this.visible(scope);
    const { byId } = visible;
    const found = this.deps.catalog.findEntities(label).filter((e) => byId.has(e.collectionId));
    if (found.length === 0) throw new ReferentError(ErrorCode.NotFound, `I don't know anything called "${label}" here. Teach me: post a photo with "add ${label}: what it looks like".`);
    // Audited before the ambiguity is answered: that answer too says a person by this name is there.
    if (message) for (const id of new Set(found.map((e) => e.collectionId))) this.audit(visible, message.user, scope, message.text, id);
    if (found.length > 1) {
      throw new ReferentError(ErrorCode.LabelAmbiguous, `"${label}" exists in ${found.map((e) => byId.get(e.collectionId)!.name).join(' and ')}.`);
    }
    return { entity: found[0]!, collection: byId.get(found[0]!.collectionId)! };
  }

  /** The collection an `add` goes to: the named one, the entity's own, or the only one (the only non-person one) visible here. */
  private addTarget(visible: Visible, label: string, named: string | undefined): Collection {
    if (named !== undefined) {
      const c = visible.collections.find((x) => x.name === named);
      if (!c) throw new ReferentError(ErrorCode.NotFound, `There is no collection "${named}" in this conversation.`);
      return c;
    }
    const existing = this.deps.catalog.findEntities(label).find((e) => visible.ids.has(e.collectionId));
    if (existing) return visible.byId.get(existing.collectionId)!;
    if (visible.collections.length === 1) return visible.collections[0]!;
    // Photos of people go into a person collection only when someone says so.
    const others = visible.collections.filter((c) => c.kind !== 'person');
    if (others.length === 1) return others[0]!;
    const names = visible.collections.map((c) => c.name);
    throw new ReferentError(ErrorCode.UsageInvalid, `Say which collection: "add ${label} in ${names[0]}: …" (here: ${names.join(', ')}).`);
  }

  private async add(message: ChatMessage, label: string, text: string, named: string | undefined): Promise<Reply> {
    let visible = this.visible(message.scope);
    // The operator's own web chat may start the first collection; a chat channel only adds to what it was granted.
    if (visible.collections.length === 0 && visible.mayCreate && named === undefined) {
      this.deps.catalog.ensureCollection(DEFAULT_COLLECTION, 'other');
      visible = this.visible(message.scope);
    }
    if (visible.collections.length === 0) throw this.nothingShared(visible, message.scope);
    const collection = this.addTarget(visible, label, named);
    if (message.images.length === 0) {
      // describe() looks the label up in every collection: a namesake this conversation cannot see must
      // neither stop the description nor give itself away, so the entity is made here first.
      this.deps.catalog.ensureEntity(collection.id, label);
      await describe(this.deps, { label, text, collection: collection.name, author: userKey(message.user) }, this.options.limits);
      return { kind: 'info', text: `Noted: ${label} — "${text}".`, cards: [] };
    }
    const postedBy = { platform: message.scope.platform, channel: scopeKey(message.scope), user: userKey(message.user) };
    const sources = message.images.map((bytes, i) => ({ path: '', bytes, origin: `photo ${i + 1}`, entity: label, collection: collection.name, postedBy, ...(text ? { caption: text } : {}) }));
    const { limits } = this.options;
    const summary = await ingest(this.deps, { sources, problems: [] }, { collection: collection.name, ...limits });
    this.deps.references.catchUp();
    if (summary.added > 0) this.options.onAdded?.();
    const lines = [`Added ${summary.added} photo${summary.added === 1 ? '' : 's'} of ${label} to ${collection.name}${summary.skipped ? ` (${summary.skipped} already there)` : ''}.`];
    for (const f of summary.failed) lines.push(`Could not add ${f.origin}: ${f.reason}`);
    if (summary.added > 0) lines.push(`Find it with "show ${label}" or by describing it.`);
    return { kind: summary.added > 0 ? 'info' : 'error', text: lines.join('\n'), cards: [] };
  }

  private show(message: ChatMessage, label: string): Reply {
    const { entity, collection } = this.resolve(message.scope, label, message);
    const view = show(this.deps, entity.label, collection.name);
    const lines = [`${entity.label} (${collection.name}): ${view.items.length} photo${view.items.length === 1 ? '' : 's'}, ${view.descriptions.length} description${view.descriptions.length === 1 ? '' : 's'}.`];
    for (const d of view.descriptions.slice(0, 5)) lines.push(`• ${d.text}`);
    const read = [...new Set(view.labels.flatMap((l) => l.lines))];
    if (read.length) lines.push(`Labels read: ${read.slice(0, 5).map((t) => `"${t}"`).join(', ')}`);
    const cards = view.items.slice(0, this.results).map((item): Card => {
      const base = { itemId: item.id, entityId: entity.id, band: 'strong' as const, why: `a photo of ${entity.label}` };
      const actions = cardActions(base, PHOTO_QUERY).filter((a) => a.kind === 'more');
      return { itemId: item.id, mediaKey: item.mediaKey, title: cardTitle(item), collection: collection.name, band: base.band, why: base.why, more: 0, actions };
    });
    return { kind: 'results', text: lines.join('\n'), cards };
  }

  private stats(scope: ChatScope): Reply {
    const visible = this.visible(scope);
    const { catalog, encoder } = this.deps;
    // Only what this conversation may see: no totals across collections it was not granted.
    const lines = visible.collections.map((c) => `• ${c.name} (${c.kind}): ${catalog.countItems(c.id)} images`);
    if (lines.length === 0) lines.push('No collection is shared with this conversation yet.');
    lines.push(`Model: ${encoder.displayName}.`);
    return { kind: 'info', text: lines.join('\n'), cards: [] };
  }

  private async runAction(value: unknown, user: ChatUser, scope: ChatScope): Promise<ActionResult> {
    const action = decodeAction(value);
    const visible = this.visible(scope);
    const item = this.deps.catalog.getItem(action.i);
    // The same answer whether the image is gone or merely elsewhere: nothing leaks across scopes.
    if (!item || !visible.ids.has(item.collectionId)) throw new ReferentError(ErrorCode.NotFound, 'That image is not available in this conversation.');
    const collection = visible.byId.get(item.collectionId)!;
    const query = action.t ? action.q : PHOTO_NOTE;
    // More like this searches every collection visible here, people included; a verdict touches only the image's.
    this.audit(visible, user, scope, `${action.a} on image #${item.id}: ${query}`, action.a === 'more' ? undefined : item.collectionId);
    // The entity id comes back from the client too: one this conversation cannot see is no entity at all.
    const named = action.e === null ? null : this.deps.catalog.getEntity(action.e);
    const entityId = named && visible.ids.has(named.collectionId) ? named.id : null;
    if (action.a === 'more') {
      const hits = await searchItems(this.deps, { likeItem: item.id, collectionIds: visible.ids, limit: this.results }, this.options.limits);
      const cards = hitCards(hits, visible.byId, PHOTO_QUERY);
      return { replies: [{ kind: 'results', text: `${hits.length} image${hits.length === 1 ? '' : 's'} like ${cardTitle(item)}.`, cards }], card: null };
    }
    try {
      await review(this.deps, { query, itemId: item.id, verdict: action.a, entityId, user: userKey(user), keepQuery: action.t }, this.options.limits);
    } catch (err) {
      if (isReferentError(err, ErrorCode.LabelNeeded)) {
        throw new ReferentError(ErrorCode.LabelNeeded, `I don't know what this image shows yet. Post it with "add <label>: …" to teach me.`);
      }
      throw err;
    }
    const who = user.name ?? user.id;
    const after = this.deps.catalog.getItem(item.id) ?? item;
    const verdict = action.a === 'confirm' ? `Confirmed by ${who}` : `Rejected by ${who}`;
    const base = { itemId: item.id, entityId: after.entityId ?? entityId, band: action.b, why: action.w };
    const card: Card = { itemId: item.id, mediaKey: item.mediaKey, title: cardTitle(after), collection: collection.name, band: action.b, why: action.w, more: 0, actions: cardActions(base, { text: action.q, typed: action.t }), verdict };
    const effect = action.a === 'confirm' ? 'it will rank higher for questions like this one' : 'it will rank lower for questions like this one';
    return { replies: [{ kind: 'info', text: `Thanks, ${who}: ${effect}.`, cards: [] }], card };
  }

  private failure(err: unknown, context: string): Reply {
    if (isReferentError(err)) return { kind: 'error', text: err.message, cards: [] };
    this.options.log(`unexpected error on a ${context}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return { kind: 'error', text: 'Something went wrong on my side; it has been logged. Please try again.', cards: [] };
  }
}
