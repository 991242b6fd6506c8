/**
 * The platform-neutral assistant: a chat message in, replies out (text and neutral cards), and the
 * card buttons. It never throws: typed errors become friendly replies, and anything unexpected is
 * logged once and answered with an apology. Every request is checked against what the message's
 * scope may see, including item ids that come back in button values.
 */
import type { Collection, Entity } from '../catalog/catalog.js';
import { describe, show } from '../entities/entities.js';
import { taughtAnything, teach, teachSummary } from '../entities/teach.js';
import { ErrorCode, isReferentError, ReferentError } from '../errors.js';
import { search, type SearchDeps, type SearchRequest } from '../search/search.js';
import type { MediaStore } from '../media/media-store.js';
import { type AccessPolicy, isAdmin, type Visible, visibleCollections } from './access.js';
import { ButtonHandler, type ActionInput, type ActionResult } from './buttons.js';
import { cardActions, cardTitle, forgetActions, hitCards } from './cards.js';
import { nameFacesReply, unknownFacesReply } from './faces-reply.js';
import { helpReply } from './help.js';
import { whoIsThisReply } from './who-is-this.js';
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

export type { ActionInput, ActionResult } from './buttons.js';

/** What a photo query records as its words (its vector travels with the buttons). */
export const PHOTO_NOTE = 'a posted photo';
/** Added to an audited query that compared faces. */
export const FACE_NOTE = '(faces compared)';
/** Where the web chat's first `add` goes when there is no collection yet. */
const DEFAULT_COLLECTION = 'default';

export class Assistant {
  private readonly results: number;
  private readonly buttons: ButtonHandler;

