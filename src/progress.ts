/**
 * Progress reporting for long work. The core reports; a front end (CLI bar, chat message) renders.
 * `total` may be unknown (undefined) until the work has been sized.
 */
export interface Progress {
  start(label: string, total?: number, unit?: string): void;
  /** Advance by `delta` units (items, bytes). */
  tick(delta?: number): void;
  /** Set the absolute position, for work that knows where it is (bytes downloaded). */
  update?(value: number): void;
  stop(): void;
}

export const silentProgress: Progress = {
  start() {},
  tick() {},
  update() {},
  stop() {},
};
