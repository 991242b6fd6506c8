/** Shared test fixtures: temp folders, a config on the demo encoder, coloured images. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig, type Config } from '../../src/config.js';
export { makeColourGallery } from '../../scripts/make-colour-gallery.js';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
export const tinyModelDir = path.join(repoRoot, 'test', 'fixtures', 'tiny-clip');

export function tempDir(prefix = 'referent-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function testConfig(dataDir: string, env: Record<string, string> = {}): Config {
  return parseConfig({ env: { REFERENT_DATA_DIR: dataDir, REFERENT_MODEL: tinyModelDir, REFERENT_OFFLINE: '1', REFERENT_BATCH_SIZE: '4', ...env } });
}

