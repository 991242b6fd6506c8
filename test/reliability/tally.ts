/**
 * What one part of the reliability suite did and found. The vitest tests run each part small and
 * assert an empty `failures`; `npm run reliability` runs them large and prints the sums as a table.
 * Counters are of things actually done (a kill delivered, an input rendered), never of intentions.
 */
export interface LoadFigures {
  clients: number;
  seconds: number;
  requests: number;
  errors: number;
  requestsPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Items the concurrent ingest added while the clients ran. */
  ingested: number;
}

export interface Tally {
  /** The part of the suite ("kill -9 during ingest", "Slack signatures" …). */
  name: string;
  faultsInjected: number;
  /** Faults after which every check held. */
  faultsSurvived: number;
  badInputs: number;
  leaksFound: number;
  itemsLost: number;
  load?: LoadFigures;
  /** One line per broken promise, naming the seed or input that broke it; empty when all held. */
  failures: string[];
  /** What could not be checked where it ran, and why: printed, never a failure. */
  notes?: string[];
}

export function emptyTally(name: string): Tally {
  return { name, faultsInjected: 0, faultsSurvived: 0, badInputs: 0, leaksFound: 0, itemsLost: 0, failures: [] };
}

/** Nearest-rank percentile of `values` (ms); 0 for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
