#!/usr/bin/env node
/**
 * The `referent` command line. Parses arguments, loads configuration once, runs one command, and
 * turns errors into a short message: ReferentErrors by their text, anything else with its stack.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ConfigVariable } from '../../src/config.js';
import { ErrorCode, isReferentError, ReferentError } from '../../src/errors.js';
import { loadConfig } from '../env.js';
import { runIndex } from './cmd-index.js';
import { runIngest } from './cmd-ingest.js';
import { runModels } from './cmd-models.js';
import { runSearch } from './cmd-search.js';
import { runServe } from './cmd-serve.js';
import { runEval } from './cmd-eval.js';
import { runReview } from './cmd-review.js';
import { runAudit, runCollections, runDisable, runEnable, runGrant, runRevoke } from './cmd-access.js';
import { runAdd, runDescribe, runForget, runShow } from './cmd-entities.js';
import { commandHelp, globalHelp } from './help.js';
import { runSlackManifest } from './cmd-slack.js';
import { runTeamsPackage } from './cmd-teams.js';
import { runMigrate } from './cmd-migrate.js';
import { runFaces } from './cmd-faces.js';

const options = {
  'data-dir': { type: 'string' },
  model: { type: 'string' },
  variant: { type: 'string' },
  offline: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  // command options
  collection: { type: 'string', multiple: true },
  events: { type: 'boolean' },
  image: { type: 'string', multiple: true },
  limit: { type: 'string' },
  json: { type: 'boolean' },
  'no-refine': { type: 'boolean' },
  text: { type: 'string' },
  as: { type: 'string' },
  images: { type: 'string' },
  split: { type: 'string' },
  'reference-share': { type: 'string' },
  kind: { type: 'string' },
  url: { type: 'string' },
  all: { type: 'boolean' },
  'app-id': { type: 'string' },
  out: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  to: { type: 'string' },
  schema: { type: 'string' },
  batch: { type: 'string' },
} as const;

export type CliValues = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];

const commands: Record<string, (args: string[], values: CliValues, config: () => ReturnType<typeof loadConfig>) => Promise<number>> = {
  ingest: runIngest,
  search: runSearch,
  models: runModels,
  index: runIndex,
  serve: runServe,
  add: runAdd,
  describe: runDescribe,
  show: runShow,
  forget: runForget,
  review: runReview,
  eval: runEval,
  collections: runCollections,
  grant: runGrant,
  revoke: runRevoke,
  enable: runEnable,
  disable: runDisable,
  audit: runAudit,
  faces: runFaces,
  'slack-manifest': runSlackManifest,
  'teams-package': runTeamsPackage,
  migrate: runMigrate,
};

/** Our package.json, found by walking up (this file runs from adapters/ in dev and dist/adapters/ when built). */
function packageVersion(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'referent') return pkg.version ?? 'unknown';
    }
  }
  return 'unknown';
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new ReferentError(ErrorCode.UsageInvalid, `${(err as Error).message}\nRun \`referent --help\` for usage.`);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.version) {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (!command || (values.help && !commands[command])) {
    process.stdout.write(globalHelp);
    return command || values.help ? 0 : 2;
  }
  const run = commands[command];
  if (!run) throw new ReferentError(ErrorCode.UsageInvalid, `Unknown command "${command}". Run \`referent --help\` for the list.`);
  if (values.help) {
    process.stdout.write(commandHelp[command] ?? globalHelp);
    return 0;
  }
  const overrides: Partial<Record<ConfigVariable, string>> = {};
  if (values['data-dir']) overrides.REFERENT_DATA_DIR = values['data-dir'];
  if (values.model) overrides.REFERENT_MODEL = values.model;
  if (values.variant) overrides.REFERENT_MODEL_VARIANT = values.variant;
  if (values.offline) overrides.REFERENT_OFFLINE = '1';
  return run(rest, values, () => loadConfig(overrides));
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (isReferentError(err)) {
      process.stderr.write(`referent: ${err.message}\n`);
      // Usage and configuration mistakes are the caller's to fix (2), as `npm start` reports them.
      process.exitCode = err.code === ErrorCode.UsageInvalid || err.code === ErrorCode.ConfigInvalid ? 2 : 1;
    } else {
      process.stderr.write(`referent: unexpected error\n${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 70;
    }
  },
);
