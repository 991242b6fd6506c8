/**
 * Deliveries a chat platform may repeat (Slack retries an event it thinks was not acknowledged;
 * Teams may post an activity twice after a slow answer): each key is handled the first time only.
 * Bounded: the oldest keys are forgotten first, long after any platform would retry them.
 */
export class SeenOnce {
  private readonly seen = new Set<string>();
  constructor(private readonly max = 10_000) {}

  /** True the first time a key is offered. */
  first(key: string): boolean {
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    if (this.seen.size > this.max) this.seen.delete(this.seen.values().next().value!);
    return true;
  }
}
