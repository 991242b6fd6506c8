/**
 * Keeps README.md and docs/ true: every configuration variable, CLI command and npm script they
 * promise exists, and vice versa; every page the README links to is there.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandHelp } from '../adapters/cli/help.js';
import { configVariables } from '../src/config.js';
import { repoRoot } from './support/fixtures.js';

const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
const docsDir = path.join(repoRoot, 'docs');
const docs = Object.fromEntries(fs.readdirSync(docsDir).filter((f) => f.endsWith('.md')).map((f) => [f, fs.readFileSync(path.join(docsDir, f), 'utf8')]));
const everything = [readme, ...Object.values(docs)].join('\n');
const configuration = docs['configuration.md'] ?? '';
const cli = docs['cli.md'] ?? '';
const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

describe('README and docs/', () => {
  it.each(Object.entries(configVariables))('documents %s with its default', (name, [, dflt]) => {
    const row = configuration.split('\n').find((line) => line.startsWith(`| \`${name}\``));
    expect(row, name).toBeDefined();
    if (dflt !== undefined) expect(row).toContain(`\`${dflt}\``);
  });

  it('lists no configuration variable that does not exist', () => {
    const documented = [...everything.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(configVariables).sort());
  });

  it('documents every CLI command', () => {
    for (const command of Object.keys(commandHelp)) expect(cli).toContain(`\`referent ${command}`);
  });

  it('names only npm scripts that exist, and the test command CI runs', () => {
    const named = [...everything.matchAll(/npm run ([a-z0-9:-]+)/g)].map((m) => m[1]!);
    for (const script of named) expect(pkg.scripts, script).toHaveProperty(script);
    expect(readme).toContain('npm test');
    expect(fs.readFileSync(path.join(repoRoot, '.ci', 'run'), 'utf8')).toMatch(/^npm test$/m);
  });

  it("links only to pages and pictures that exist, and keeps the README a newcomer's page", () => {
    const links = [...everything.matchAll(/\]\(((?:docs\/)?[\w./-]+\.(?:md|png))\)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(5);
    for (const link of links) {
      const resolved = link.startsWith('docs/') ? path.join(repoRoot, link) : path.join(docsDir, link);
      expect(fs.existsSync(resolved), link).toBe(true);
    }
    for (const page of Object.keys(docs)) if (page !== 'README.md') expect(readme, page).toContain(`docs/${page}`);
    expect(readme.length).toBeLessThan(8000);
  });
});
