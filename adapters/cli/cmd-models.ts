import type { Config } from '../../src/config.js';
import { ErrorCode, ReferentError } from '../../src/errors.js';
import { pullModel } from '../../src/models/hub-download.js';
import { listModels } from '../../src/models/model-resolver.js';
import type { CliValues } from './main.js';
import { createProgressBar } from './progress-bar.js';

export async function runModels(args: string[], _values: CliValues, loadConfig: () => Config): Promise<number> {
  const [sub, id, ...extra] = args;
  const config = loadConfig();
  if (sub === 'list' && !id) {
    const models = await listModels(config.modelsDir);
    if (models.length === 0) {
      process.stdout.write(`No models in ${config.modelsDir}. Pull one with \`referent models pull <hub-id>\`.\n`);
      return 0;
    }
    for (const m of models) {
      const size = (m.bytes / 1024 / 1024).toFixed(1);
      process.stdout.write(`${m.id}  ${m.complete ? 'complete' : 'INCOMPLETE'}  variants: ${m.variants.join(', ') || 'none'}  ${size} MB  ${m.dir}\n`);
    }
    return 0;
  }
  if (sub === 'pull' && id && extra.length === 0) {
    if (config.offline) throw new ReferentError(ErrorCode.UsageInvalid, 'Offline mode (REFERENT_OFFLINE / --offline) forbids downloads.');
    const dir = await pullModel({
      hubId: id,
      modelsDir: config.modelsDir,
      variant: config.modelVariant,
      hubUrl: config.hubUrl,
      progress: createProgressBar(),
      ...(config.hfToken ? { token: config.hfToken } : {}),
    });
    process.stdout.write(`${id} (${config.modelVariant}) is complete in ${dir}\n`);
    return 0;
  }
  throw new ReferentError(ErrorCode.UsageInvalid, 'Usage: referent models pull <hub-id> [--variant NAME] | referent models list');
}
