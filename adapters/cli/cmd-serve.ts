import type { Config } from '../../src/config.js';
import { ErrorCode, ReferentError } from '../../src/errors.js';
import { serve } from '../serve.js';
import type { CliValues } from './main.js';

export async function runServe(args: string[], _values: CliValues, loadConfig: () => Config): Promise<number> {
  if (args.length > 0) throw new ReferentError(ErrorCode.UsageInvalid, 'Usage: referent serve');
  await serve(loadConfig());
  return 0;
}
