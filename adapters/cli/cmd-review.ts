/** `referent review <query> <itemId> confirm|reject [--as LABEL]` and `referent review undo <verdictId>`. */
import type { Config } from '../../src/config.js';
import { review, undoReview } from '../../src/entities/entities.js';
import { ErrorCode, ReferentError } from '../../src/errors.js';
import { openReferent } from '../../src/open.js';
import { searchItems } from '../../src/search/search.js';
import type { CliValues } from './main.js';
import { createProgressBar } from './progress-bar.js';

const usage = 'Usage: referent review "<query>" <itemId> confirm|reject [--as LABEL]\n       referent review undo <verdictId>';

const wholeNumber = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : null);

export async function runReview(args: string[], values: CliValues, loadConfig: () => Config): Promise<number> {
  const config = loadConfig();
  if (args[0] === 'undo') {
    const id = wholeNumber(args[1]);
    if (id === null || args.length !== 2) throw new ReferentError(ErrorCode.UsageInvalid, usage);
    const referent = await openReferent(config, { progress: createProgressBar() });
    try {
      const v = await undoReview(referent, id);
      process.stdout.write(`Undid verdict #${v.id} (${v.verdict} of image #${v.itemId}).\n`);
    } finally {
      await referent.shutdown();
    }
    return 0;
  }
  const [query, itemArg, verdict, ...rest] = args;
  const itemId = wholeNumber(itemArg);
  if (!query || itemId === null || (verdict !== 'confirm' && verdict !== 'reject') || rest.length > 0) throw new ReferentError(ErrorCode.UsageInvalid, usage);
  const referent = await openReferent(config, { progress: createProgressBar() });
  try {
    // An unlabelled image confirmed for a query is taken to show the entity the search attributed it to.
    let suggested: number | null = null;
    if (verdict === 'confirm' && !values.as && (await referent.catalog.getItem(itemId))?.entityId === null) {
      const hits = await searchItems(referent, { text: query, limit: 50 }, config);
      suggested = hits.find((h) => h.itemId === itemId)?.why?.entity?.id ?? null;
    }
    const result = await review(referent, { query, itemId, verdict, entityId: suggested, ...(values.as ? { entityLabel: values.as } : {}) }, config);
    const what = verdict === 'confirm' ? `confirmed as ${result.entity!.label}` : 'marked "not it"';
    process.stdout.write(`Recorded verdict #${result.verdict.id}: image #${itemId} ${what} for "${query}". Undo with \`referent review undo ${result.verdict.id}\`.\n`);
  } finally {
    await referent.shutdown();
  }
  return 0;
}
