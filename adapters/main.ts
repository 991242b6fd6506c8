/**
 * Composition root for `npm start`: configuration from the environment (and .env), then the server
 * with the web chat, and the chat adapters whose settings are present (Slack).
 *
 * Exit status, as the CLI's: 2 a configuration problem (every bad setting listed at once, and the
 * settings the server will not start with: a non-loopback HOST without REFERENT_WEB_TOKEN, a PORT
 * in use); 1 any other problem Referent reports in one line (the data folder is a file or not
 * writable, the disk is full, the model is missing); 70 an unexpected error, with its stack.
 */
import { ErrorCode, isReferentError } from '../src/errors.js';
import { loadConfig } from './env.js';
import { serve } from './serve.js';

const demoHint =
  '\nTo try Referent offline right now:\n' +
  '  npm run demo                                      a demo gallery and the web chat, fully offline\n' +
  '  REFERENT_MODEL=test/fixtures/tiny-clip npm start  your data folder on the demo encoder\n' +
  '(the demo encoder only understands colours).\n';

/** EX_SOFTWARE (sysexits.h), as the CLI: a bug, not a setting. */
const EXIT_UNEXPECTED = 70;

// loadConfig throws synchronously: inside the async function, its error reaches the handler below.
async function main(): Promise<void> {
  await serve(loadConfig());
}

main().catch((err: unknown) => {
  if (isReferentError(err)) {
    const noModel = err.code === ErrorCode.ModelDownloadFailed || err.code === ErrorCode.ModelNotFound;
    process.stderr.write(`referent: ${err.message}\n${noModel ? demoHint : ''}`);
    process.exitCode = err.code === ErrorCode.ConfigInvalid || err.code === ErrorCode.UsageInvalid ? 2 : 1;
  } else {
    process.stderr.write(`referent: unexpected error\n${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = EXIT_UNEXPECTED;
  }
});
