/**
 * Hostile requests at every inbound HTTP edge (web chat, media routes, Slack events, Teams
 * messages), sent over real HTTP on 127.0.0.1 to the real server on a real data folder. Each group
 * gives one Tally: `badInputs` counts requests actually sent and checked, `failures` one line per
 * broken promise. Inputs come from fast-check with the given seed, so a seed replays a run.
 */
import { hostileActions } from './hostile-actions.js';
import { hostileBodies } from './hostile-bodies.js';
import { hostileMedia } from './hostile-media.js';
import { hostileSlackSignatures } from './hostile-slack-auth.js';
import { hostileTeamsAuth } from './hostile-teams-auth.js';
import { hostileUploads } from './hostile-uploads.js';
import type { Tally } from './tally.js';
import { clip, healthy, type HostileWorld, startHostileWorld } from './hostile-world.js';

type Group = (world: HostileWorld, seed: number, runs: number) => Promise<Tally>;

const GROUPS: readonly Group[] = [hostileUploads, hostileBodies, hostileActions, hostileSlackSignatures, hostileTeamsAuth, hostileMedia];

/** Log lines that mean something escaped the typed-error path. */
const UNEXPECTED = /unexpected|not acknowledged|TypeError|ReferenceError|RangeError|\n\s+at /;

/**
 * Runs every group against one freshly built world, then removes it. Deterministic for a seed:
 * `runs` sets how many generated inputs each group adds to its fixed cases.
 */
export async function runHostileRequests(options: { seed: number; runs: number }): Promise<Tally[]> {
  const { seed, runs } = options;
  const world = await startHostileWorld(seed);
  const tallies: Tally[] = [];
  try {
    for (const [i, group] of GROUPS.entries()) {
      const logStart = world.logged.length;
      // Each group draws from its own seed, so adding a group never changes another's inputs.
      const tally = await group(world, seed + i, runs);
      for (const line of world.logged.slice(logStart)) {
        if (UNEXPECTED.test(line)) tally.failures.push(`seed ${seed}: logged during the group: ${clip(line, 300)}`);
      }
      if (!(await healthy(world))) tally.failures.push(`seed ${seed}: the server stopped answering /api/health after the group`);
      tallies.push(tally);
    }
  } finally {
    await world.stop();
  }
  return tallies;
}
