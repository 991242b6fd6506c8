/**
 * Composition root for `npm start`: configuration from the environment (and .env), then the server.
 * Later the chat adapters (Slack, Teams) start here too when their settings are present.
 */
import { isReferentError } from '../src/errors.js';
import { loadConfig } from './env.js';
import { serve } from './serve.js';

serve(loadConfig()).catch((err: unknown) => {
  process.stderr.write(isReferentError(err) ? `referent: ${err.message}\n` : `referent: unexpected error\n${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
