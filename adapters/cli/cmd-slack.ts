/** `referent slack-manifest [--url …]`: the Slack app manifest, ready to paste. No configuration is read. */
import { ErrorCode, ReferentError } from '../../src/errors.js';
import { slackManifest } from '../slack/manifest.js';
import type { CliValues } from './main.js';

export async function runSlackManifest(args: string[], values: CliValues): Promise<number> {
  if (args.length > 0) throw new ReferentError(ErrorCode.UsageInvalid, 'Usage: referent slack-manifest [--url https://referent.example.com]');
  const url = values.url;
  if (url !== undefined && !/^https:\/\/[^/\s]+/.test(url)) {
    throw new ReferentError(ErrorCode.UsageInvalid, `Slack only sends requests to https addresses: --url https://referent.example.com, not "${url}".`);
  }
  process.stdout.write(`${JSON.stringify(slackManifest(url), null, 2)}\n`);
  return 0;
}
