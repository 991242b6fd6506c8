/**
 * The import scanner behind the architecture test: each form a regular expression missed (or
 * wrongly matched) is fed in as source text, so a rule cannot pass because the scanner looked away.
 */
import { describe, expect, it } from 'vitest';
import { importsIn } from './imports.js';

const specifiers = (text: string, fileName = 'sample.ts') => importsIn(fileName, text).map((i) => i.specifier);

describe('importsIn', () => {
  it.each([
    ['an indented import', "function f() {}\n    import '@slack/bolt';\n", '@slack/bolt', 'import'],
    ['an import after a statement on the same line', "const a = 1; import { App } from '@slack/bolt';", '@slack/bolt', 'import'],
    ['a multi-line import', "import {\n  CloudAdapter,\n  TurnContext,\n} from\n  'botbuilder';", 'botbuilder', 'import'],
    ['import type', "import type { Activity } from 'botbuilder';", 'botbuilder', 'import type'],
    ['a dynamic import with a comment inside', "await import(/* x */ 'botbuilder');", 'botbuilder', 'import()'],
    ['a dynamic import split over lines', "const m = await import(\n  // why not\n  'botbuilder'\n);", 'botbuilder', 'import()'],
    ['a dynamic import of a template literal', 'await import(`express`);', 'express', 'import()'],
    ['require', "const b = require('botbuilder');", 'botbuilder', 'require()'],
    ['require with a comment inside', "const b = require(/* x */ 'botbuilder');", 'botbuilder', 'require()'],
    ['export * from', "export * from '@slack/bolt';", '@slack/bolt', 'export from'],
    ['export { x } from', "export { App as SlackApp } from '@slack/bolt';", '@slack/bolt', 'export from'],
    ['import x = require()', "import x = require('express');", 'express', 'import ='],
    ['an import type node', "type A = import('botbuilder').Activity;", 'botbuilder', 'import type'],
  ])('finds %s', (_what, text, specifier, kind) => {
    expect(importsIn('sample.ts', text)).toEqual([expect.objectContaining({ specifier, kind })]);
  });

  it('reports the line of each import', () => {
    expect(importsIn('sample.ts', "// one\n\n  import 'http';\nconst h = require('https');").map((i) => [i.specifier, i.line])).toEqual([
      ['http', 3],
      ['https', 4],
    ]);
  });

  it('reads JavaScript files too', () => {
    expect(specifiers("import fs from 'node:fs';\nconst h = require('node:http');\nexport * from './x.js';", 'sample.mjs')).toEqual(['node:fs', 'node:http', './x.js']);
  });

  it('marks computed module names as unknown instead of skipping them', () => {
    expect(specifiers('const name = "botbuilder"; await import(name); require(`${name}`); import(`bot${"builder"}`);')).toEqual([null, null, null]);
  });

  it('ignores module names that are only text: strings, comments, templates and method calls', () => {
    const text = [
      "const s = \"import x from 'botbuilder'\";",
      "// import '@slack/bolt';",
      "/* require('express') */",
      'const t = `import(${JSON.stringify("botbuilder")})`;',
      "const r = { require: (m: string) => m }; r.require('express');",
      "const u = import.meta.resolve('express');",
    ].join('\n');
    expect(importsIn('sample.ts', text)).toEqual([]);
  });
});
