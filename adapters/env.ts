/**
 * The one place that reads process.env (and the optional .env file in the working directory).
 * Everything else receives the parsed Config.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseConfig, type Config, type ConfigVariable } from '../src/config.js';

export function loadConfig(overrides: Partial<Record<ConfigVariable, string>> = {}): Config {
  const dotenvPath = path.resolve('.env');
  const dotenv = fs.existsSync(dotenvPath) ? fs.readFileSync(dotenvPath, 'utf8') : undefined;
  return parseConfig({ env: process.env, overrides, ...(dotenv === undefined ? {} : { dotenv }) });
}