  constructor(
    private readonly deps: AssistantDeps,
    private readonly options: AssistantOptions,
  ) {
    this.results = options.results ?? 5;
    this.buttons = new ButtonHandler(deps, {
      ...options,
      results: this.results,
      visible: (scope) => this.visible(scope),
      audit: (visible, user, scope, query, only) => this.audit(visible, user, scope, query, only),
    });
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

  /**
   * Handles a button (its value as the client sent it back): a card's verdict or More like this, or
   * a reply's forget confirmation. `input` carries what a platform's form asked for on the way (the
   * label of an unlabelled photo, after ActionResult.askLabel).
   */
  async act(value: unknown, user: ChatUser, scope: ChatScope, input?: ActionInput): Promise<ActionResult> {
    try {
      return await this.buttons.run(value, user, scope, input);
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
        return [await this.stats(message.scope)];
      case 'find':
        return [await this.find(message, command.text)];
      case 'add':
        return [await this.add(message, command.label, command.text, command.collection)];
      case 'describe': {
        const { entity, collection } = await this.resolve(message.scope, command.label, message);
        await describe(this.deps, { label: entity.label, text: command.text, collection: collection.name, author: userKey(message.user) }, this.options.limits);
        return [{ kind: 'info', text: `Noted: ${entity.label} — "${command.text}". Searches use it from now on.`, cards: [] }];
      }
      case 'show':
        return [await this.show(message, command.label)];
      case 'who': {
        const visible = await this.visible(message.scope);
        return [await whoIsThisReply(this.deps, visible, message.images[0]!, (id) => this.audit(visible, message.user, message.scope, `${message.text} ${FACE_NOTE}`, id))];
      }
      case 'faces':
      case 'name-faces': {
        const visible = await this.visible(message.scope);
        const audit = (id: number) => this.audit(visible, message.user, message.scope, message.text, id);
        const { catalog } = this.deps;
        return [command.kind === 'faces' ? await unknownFacesReply(catalog, visible, audit, this.results) : await nameFacesReply(catalog, visible, audit, command.group, command.label)];
      }
      case 'forget': {
        // Asked, not done: the buttons say what goes, and Forget does it (ButtonHandler).
        if (!isAdmin(this.options.policy, message.user)) throw new ReferentError(ErrorCode.Forbidden, 'Only an admin can make me forget something.');
        const { entity, collection } = await this.resolve(message.scope, command.label, message);
        const photos = (await this.deps.catalog.entityItems(entity.id)).length;
        const text = `Forget ${entity.label} (${collection.name}) and its ${photos} photo${photos === 1 ? '' : 's'}, with its descriptions and verdicts? This cannot be undone.`;
        return [{ kind: 'info', text, cards: [], actions: forgetActions(entity.id, entity.label) }];
      }
    }
  }

  visible(scope: ChatScope): Promise<Visible> {
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
  private async audit(visible: Visible, user: ChatUser, scope: ChatScope, query: string, only?: number): Promise<void> {
    for (const c of visible.collections) {
      if (c.kind !== 'person' || (only !== undefined && c.id !== only)) continue;
      await this.deps.catalog.addAudit({ user: userKey(user), platform: scope.platform, scope: scopeKey(scope), collectionId: c.id, query });
    }
  }

  private async find(message: ChatMessage, text: string): Promise<Reply> {
    const visible = await this.visible(message.scope);
    if (visible.collections.length === 0) throw this.nothingShared(visible, message.scope);
    const image = message.images[0];
    // Where faces are on, a search compares faces too (a posted photo's, and unlabelled images' with labelled people's): the audit says so.
    const faces = this.deps.faces ? new Set(await this.deps.catalog.faceCollectionIds()) : new Set<number>();
    for (const c of visible.collections) await this.audit(visible, message.user, message.scope, faces.has(c.id) ? `${text || PHOTO_NOTE} ${FACE_NOTE}` : text || PHOTO_NOTE, c.id);
    const request: SearchRequest = { limit: this.results, collectionIds: visible.ids, ...(text ? { text } : {}), ...(image ? { image } : {}) };
    const { hits, vector } = await search(this.deps, request, this.options.limits);
    const asked = text ? `"${text}"` : 'your photo';
    const extra = message.images.length > 1 ? ` (I searched with the first of your ${message.images.length} photos.)` : '';
    return {
      kind: 'results',
      text: hits.length ? `${hits.length} match${hits.length === 1 ? '' : 'es'} for ${asked}.${extra}` : `Nothing matches ${asked} in what this conversation can see.`,
      // A verdict is recorded against what was searched: the words, or the photo (with its words).
      cards: hitCards(hits, visible.byId, { text: text || PHOTO_NOTE, typed: Boolean(text), ...(image ? { vector } : {}) }),
      ...(this.deps.encoder.isDemo ? { demoEncoder: true } : {}),
    };
  }

  /**
   * The visible entity with this label; errors name what to do in chat. Naming a person is a person
   * query: with the message at hand, it is audited.
   */
  private async resolve(scope: ChatScope, label: string, message?: ChatMessage): Promise<{ entity: Entity; collection: Collection }> {
    const visible = await this.visible(scope);
    const { byId } = visible;
    const found = (await this.deps.catalog.findEntities(label)).filter((e) => byId.has(e.collectionId));
    if (found.length === 0) throw new ReferentError(ErrorCode.NotFound, `I don't know anything called "${label}" here. Teach me: post a photo with "add ${label}: what it looks like".`);
    // Audited before the ambiguity is answered: that answer too says a person by this name is there.
    if (message) for (const id of new Set(found.map((e) => e.collectionId))) await this.audit(visible, message.user, scope, message.text, id);
    if (found.length > 1) {
      throw new ReferentError(ErrorCode.LabelAmbiguous, `"${label}" exists in ${found.map((e) => byId.get(e.collectionId)!.name).join(' and ')}.`);
    }
    return { entity: found[0]!, collection: byId.get(found[0]!.collectionId)! };
  }

  /** The collection an `add` goes to: the named one, the entity's own, or the only one (the only non-person one) visible here. */
  private async addTarget(visible: Visible, label: string, named: string | undefined): Promise<Collection> {
    if (named !== undefined) {
      const c = visible.collections.find((x) => x.name === named);
      if (!c) throw new ReferentError(ErrorCode.NotFound, `There is no collection "${named}" in this conversation.`);
      return c;
    }
    const existing = (await this.deps.catalog.findEntities(label)).find((e) => visible.ids.has(e.collectionId));
    if (existing) return visible.byId.get(existing.collectionId)!;
    if (visible.collections.length === 1) return visible.collections[0]!;
    // Photos of people go into a person collection only when someone says so.
    const others = visible.collections.filter((c) => c.kind !== 'person');
    if (others.length === 1) return others[0]!;
    const names = visible.collections.map((c) => c.name);
    throw new ReferentError(ErrorCode.UsageInvalid, `Say which collection: "add ${label} in ${names[0]}: …" (here: ${names.join(', ')}).`);
  }

  private async add(message: ChatMessage, label: string, text: string, named: string | undefined): Promise<Reply> {
    let visible = await this.visible(message.scope);
    // The operator's own web chat may start the first collection; a chat channel only adds to what it was granted.
    if (visible.collections.length === 0 && visible.mayCreate && named === undefined) {
      await this.deps.catalog.ensureCollection(DEFAULT_COLLECTION, 'other');
      visible = await this.visible(message.scope);
    }
    if (visible.collections.length === 0) throw this.nothingShared(visible, message.scope);
    const collection = await this.addTarget(visible, label, named);
    if (message.images.length === 0) {
      // describe() looks the label up in every collection: a namesake this conversation cannot see must
      // neither stop the description nor give itself away, so the entity is made here first.
      await this.deps.catalog.ensureEntity(collection.id, label);
      await describe(this.deps, { label, text, collection: collection.name, author: userKey(message.user) }, this.options.limits);
      return { kind: 'info', text: `Noted: ${label} — "${text}".`, cards: [] };
    }
    const postedBy = { platform: message.scope.platform, channel: scopeKey(message.scope), user: userKey(message.user) };
    const sources = message.images.map((bytes, i) => ({ path: '', bytes, origin: `photo ${i + 1}`, postedBy }));
    const result = await teach(this.deps, { label, collection: collection.name, sources, ...(text ? { text } : {}), author: userKey(message.user) }, this.options.limits);
    if (result.added > 0) this.options.onAdded?.();
    const lines = teachSummary(label, collection.name, result);
    if (result.added + result.linked > 0) lines.push(`Find it with "show ${label}" or by describing it.`);
    return { kind: taughtAnything(result) ? 'info' : 'error', text: lines.join('\n'), cards: [] };
  }

  private async show(message: ChatMessage, label: string): Promise<Reply> {
    const { entity, collection } = await this.resolve(message.scope, label, message);
    const view = await show(this.deps, entity.label, collection.name);
    const lines = [`${entity.label} (${collection.name}): ${view.items.length} photo${view.items.length === 1 ? '' : 's'}, ${view.descriptions.length} description${view.descriptions.length === 1 ? '' : 's'}.`];
    for (const d of view.descriptions.slice(0, 5)) lines.push(`• ${d.text}`);
    const read = [...new Set(view.labels.flatMap((l) => l.lines))];
    if (read.length) lines.push(`Labels read: ${read.slice(0, 5).map((t) => `"${t}"`).join(', ')}`);
    // Not search results: no band, and no verdict buttons (nothing was asked to judge).
    const cards = view.items.slice(0, this.results).map((item): Card => {
      const base = { itemId: item.id, entityId: entity.id, band: null, why: `a photo of ${entity.label}` };
      const actions = cardActions(base, { text: PHOTO_NOTE, typed: false }).filter((a) => a.kind === 'more');
      return { itemId: item.id, mediaKey: item.mediaKey, title: cardTitle(item), collection: collection.name, why: base.why, more: 0, actions };
    });
    return { kind: 'results', text: lines.join('\n'), cards };
  }

  private async stats(scope: ChatScope): Promise<Reply> {
    const visible = await this.visible(scope);
    const { catalog, encoder } = this.deps;
    // Only what this conversation may see: no totals across collections it was not granted.
    const lines: string[] = [];
    for (const c of visible.collections) lines.push(`• ${c.name} (${c.kind}): ${await catalog.countItems(c.id)} images`);
    if (lines.length === 0) lines.push('No collection is shared with this conversation yet.');
    lines.push(`Model: ${encoder.displayName}.`);
    return { kind: 'info', text: lines.join('\n'), cards: [] };
  }

  private failure(err: unknown, context: string): Reply {
    if (isReferentError(err)) return { kind: 'error', text: err.message, cards: [] };
    this.options.log(`unexpected error on a ${context}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return { kind: 'error', text: 'Something went wrong on my side; it has been logged. Please try again.', cards: [] };
  }
}
