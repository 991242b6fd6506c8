/**
 * Composition root for `npm start`: configuration from the environment (and .env), then the server
 * with the web chat, and the chat adapters whose settings are present (Slack).
 */
import { ErrorCode, isReferentError } from '../src/errors.js';
import { loadConfig } from './env.js';
import { serve } from './serve.js';

const demoHint =
  '\nTo try Referent offline right now:\n' +
  '  npm run demo                                      a demo gallery and the web chat, fully offline\n' +
  '  REFERENT_MODEL=test/fixtures/tiny-clip npm start  your data folder on the demo encoder\n' +
  '(the demo encoder only understands colours).\n';

serve(loadConfig()).catch((err: unknown) => {
  if (isReferentError(err)) {
    const noModel = err.code === ErrorCode.ModelDownloadFailed || err.code === ErrorCode.ModelNotFound;
    process.stderr.write(`referent: ${err.message}\n${noModel ? demoHint : ''}`);
  } else {
    process.stderr.write(`referent: unexpected error\n${err instanceof Error ? err.stack : String(err)}\n`);
  }
  process.exitCode = 1;
});
