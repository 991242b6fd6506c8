import { describe, expect, it } from 'vitest';
import { ReadAhead } from '../../src/ingest/read-ahead.js';

/** Work whose completion the test controls: start(i) runs until finish(i). */
function controlledWork() {
  const finishers = new Map<number, { resolve: (v: string) => void; reject: (e: unknown) => void }>();
  const started: number[] = [];
  return {
    started,
    start: (i: number) =>
      new Promise<string>((resolve, reject) => {
        started.push(i);
        finishers.set(i, { resolve, reject });
      }),
    finish: (i: number) => finishers.get(i)!.resolve(`done ${i}`),
    fail: (i: number) => finishers.get(i)!.reject(new Error(`bad ${i}`)),
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ReadAhead', () => {
  it('starts no more than the bound ahead of what was taken, and starts more as items are taken', async () => {
    const work = controlledWork();
    const queue = new ReadAhead([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], work.start, 3);
    await tick();
    expect(work.started).toEqual([0, 1, 2]);
    work.finish(0);
    work.finish(1);
    await tick();
    expect(work.started).toEqual([0, 1, 2]); // finished but not taken: they still hold their places
    expect(await queue.take(1)).toEqual([{ source: 0, value: 'done 0' }]);
    await tick();
    expect(work.started).toEqual([0, 1, 2, 3]);
    expect(queue.peak).toBe(3);
    for (const i of [2, 3]) work.finish(i);
    await queue.close();
  });

  it('hands over what is ready in source order, without waiting for a full batch', async () => {
    const work = controlledWork();
    const queue = new ReadAhead([0, 1, 2, 3], work.start, 4);
    await tick();
    let taken: unknown;
    const taking = queue.take(3).then((t) => (taken = t));
    work.finish(2);
    await tick();
    expect(taken).toBeUndefined(); // 2 is ready, but 0 comes first
    work.fail(0);
    await taking;
    expect(taken).toEqual([{ source: 0, error: new Error('bad 0') }]); // 1 is not ready: no waiting for it
    work.finish(3);
    work.finish(1);
    await tick();
    expect((await queue.take(2)).map((s) => s.source)).toEqual([1, 2]);
    expect(await queue.take(2)).toEqual([{ source: 3, value: 'done 3' }]);
    expect(await queue.take(2)).toEqual([]);
  });

  it('passes a list far larger than the bound through, each item once', async () => {
    const items = Array.from({ length: 500 }, (_, i) => i);
    // Each start notes how many takes had begun; a start during take k comes after take k's batch left.
    let takes = 0;
    const startedDuring: number[] = [];
    const queue = new ReadAhead(
      items,
      async (i) => {
        startedDuring.push(takes);
        await tick();
        return i * 2;
      },
      7,
    );
    const takenAfter = [0];
    const seen: number[] = [];
    for (;;) {
      takes++;
      const batch = await queue.take(5);
      if (batch.length === 0) break;
      expect(batch.length).toBeLessThanOrEqual(5);
      expect(batch.map((s) => s.source)).toEqual(batch.map((_, i) => seen.length + i)); // source order
      takenAfter.push(takenAfter.at(-1)! + batch.length);
      for (const s of batch) {
        expect('value' in s && s.value).toBe(s.source * 2);
        seen.push(s.source);
      }
    }
    expect(seen).toEqual(items);
    const ahead = startedDuring.map((take, j) => j + 1 - takenAfter[Math.min(take, takenAfter.length - 1)]!);
    expect(Math.max(...ahead)).toBe(7);
    expect(queue.peak).toBe(7);
  });

  it('turns a start that throws at once into that item\'s failure', async () => {
    const queue = new ReadAhead(['ok', 'bad'], (s) => (s === 'bad' ? (() => { throw new Error('no'); })() : Promise.resolve(s)), 2);
    const all = [...(await queue.take(2)), ...(await queue.take(2))];
    expect(all.find((s) => s.source === 'bad')).toMatchObject({ error: new Error('no') });
    expect(all.find((s) => s.source === 'ok')).toEqual({ source: 'ok', value: 'ok' });
  });

  it('closes by waiting for the work already started and starting nothing more', async () => {
    const work = controlledWork();
    const queue = new ReadAhead([0, 1, 2, 3], work.start, 2);
    await tick();
    let closed = false;
    const closing = queue.close().then(() => (closed = true));
    await tick();
    expect(closed).toBe(false);
    work.finish(0);
    work.finish(1);
    await closing;
    expect(work.started).toEqual([0, 1]);
    expect(await queue.take(2)).toEqual([]);
  });
});
