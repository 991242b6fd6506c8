/**
 * A full disk: the worker (fault-worker.ts with FAULT_DISK_BYTES) runs its writes until the disk
 * "fills" part-way: every later file write fails with ENOSPC and the catalogue cannot grow
 * (SQLITE_FULL). Each refused operation must say the disk is full (DISK_FULL, never an unexpected
 * error), everything acknowledged before must still be there and agree, and once space is back
 * the same folder takes writes again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { openReferent } from '../../src/open.js';
import { mulberry32 } from '../../src/random.js';
import { tempDir, testConfig } from '../support/fixtures.js';
import { checkAgreement, Ledger, runWorker } from './faults.js';
import { emptyTally, type Tally } from './tally.js';

export interface DiskFullOptions {
  seed: number;
  /** Runs that hit a full disk, each at a different point. */
  runs: number;
  progress?: (line: string) => void;
}

const clear = (refusal: { code?: string; message?: string }) => refusal.code === 'DISK_FULL' || /disk is full/i.test(refusal.message ?? '');

export async function runDiskFull(options: DiskFullOptions): Promise<Tally> {
  const tally = emptyTally('full disk (ENOSPC, SQLITE_FULL) during writes');
  const random = mulberry32(options.seed);
  const dir = tempDir('referent-disk-full-');
  const dataDir = path.join(dir, 'data');
  const ledger = new Ledger();
  const verify = async (label: string): Promise<string[]> => {
    const referent = await openReferent(testConfig(dataDir));
    try {
      const outcome = await checkAgreement(referent, dataDir, ledger);
      tally.itemsLost += outcome.lost;
      return outcome.failures.map((f) => `${label}: ${f}`);
    } finally {
      await referent.shutdown();
    }
  };
  try {
    for (let run = 1; run <= options.runs; run++) {
      const seed = options.seed * 1000 + run;
      // Room for a few photos at most, so the disk fills during the run's first operations.
      const room = Math.floor(random() * 8_000);
      const result = await runWorker(dataDir, seed, `d${run}`, 6, null, { FAULT_DISK_BYTES: String(room) });
      ledger.add(result.acks);
      const refusals = result.acks.filter((a) => a.op === 'refused') as Array<{ kind?: string; code?: string; message?: string }>;
      const failures: string[] = [];
      if (result.code !== 0) failures.push(`the worker died (exit ${result.code}): ${result.stderr.trim().split('\n').filter((l) => l.trim() && !l.startsWith('Node.js')).slice(-8).join(' | ')}`);
      for (const r of refusals) if (!clear(r)) failures.push(`${r.kind} was refused without saying the disk is full: ${r.code} ${r.message}`);
      if (refusals.length > 0) tally.faultsInjected++;
      failures.push(...(await verify(`run ${run} (seed ${seed}, ${room} bytes free)`)));
      if (refusals.length > 0 && failures.length === 0) tally.faultsSurvived++;
      tally.failures.push(...failures);
      options.progress?.(`disk full run ${run}: ${refusals.length} operation(s) refused (${[...new Set(refusals.map((r) => r.kind))].join(', ') || 'none'}), ${failures.length ? `${failures.length} problem(s)` : 'all held'}`);
    }
    // Space is back: the same folder takes writes again.
    const after = await runWorker(dataDir, options.seed * 1000, 'd0', 4, null);
    ledger.add(after.acks);
    if (after.code !== 0 || !after.acks.some((a) => a.op === 'done')) tally.failures.push(`with space back, the folder did not take writes (exit ${after.code}): ${after.stderr.slice(-300)}`);
    tally.failures.push(...(await verify('with space back')));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return tally;
}
