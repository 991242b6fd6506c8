/**
 * A bounded read-ahead queue between ingest's preprocessing and the encoder. Work starts in source
 * order, and never more than `bound` items are started and not yet taken, so memory stays bounded
 * whatever the size of the folder. `take` hands over what has finished, in source order, up to a
 * batch: it waits only while the next item in order is unfinished, never for a full batch.
 *
 * Source order keeps a run reproducible (item ids follow the folder's or manifest's order, as before
 * the pipeline). Its price is that one slow image holds back the ones after it; the others go on being
 * prepared meanwhile (within the bound), so the encoder then gets full batches at once.
 */

/** One item's outcome: what `start` gave, or why it failed. */
export type Settled<S, T> = { source: S; value: T } | { source: S; error: unknown };

export class ReadAhead<S, T> {
  private next = 0;
  /** The next item `take` hands over. */
  private head = 0;
  /** Started and not yet taken: running, or finished and waiting in `ready`. */
  private outstanding = 0;
  /** Finished items by their position in `items`. */
  private readonly ready = new Map<number, Settled<S, T>>();
  private readonly running = new Set<Promise<void>>();
  private wake: (() => void) | undefined;
  private stopped = false;
  /** The most items ever started and not yet taken at once (never above `bound`). */
  peak = 0;

  constructor(
    private readonly items: readonly S[],
    private readonly start: (item: S) => Promise<T>,
    readonly bound: number,
  ) {
    if (!Number.isInteger(bound) || bound < 1) throw new RangeError(`read-ahead bound must be a positive integer, got ${bound}`);
    this.fill();
  }

  /** Up to `max` finished items in source order, as soon as the next one has finished; [] once every item has been taken. */
  async take(max: number): Promise<Array<Settled<S, T>>> {
    while (!this.ready.has(this.head)) {
      if (this.outstanding === 0 || this.stopped) return [];
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
    const taken: Array<Settled<S, T>> = [];
    while (taken.length < Math.max(1, max) && this.ready.has(this.head)) {
      taken.push(this.ready.get(this.head)!);
      this.ready.delete(this.head++);
    }
    this.outstanding -= taken.length;
    this.fill();
    return taken;
  }

  /** Starts nothing more, and waits for the work already started (its results are dropped). */
  async close(): Promise<void> {
    this.stopped = true;
    this.ready.clear();
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  private fill(): void {
    while (!this.stopped && this.next < this.items.length && this.outstanding < this.bound) {
      const at = this.next++;
      const source = this.items[at]!;
      this.outstanding++;
      this.peak = Math.max(this.peak, this.outstanding);
      const done = Promise.resolve()
        .then(() => this.start(source))
        .then(
          (value) => this.settle(at, { source, value }),
          (error: unknown) => this.settle(at, { source, error }),
        );
      this.running.add(done);
      void done.then(() => this.running.delete(done));
    }
  }

  private settle(at: number, outcome: Settled<S, T>): void {
    if (this.stopped) return;
    this.ready.set(at, outcome);
    if (at === this.head) this.wake?.();
  }
}
