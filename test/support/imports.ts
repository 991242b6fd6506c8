/**
 * The modules a source file loads, read with TypeScript's own parser rather than a regular
 * expression: a pattern misses an indented `import`, a comment inside `import( … )`, `export * from`
 * or `import x = require(…)`, and it matches `import(` written inside a string. The architecture
 * test applies its rules to what this returns; test/support/imports.test.ts feeds it the tricky forms.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export type ImportKind = 'import' | 'import type' | 'export from' | 'import =' | 'import()' | 'require()';

export interface ModuleImport {
  /** The module named, or null when it is computed (`import(name)`, a template with `${…}`): no rule can judge it. */
  specifier: string | null;
  kind: ImportKind;
  /** 1-based, for messages. */
  line: number;
}

/** A string literal or a template without substitutions: the only arguments whose module is known without running the code. */
const literalText = (node: ts.Node | undefined): string | null =>
  node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) ? node.text : null;

/**
 * Every module `text` loads: static imports (type-only too: a type still ties the file to the
 * package), re-exports, `import x = require()`, `import()` and `require()` calls, and `import('m').T`
 * types. The file name only chooses the dialect (.ts or .js); nothing is read from disk.
 */
export function importsIn(fileName: string, text: string): ModuleImport[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found: ModuleImport[] = [];
  const add = (at: ts.Node, specifier: string | null, kind: ImportKind) =>
    found.push({ specifier, kind, line: source.getLineAndCharacterOfPosition(at.getStart(source)).line + 1 });

  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      add(node, literalText(node.moduleSpecifier), node.importClause?.isTypeOnly ? 'import type' : 'import');
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      add(node, literalText(node.moduleSpecifier), 'export from');
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, literalText(node.moduleReference.expression), 'import =');
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node, literalText(node.arguments[0]), 'import()');
    } else if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'require') {
      // Any function called `require` (also one made by createRequire) loads a module.
      add(node, literalText(node.arguments[0]), 'require()');
    } else if (ts.isImportTypeNode(node)) {
      const argument = node.argument;
      add(node, ts.isLiteralTypeNode(argument) ? literalText(argument.literal) : null, 'import type');
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The same for a file of the repository, `file` relative to `root`. */
export function importsOfFile(root: string, file: string): ModuleImport[] {
  return importsIn(file, fs.readFileSync(path.join(root, file), 'utf8'));
}
