/**
 * Who may see and do what in chat. A message reaches only the collections granted to its scope
 * (its workspace/team as a whole, or its channel), and a person collection only once an admin has
 * enabled it. The local web chat is the operator's own console: it sees the collections the
 * configuration names (all by default) instead of grants.
 */
import type { Catalog, Collection } from '../catalog/catalog.js';
import type { ChatConfig } from '../config.js';
import { type ChatScope, type ChatUser, userKey } from './message.js';

export interface AccessPolicy {
  /** User keys ("slack:U123", "web:local") allowed to forget entities. */
  admins: ReadonlySet<string>;
  /** Collections the web chat sees: every one ('*') or these names. */
  webCollections: '*' | readonly string[];
}

export interface Visible {
  /** Collections this scope may search and act on. */
  collections: Collection[];
  ids: ReadonlySet<number>;
  byId: ReadonlyMap<number, Collection>;
  /** Person collections granted here but not enabled by an admin (so the reply can say why). */
  personOff: Collection[];
  /** May this scope start a collection with `add` (the web chat when it sees every collection)? */
  mayCreate: boolean;
}

export function accessPolicy(chat: Pick<ChatConfig, 'admins' | 'webCollections'>): AccessPolicy {
  return { admins: new Set(chat.admins), webCollections: chat.webCollections };
}

export function isAdmin(policy: AccessPolicy, user: ChatUser): boolean {
  return policy.admins.has(userKey(user));
}

export async function visibleCollections(catalog: Catalog, policy: AccessPolicy, scope: ChatScope): Promise<Visible> {
  const all = await catalog.listCollections();
  let reachable: Collection[];
  if (scope.platform === 'web') {
    const names = policy.webCollections;
    reachable = names === '*' ? all : all.filter((c) => names.includes(c.name));
  } else {
    const granted = new Set(await catalog.grantedCollectionIds(scope));
    reachable = all.filter((c) => granted.has(c.id));
  }
  const collections = reachable.filter((c) => c.enabled);
  return {
    collections,
    ids: new Set(collections.map((c) => c.id)),
    byId: new Map(collections.map((c) => [c.id, c])),
    personOff: reachable.filter((c) => !c.enabled && c.kind === 'person'),
    mayCreate: scope.platform === 'web' && policy.webCollections === '*',
  };
}
