/**
 * `referent collections | grant | revoke | enable | disable | audit`: who may search what from chat.
 * These touch only the catalogue (no model is loaded).
 */
import type { Catalog, CollectionKind, Grant } from '../../src/catalog/catalog.js';
import type { Config } from '../../src/config.js';
import { ErrorCode, ReferentError } from '../../src/errors.js';
import { openStores } from '../../src/open.js';
import type { CliValues } from './main.js';

async function withCatalog<T>(config: Config, fn: (catalog: Catalog) => Promise<T>): Promise<T> {
  const stores = await openStores(config);
  try {
    return await fn(stores.catalog);
  } finally {
    await stores.close();
  }
}

const KINDS = ['part', 'person', 'other'] as const;

async function collectionNamed(catalog: Catalog, name: string | undefined) {
  if (!name) throw new ReferentError(ErrorCode.UsageInvalid, 'Name a collection (see `referent collections`).');
  const c = await catalog.findCollection(name);
  if (!c) throw new ReferentError(ErrorCode.NotFound, `There is no collection named "${name}" (see \`referent collections\`).`);
  return c;
}

/** "slack:T0123" (a whole workspace) or "slack:T0123/C0456" (one channel); "web:local" is the web chat. */
export function parseScope(text: string | undefined): Omit<Grant, 'collectionId'> {
  const m = /^([a-z]+):([^/\s]+)(?:\/([^/\s]+))?$/.exec(text ?? '');
  if (!m) throw new ReferentError(ErrorCode.UsageInvalid, `A scope looks like slack:T0123 (a whole workspace) or slack:T0123/C0456 (one channel)${text ? `, not "${text}"` : ''}.`);
  return { platform: m[1]!, workspace: m[2]!, ...(m[3] ? { channel: m[3] } : {}) };
}

const scopeText = (g: Omit<Grant, 'collectionId'>) => `${g.platform}:${g.workspace}${g.channel ? `/${g.channel}` : ''}`;

export async function runCollections(args: string[], values: CliValues, loadConfig: () => Config): Promise<number> {
  const [sub, name, ...rest] = args;
  return withCatalog(loadConfig(), async (catalog) => {
    if (sub === 'create') {
      const kind = (values.kind ?? 'other') as CollectionKind;
      if (!name || rest.length > 0 || !KINDS.includes(kind)) throw new ReferentError(ErrorCode.UsageInvalid, 'Usage: referent collections create <name> [--kind part|person|other]');
      if (await catalog.findCollection(name)) throw new ReferentError(ErrorCode.Conflict, `The collection "${name}" already exists.`);
      const c = await catalog.ensureCollection(name, kind);
      process.stdout.write(`Created ${c.name} (${c.kind})${c.enabled ? '' : ': person search is off until `referent enable ' + c.name + '`'}.\n`);
      return 0;
    }
    if (sub !== undefined) throw new ReferentError(ErrorCode.UsageInvalid, 'Usage: referent collections [create <name> --kind part|person|other]');
    const rows = await Promise.all((await catalog.listCollections()).map(async (c) => ({
      name: c.name,
      kind: c.kind,
      enabled: c.enabled,
      items: await catalog.countItems(c.id),
      grants: (await catalog.listGrants(c.id)).map(scopeText),
    })));
    if (values.json) process.stdout.write(`${JSON.stringify({ collections: rows }, null, 2)}\n`);
    else if (rows.length === 0) process.stdout.write('No collections yet: `referent ingest` creates them.\n');
    else for (const r of rows) process.stdout.write(`${r.name} (${r.kind}${r.enabled ? '' : ', off'}): ${r.items} images; granted to ${r.grants.join(', ') || 'no chat scope yet'}\n`);
    return 0;
  });
}

export async function runGrant(args: string[], _values: CliValues, loadConfig: () => Config, revoke = false): Promise<number> {
  const [name, scope, ...rest] = args;
  const verb = revoke ? 'revoke' : 'grant';
  if (!name || !scope || rest.length > 0) throw new ReferentError(ErrorCode.UsageInvalid, `Usage: referent ${verb} <collection> <platform>:<workspace>[/<channel>]`);
  return withCatalog(loadConfig(), async (catalog) => {
    const grant = { collectionId: (await collectionNamed(catalog, name)).id, ...parseScope(scope) };
    const changed = revoke ? await catalog.revoke(grant) : await catalog.grant(grant);
    const what = `${name} ${revoke ? 'from' : 'to'} ${scopeText(grant)}`;
    process.stdout.write(changed ? `${revoke ? 'Revoked' : 'Granted'} ${what}.\n` : `Nothing to do: ${what} was ${revoke ? 'not granted' : 'already granted'}.\n`);
    return 0;
  });
}

export const runRevoke = (args: string[], values: CliValues, loadConfig: () => Config) => runGrant(args, values, loadConfig, true);

export async function runEnable(args: string[], _values: CliValues, loadConfig: () => Config, enabled = true): Promise<number> {
  const [name, ...rest] = args;
  if (!name || rest.length > 0) throw new ReferentError(ErrorCode.UsageInvalid, `Usage: referent ${enabled ? 'enable' : 'disable'} <collection>`);
  return withCatalog(loadConfig(), async (catalog) => {
    const c = await collectionNamed(catalog, name);
    await catalog.setCollectionEnabled(c.id, enabled);
    const note = enabled && c.kind === 'person' ? ' Person search is on here; every query is written to the audit log (`referent audit`).' : '';
    process.stdout.write(`${enabled ? 'Enabled' : 'Disabled'} ${c.name}.${note}\n`);
    return 0;
  });
}

export const runDisable = (args: string[], values: CliValues, loadConfig: () => Config) => runEnable(args, values, loadConfig, false);

export async function runAudit(args: string[], values: CliValues, loadConfig: () => Config): Promise<number> {
  if (args.length > 0) throw new ReferentError(ErrorCode.UsageInvalid, 'Usage: referent audit [--limit N] [--json]');
  const limit = Number(values.limit ?? 50);
  if (!Number.isInteger(limit) || limit < 1) throw new ReferentError(ErrorCode.UsageInvalid, '--limit must be a whole number ≥ 1.');
  return withCatalog(loadConfig(), async (catalog) => {
    const names = new Map((await catalog.listCollections()).map((c) => [c.id, c.name]));
    const entries = await catalog.listAudit(limit);
    if (values.json) process.stdout.write(`${JSON.stringify({ audit: entries }, null, 2)}\n`);
    else if (entries.length === 0) process.stdout.write('The audit log is empty: nobody has searched a person collection.\n');
    else for (const e of entries) process.stdout.write(`${new Date(e.at).toISOString()}  ${e.user}  ${e.scope}  ${names.get(e.collectionId ?? -1) ?? '?'}  ${JSON.stringify(e.query)}\n`);
    return 0;
  });
}
