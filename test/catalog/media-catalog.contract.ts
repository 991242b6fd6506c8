/**
 * What every MediaCatalog promises (src/catalog/catalog.ts): which media files live items use, the
 * queue of files forgetting left to delete, and the platforms' own copies of images. Run on every
 * engine by media-catalog.int.test.ts.
 */
import { expect, it } from 'vitest';
import type { Item, NewItem } from '../../src/catalog/catalog.js';
import type { CatalogFixture } from './catalog-engines.js';
import { MODEL, newItem, vector } from './contract-support.js';

export function mediaCatalogContract(fixture: () => CatalogFixture): void {
  const store = () => fixture().catalog;
  const collection = async (name: string) => (await store().ensureCollection(name, 'part')).id;
  const add = async (collectionId: number, extra: Partial<NewItem>): Promise<Item> => {
    await store().setModel(MODEL);
    return store().addItem(newItem(collectionId, extra), vector());
  };
  const slack = (mediaKey: string, workspace = 'T1') => ({ platform: 'slack', workspace, mediaKey });

  it('says which media keys live items use, and in which collections', async () => {
    const parts = await collection('parts');
    const spares = await collection('spares');
    const a = await add(parts, { mediaKey: 'media/a.jpg' });
    await add(spares, { hash: a.hash, mediaKey: 'media/a.jpg' });
    const b = await add(parts, { mediaKey: 'media/b.jpg' });
    expect(await store().isMediaLive('media/a.jpg')).toBe(true);
    expect((await store().mediaCollections('media/a.jpg')).sort((x, y) => x - y)).toEqual([parts, spares].sort((x, y) => x - y));
    expect(await store().mediaCollections('media/b.jpg')).toEqual([parts]);
    expect(await store().isMediaLive('media/unknown.jpg')).toBe(false);
    expect(await store().mediaCollections('media/unknown.jpg')).toEqual([]);

    await store().removeItem(b.id);
    expect(await store().isMediaLive('media/b.jpg')).toBe(false);
    expect(await store().mediaCollections('media/b.jpg')).toEqual([]);
    await store().removeItem(a.id);
    expect(await store().isMediaLive('media/a.jpg')).toBe(true);
    expect(await store().mediaCollections('media/a.jpg')).toEqual([spares]);
    // Removing is not forgetting: nothing is queued for deletion.
    expect(await store().mediaTrash(10)).toEqual([]);
  });

  it('queues the files forgetting left, oldest first, until they are deleted', async () => {
    const parts = await collection('parts');
    const first = await add(parts, { entityLabel: 'P-1', mediaKey: 'media/1-a.jpg' });
    await add(parts, { entityLabel: 'P-1', mediaKey: 'media/1-b.jpg' });
    const second = await add(parts, { entityLabel: 'P-2', mediaKey: 'media/2-a.jpg' });
    await add(parts, { mediaKey: 'media/kept.jpg' });
    expect(await store().mediaTrash(10)).toEqual([]);

    expect((await store().forgetEntity(first.entityId!)).orphanedMedia.sort()).toEqual(['media/1-a.jpg', 'media/1-b.jpg']);
    expect((await store().forgetEntity(second.entityId!)).orphanedMedia).toEqual(['media/2-a.jpg']);
    // Keys of one forget may come in any order; the later forget's come after.
    const queued = await store().mediaTrash(10);
    expect(queued.slice(0, 2).sort()).toEqual(['media/1-a.jpg', 'media/1-b.jpg']);
    expect(queued[2]).toBe('media/2-a.jpg');
    expect(queued).toHaveLength(3);
    expect(await store().mediaTrash(2)).toHaveLength(2);
    // Asking again changes nothing: only deleted files leave.
    expect(await store().mediaTrash(10)).toEqual(queued);
    expect(await (await fixture().another()).mediaTrash(10)).toEqual(queued);

    await store().mediaTrashed([queued[0]!, 'media/never-queued.jpg']);
    expect(await store().mediaTrash(10)).toEqual(queued.slice(1));
    await store().mediaTrashed([]);
    await store().mediaTrashed(queued.slice(1));
    expect(await store().mediaTrash(10)).toEqual([]);
    expect(await store().isMediaLive('media/kept.jpg')).toBe(true);
  });

  it('drops a queued key that a live item uses again (the same photo added back)', async () => {
    const parts = await collection('parts');
    const spares = await collection('spares');
    const gone = await add(parts, { entityLabel: 'P-1', mediaKey: 'media/back.jpg' });
    await add(parts, { entityLabel: 'P-1', mediaKey: 'media/other.jpg' });
    await store().forgetEntity(gone.entityId!);
    expect((await store().mediaTrash(10)).sort()).toEqual(['media/back.jpg', 'media/other.jpg']);

    const back = await add(spares, { hash: gone.hash, mediaKey: 'media/back.jpg' });
    expect(await store().isMediaLive('media/back.jpg')).toBe(true);
    expect(await store().mediaTrash(10)).toEqual(['media/other.jpg']);
    // It left the queue: removing the photo again later does not put it back.
    await store().removeItem(back.id);
    expect(await store().mediaTrash(10)).toEqual(['media/other.jpg']);
  });

  it('remembers the platforms’ own files per workspace, replaces them, and forgetting the last item drops them', async () => {
    const parts = await collection('parts');
    const spares = await collection('spares');
    const a = await add(parts, { entityLabel: 'P-1', mediaKey: 'media/a.jpg' });
    const shared = await add(parts, { entityLabel: 'P-1', mediaKey: 'media/shared.jpg' });
    await add(spares, { hash: shared.hash, mediaKey: 'media/shared.jpg' });
    expect(await store().platformFile(slack('media/a.jpg'))).toBeNull();

    await store().setPlatformFile(slack('media/a.jpg'), 'F1');
    await store().setPlatformFile(slack('media/a.jpg', 'T2'), 'F2');
    await store().setPlatformFile({ platform: 'teams', workspace: 'T1', mediaKey: 'media/a.jpg' }, 'teams-1');
    await store().setPlatformFile(slack('media/shared.jpg'), 'F3');
    expect(await store().platformFile(slack('media/a.jpg'))).toBe('F1');
    expect(await store().platformFile(slack('media/a.jpg', 'T2'))).toBe('F2');
    expect(await store().platformFile({ platform: 'teams', workspace: 'T1', mediaKey: 'media/a.jpg' })).toBe('teams-1');
    expect(await store().platformFile(slack('media/a.jpg', 'T3'))).toBeNull();
    await store().setPlatformFile(slack('media/a.jpg'), 'F1-again');
    expect(await store().platformFile(slack('media/a.jpg'))).toBe('F1-again');
    const other = await fixture().another();
    expect(await other.platformFile(slack('media/a.jpg'))).toBe('F1-again');

    await store().forgetEntity(a.entityId!);
    for (const ref of [slack('media/a.jpg'), slack('media/a.jpg', 'T2'), { platform: 'teams', workspace: 'T1', mediaKey: 'media/a.jpg' }]) {
      expect(await store().platformFile(ref)).toBeNull();
      expect(await other.platformFile(ref)).toBeNull();
    }
    // Still used by a live item in another collection: the copy stays.
    expect(await store().platformFile(slack('media/shared.jpg'))).toBe('F3');
  });

  it('checkpoints after a forget without losing anything committed', async () => {
    const parts = await collection('parts');
    const gone = await add(parts, { entityLabel: 'P-1', mediaKey: 'media/gone.jpg' });
    const kept = await add(parts, { mediaKey: 'media/kept.jpg' });
    await store().forgetEntity(gone.entityId!);
    await store().checkpoint();
    await store().checkpoint();
    const other = await fixture().another();
    expect(await other.getItem(kept.id)).toEqual(kept);
    expect(await other.getItem(gone.id)).toBeNull();
    expect(await other.mediaTrash(10)).toEqual(['media/gone.jpg']);
  });
}
