/**
 * What every AccessCatalog promises (src/catalog/catalog.ts): collections and their person-search
 * switch, grants to chat scopes, and the audit log. Run on every engine by access-catalog.int.test.ts.
 */
import { expect, it } from 'vitest';
import type { CatalogFixture } from './catalog-engines.js';
import { ErrorCode } from '../../src/errors.js';

export function accessCatalogContract(fixture: () => CatalogFixture): void {
  const store = () => fixture().catalog;

  it('creates person collections disabled and other kinds enabled, and keeps an existing kind', async () => {
    const cams = await store().ensureCollection('cams', 'person');
    expect(cams).toEqual({ id: expect.any(Number), name: 'cams', kind: 'person', enabled: false });
    expect(await store().ensureCollection('parts', 'part')).toMatchObject({ kind: 'part', enabled: true });
    expect(await store().ensureCollection('misc')).toMatchObject({ kind: 'other', enabled: true });
    const again = await store().ensureCollection('parts', 'other');
    expect(again.kind).toBe('part');
    expect(again.id).toBe((await store().findCollection('parts'))!.id);
    const ids = [cams.id, again.id, (await store().findCollection('misc'))!.id];
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(Number.isInteger(id) && id > 0).toBe(true);
  });

  it('finds collections by exact name and lists them in byte order', async () => {
    for (const n of ['b', 'a', 'B', 'a b', 'é']) await store().ensureCollection(n);
    expect(await store().findCollection('A')).toBeNull();
    expect((await store().findCollection('a b'))?.name).toBe('a b');
    expect((await store().listCollections()).map((c) => c.name)).toEqual(['B', 'a', 'a b', 'b', 'é']);
  });

  it('refuses empty, over-long and control-character names with USAGE_INVALID', async () => {
    for (const bad of ['', '   ', 'x'.repeat(201), 'a\nb', 'tab\there']) {
      await expect(store().ensureCollection(bad)).rejects.toMatchObject({ code: ErrorCode.UsageInvalid });
    }
    expect(await store().listCollections()).toEqual([]);
    expect((await store().ensureCollection('x'.repeat(200))).name).toHaveLength(200);
  });

  it('switches a collection on and off, and says false for an unknown one', async () => {
    const cams = await store().ensureCollection('cams', 'person');
    expect(await store().setCollectionEnabled(cams.id, true)).toBe(true);
    expect((await store().findCollection('cams'))?.enabled).toBe(true);
    expect(await store().setCollectionEnabled(cams.id, false)).toBe(true);
    expect((await store().listCollections())[0]?.enabled).toBe(false);
    expect(await store().setCollectionEnabled(cams.id + 1000, true)).toBe(false);
  });

  it('grants once (idempotent), lists grants in order, and revokes', async () => {
    const parts = await store().ensureCollection('parts', 'part');
    const cams = await store().ensureCollection('cams', 'person');
    expect(await store().grant({ collectionId: parts.id, platform: 'slack', workspace: 'T1' })).toBe(true);
    expect(await store().grant({ collectionId: parts.id, platform: 'slack', workspace: 'T1' })).toBe(false);
    expect(await store().grant({ collectionId: parts.id, platform: 'slack', workspace: 'T1', channel: 'C9' })).toBe(true);
    expect(await store().grant({ collectionId: cams.id, platform: 'teams', workspace: 'tenant', channel: 'ch' })).toBe(true);
    expect(await store().grant({ collectionId: parts.id, platform: 'slack', workspace: 'T0', channel: 'C1' })).toBe(true);

    expect(await store().listGrants(parts.id)).toEqual([
      { collectionId: parts.id, platform: 'slack', workspace: 'T0', channel: 'C1' },
      { collectionId: parts.id, platform: 'slack', workspace: 'T1' },
      { collectionId: parts.id, platform: 'slack', workspace: 'T1', channel: 'C9' },
    ]);
    const all = await store().listGrants();
    expect(all).toHaveLength(4);
    expect(all.map((g) => g.collectionId)).toEqual([...all.map((g) => g.collectionId)].sort((a, b) => a - b));
    expect(await store().listGrants(cams.id + parts.id + 1000)).toEqual([]);

    // The workspace grant and the channel grant are separate: revoking one leaves the other.
    expect(await store().revoke({ collectionId: parts.id, platform: 'slack', workspace: 'T1' })).toBe(true);
    expect(await store().revoke({ collectionId: parts.id, platform: 'slack', workspace: 'T1' })).toBe(false);
    expect(await store().listGrants(parts.id)).toEqual([
      { collectionId: parts.id, platform: 'slack', workspace: 'T0', channel: 'C1' },
      { collectionId: parts.id, platform: 'slack', workspace: 'T1', channel: 'C9' },
    ]);
    expect(await store().revoke({ collectionId: cams.id, platform: 'teams', workspace: 'other', channel: 'ch' })).toBe(false);
  });

  it('refuses a grant of an unknown collection with NOT_FOUND, and stores nothing', async () => {
    await expect(store().grant({ collectionId: 424242, platform: 'slack', workspace: 'T1' })).rejects.toMatchObject({ code: ErrorCode.NotFound });
    await expect(store().grant({ collectionId: 424242, platform: 'slack', workspace: 'T1', channel: 'C1' })).rejects.toMatchObject({ code: ErrorCode.NotFound });
    expect(await store().listGrants()).toEqual([]);
    expect(await store().grantedCollectionIds({ platform: 'slack', workspace: 'T1', channel: 'C1' })).toEqual([]);
  });

  it('resolves a chat scope to workspace grants plus its own channel grants, each once, ascending', async () => {
    const a = await store().ensureCollection('a');
    const b = await store().ensureCollection('b');
    const c = await store().ensureCollection('c', 'person');
    // Granted in an order that is neither the ids' nor the names'.
    await store().grant({ collectionId: c.id, platform: 'slack', workspace: 'T1', channel: 'C1' });
    await store().grant({ collectionId: b.id, platform: 'slack', workspace: 'T1', channel: 'C2' });
    await store().grant({ collectionId: a.id, platform: 'slack', workspace: 'T1' });
    await store().grant({ collectionId: a.id, platform: 'slack', workspace: 'T1', channel: 'C1' });
    await store().grant({ collectionId: b.id, platform: 'teams', workspace: 'T1' });

    expect(await store().grantedCollectionIds({ platform: 'slack', workspace: 'T1', channel: 'C1' })).toEqual([a.id, c.id]);
    expect(await store().grantedCollectionIds({ platform: 'slack', workspace: 'T1', channel: 'C2' })).toEqual([a.id, b.id]);
    expect(await store().grantedCollectionIds({ platform: 'slack', workspace: 'T1', channel: 'C3' })).toEqual([a.id]);
    expect(await store().grantedCollectionIds({ platform: 'teams', workspace: 'T1', channel: 'C1' })).toEqual([b.id]);
    expect(await store().grantedCollectionIds({ platform: 'slack', workspace: 'T2', channel: 'C1' })).toEqual([]);
    // A channel literally named "*" is not the workspace as a whole.
    expect(await store().grantedCollectionIds({ platform: 'slack', workspace: 'T9', channel: '*' })).toEqual([]);
    // Disabled collections are granted all the same: the caller filters on `enabled`.
    expect((await store().findCollection('c'))?.enabled).toBe(false);
  });

  it('keeps the audit log newest first, with the time given or now, up to the limit', async () => {
    const cams = await store().ensureCollection('cams', 'person');
    const before = Date.now();
    await store().addAudit({ user: 'slack:T1:U1', platform: 'slack', scope: 'slack:T1/C1', collectionId: cams.id, query: 'first', at: 1_700_000_000_123 });
    await store().addAudit({ user: 'slack:T1:U2', platform: 'slack', scope: 'slack:T1/C1', collectionId: null, query: 'second', at: 1_600_000_000_000 });
    await store().addAudit({ user: 'web:local:u', platform: 'web', scope: 'web:local', collectionId: cams.id, query: 'third' });
    const after = Date.now();

    const all = await store().listAudit(10);
    // Newest means last added, whatever `at` says.
    expect(all.map((e) => e.query)).toEqual(['third', 'second', 'first']);
    expect(all[2]).toEqual({ id: all[2]!.id, user: 'slack:T1:U1', platform: 'slack', scope: 'slack:T1/C1', collectionId: cams.id, query: 'first', at: 1_700_000_000_123 });
    expect(all[1]).toMatchObject({ collectionId: null, at: 1_600_000_000_000 });
    expect(all[0]!.at).toBeGreaterThanOrEqual(before);
    expect(all[0]!.at).toBeLessThanOrEqual(after);
    expect(all[0]!.id).toBeGreaterThan(all[1]!.id);
    expect(all[1]!.id).toBeGreaterThan(all[2]!.id);

    expect((await store().listAudit(2)).map((e) => e.query)).toEqual(['third', 'second']);
    expect(await store().listAudit(0)).toEqual([]);
  });

  it('shows another process what one committed: collections, switches, grants and audit', async () => {
    const other = await fixture().another();
    const parts = await store().ensureCollection('parts', 'person');
    expect(await other.findCollection('parts')).toEqual(parts);
    // The same name from the other process is the same collection.
    expect(await other.ensureCollection('parts', 'part')).toEqual(parts);
    expect(await other.setCollectionEnabled(parts.id, true)).toBe(true);
    expect((await store().findCollection('parts'))?.enabled).toBe(true);
    expect(await store().grant({ collectionId: parts.id, platform: 'slack', workspace: 'T1' })).toBe(true);
    expect(await other.grant({ collectionId: parts.id, platform: 'slack', workspace: 'T1' })).toBe(false);
    expect(await other.grantedCollectionIds({ platform: 'slack', workspace: 'T1', channel: 'C1' })).toEqual([parts.id]);
    await other.addAudit({ user: 'u', platform: 'slack', scope: 's', collectionId: parts.id, query: 'from the other' });
    expect((await store().listAudit(1)).map((e) => e.query)).toEqual(['from the other']);
    expect(await other.revoke({ collectionId: parts.id, platform: 'slack', workspace: 'T1' })).toBe(true);
    expect(await store().listGrants()).toEqual([]);
  });
}
