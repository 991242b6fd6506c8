/**
 * `referent migrate --to postgres://…`: moves the data folder's catalogue into PostgreSQL
 * (src/catalog/postgres/pg-import.ts), with a progress bar, a table of what was verified, and what
 * to do next. Exit status: 0 copied and verified, 1 verified with differences, 2 usage, 130 interrupted.
 */
import type { Config } from '../../src/config.js';
import { ErrorCode, ReferentError } from '../../src/errors.js';
import { importSqlite, type ImportReport } from '../../src/catalog/postgres/pg-import.js';
import { dataPaths } from '../../src/open.js';
import type { CliValues } from './main.js';
import { createProgressBar } from './progress-bar.js';

const USAGE = 'Usage: referent migrate --to postgres://user:password@host:5432/database [--schema NAME] [--batch N]';

export async function runMigrate(args: string[], values: CliValues, loadConfig: () => Config): Promise<number> {
  if (args.length > 0 || !values.to) throw new ReferentError(ErrorCode.UsageInvalid, USAGE);
  const batchSize = values.batch === undefined ? undefined : Number(values.batch);
  if (batchSize !== undefined && !(Number.isSafeInteger(batchSize) && batchSize > 0)) throw new ReferentError(ErrorCode.UsageInvalid, `--batch takes a number of rows, 1 or more. ${USAGE}`);
  const config = loadConfig();
  const schema = values.schema ?? config.database?.schema ?? 'public';
  const say = (line: string) => void process.stderr.write(`${line}\n`);
  say(`Moving the catalogue of ${config.dataDir} to PostgreSQL (${redacted(values.to)}), schema ${schema}.`);
  // First Ctrl-C: stop after the current batch, committed. Second: leave at once (still safe: the batch rolls back).
  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) process.exit(130);
    say('\nStopping after the current batch (Ctrl-C again to quit now)…');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  let report: ImportReport;
  try {
    report = await importSqlite({
      catalogFile: dataPaths(config.dataDir).catalog,
      url: values.to,
      schema,
      ...(batchSize === undefined ? {} : { batchSize }),
      progress: createProgressBar(),
      say,
      signal: abort.signal,
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (report.interrupted) {
    say(`Interrupted: ${report.copiedBefore + report.copied} rows are in PostgreSQL. Run the same command again to go on.`);
    return 130;
  }
  process.stdout.write(checksTable(report));
  if (!report.ok) {
    const differ = report.checks.filter((c) => !c.ok);
    process.stdout.write(
      `\nPostgreSQL differs from the data folder in ${differ.length === 1 ? '1 table' : `${differ.length} tables`}:\n` +
        differ.map((c) => `  ${c.table}: ${c.sourceRows} rows in the data folder, ${c.targetRows} in PostgreSQL; first difference: ${c.difference ?? 'the rows'}\n`).join('') +
        (report.alreadyCopied
          ? `The copy had finished before: if servers have used the schema since, or the data folder changed, this is what changed. To copy again, empty the schema (or use another --schema) and run again.\n`
          : `Run the same command again to check again; if it still differs, empty the schema (or use another --schema) and run again with every Referent process on the data folder stopped.\n`),
    );
    return 1;
  }
  const total = report.checks.reduce((n, c) => n + c.sourceRows, 0);
  process.stdout.write(`\nEvery table matches: ${total} rows, ${report.copied} copied by this run${report.copiedBefore > 0 ? `, ${report.copiedBefore} before` : ''}.\n`);
  if (report.mode === 'live' || report.openedSince) {
    process.stdout.write(`A Referent process had the catalogue open during the migration: what it wrote after the copy began is not in PostgreSQL.\n`);
  }
  process.stdout.write(nextSteps(report, values.to, config.dataDir));
  return 0;
}

/** The URL as it may be shown: without its password. */
function redacted(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '';
    return u.href;
  } catch {
    return 'not a URL';
  }
}

function checksTable(report: ImportReport): string {
  const width = Math.max(...report.checks.map((c) => c.table.length), 5);
  const rows = report.checks.map((c) => {
    const digest = c.ok ? c.sourceDigest.slice(0, 16) : `${c.sourceDigest.slice(0, 7)}≠${c.targetDigest.slice(0, 8)}`;
    const count = c.ok ? String(c.sourceRows) : `${c.sourceRows}/${c.targetRows}`;
    return `${c.table.padEnd(width)}  ${count.padStart(9)}  ${digest}  ${c.ok ? 'ok' : 'DIFFERS'}`;
  });
  return `\n${'table'.padEnd(width)}  ${'rows'.padStart(9)}  ${'checksum'.padEnd(16)}\n${rows.join('\n')}\n`;
}

function nextSteps(report: ImportReport, url: string, dataDir: string): string {
  const hasPassword = (() => {
    try {
      return new URL(url).password !== '';
    } catch {
      return false;
    }
  })();
  return `
Next:
  1. Stop the Referent servers and commands that use ${dataDir}: what they write there from now on stays there.
  2. Start every server, and run every command, with
       REFERENT_DATABASE_URL=${redacted(url)}${hasPassword ? '   (with its password)' : ''}
       REFERENT_DATABASE_SCHEMA=${report.schema}
       REFERENT_DATA_DIR=${dataDir}
     The photos stay in ${dataDir}/media: every server must see that folder (a shared volume).
  3. Each server computes the entities' references from PostgreSQL on its first start. The data
     folder's catalog.sqlite and index/ are no longer used: keep them as a backup until you are satisfied.
`;
}
