/** Keeps README.md true: every configuration variable, CLI command and npm script it promises exists, and vice versa. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandHelp } from '../adapters/cli/help.js';
import { configVariables } from '../src/config.js';
import { repoRoot } from './support/fixtures.js';

const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

describe('README', () => {
  it.each(Object.entries(configVariables))('documents %s with its default', (name, [, dflt]) => {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\``));
    expect(row, name).toBeDefined();
    if (dflt !== undefined) expect(row).toContain(`\`${dflt}\``);
  });

  it('lists no configuration variable that does not exist', () => {
    const documented = [...readme.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(configVariables).sort());
  });

  it('documents every CLI command', () => {
    for (const command of Object.keys(commandHelp)) expect(readme).toContain(`\`referent ${command}`);
  });

  it('names only npm scripts that exist, and the test command CI runs', () => {
    const named = [...readme.matchAll(/npm run ([a-z:-]+)/g)].map((m) => m[1]!);
    for (const script of named) expect(pkg.scripts, script).toHaveProperty(script);
    expect(readme).toContain('npm test');
    expect(fs.readFileSync(path.join(repoRoot, '.ci', 'run'), 'utf8')).toMatch(/^npm test$/m);
  });
});
