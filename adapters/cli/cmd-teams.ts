/** `referent teams-package --app-id ID [--out F.zip] [--url …]`: the Teams app package, ready to upload. No configuration is read. */
import fs from 'node:fs';
import path from 'node:path';
import { asDiskError, ErrorCode, ReferentError } from '../../src/errors.js';
import { teamsAppPackage } from '../teams/app-package.js';
import type { CliValues } from './main.js';

const usage = 'Usage: referent teams-package --app-id <Microsoft App ID> [--out referent-teams.zip] [--url https://referent.example.com]';

export async function runTeamsPackage(args: string[], values: CliValues): Promise<number> {
  if (args.length > 0) throw new ReferentError(ErrorCode.UsageInvalid, usage);
  const appId = values['app-id'];
  if (!appId) {
    throw new ReferentError(ErrorCode.UsageInvalid, `${usage}\nThe app id is the Azure Bot's Microsoft App ID: Azure portal → your Azure Bot → Configuration.`);
  }
  const zip = await teamsAppPackage({ appId, publicUrl: values.url, version: '1.0.0' });
  const out = path.resolve(values.out ?? 'referent-teams.zip');
  // Through a temporary file and a rename, so an interrupted run never leaves half a zip under the real name.
  const tmp = `${out}.tmp`;
  try {
    fs.writeFileSync(tmp, zip);
    fs.renameSync(tmp, out);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    const disk = asDiskError(err, out);
    if (disk !== err) throw disk;
    // A missing folder or no permission is a wrong --out, not a crash.
    throw new ReferentError(ErrorCode.UsageInvalid, `Cannot write ${out}: ${(err as Error).message}`, { cause: err });
  }
  process.stdout.write(`Wrote ${out} (${zip.length} bytes): upload it in Teams → Apps → Manage your apps → Upload an app.\n`);
  return 0;
}
