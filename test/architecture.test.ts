/**
 * Enforces the dependency rules (docs/development.md): the core knows no chat platform, HTTP framework or
 * HTTP server and nothing under adapters/; each native dependency is imported by exactly one file;
 * only the composition root's env loader reads process.env. Imports are read with TypeScript's
 * parser (test/support/imports.ts), so every form counts: static, type-only, re-exports,
 * `import x = require()`, `import()` and `require()`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importsOfFile, type ModuleImport } from './support/imports.js';

const root = path.resolve(import.meta.dirname, '..');

function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(ts|mts|cts|js|mjs|cjs)$/.test(e.name))
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)));
}

// Parsed once: every rule below reads the same lists.
const importsCache = new Map<string, ModuleImport[]>();
const importsOf = (file: string): ModuleImport[] => {
  if (!importsCache.has(file)) importsCache.set(file, importsOfFile(root, file));
  return importsCache.get(file)!;
};
const specifiersOf = (file: string) => importsOf(file).flatMap((i) => (i.specifier === null ? [] : [i.specifier]));

const core = sourceFiles('src');
const production = [...core, ...sourceFiles('adapters')];

/** Chat platforms and HTTP frameworks by package, and the adapters folder by any path that names it. */
const PLATFORMS = /^(@slack\/|botbuilder|@microsoft\/|express|fastify|koa)|(^|\/)adapters\//;
/** Node's HTTP servers and clients: serving and calling out over HTTP belong to the adapters. */
const HTTP_MODULES = /^(node:)?(http|https|http2)$/;

describe('architecture', () => {
  it('finds the source tree and the imports in it', () => {
    expect(core.length).toBeGreaterThan(10);
    // A scanner that finds nothing would make every rule below pass.
    expect(specifiersOf('adapters/teams/teams-adapter.ts')).toContain('botbuilder');
    expect(specifiersOf('src/ocr/paddle-ocr.ts')).toContain('@gutenye/ocr-node');
  });

  it('keeps src/ free of chat platforms, HTTP frameworks and adapters', () => {
    const offenders = core.flatMap((file) =>
      importsOf(file)
        .filter(({ specifier: spec }) => spec !== null && (PLATFORMS.test(spec) || path.resolve(root, path.dirname(file), spec).startsWith(path.join(root, 'adapters'))))
        .map(({ specifier, kind, line }) => `${file}:${line} ${kind} ${specifier}`),
    );
    expect(offenders).toEqual([]);
  });

  it('keeps src/ off node:http and node:https', () => {
    const offenders = core.flatMap((file) =>
      importsOf(file)
        .filter(({ specifier }) => specifier !== null && HTTP_MODULES.test(specifier))
        .map(({ specifier, kind, line }) => `${file}:${line} ${kind} ${specifier}`),
    );
    expect(offenders).toEqual([]);
  });

  it('names every module it loads literally, so the rules here can judge it', () => {
    const computed = production.flatMap((file) => importsOf(file).filter((i) => i.specifier === null).map(({ kind, line }) => `${file}:${line} ${kind}`));
    expect(computed).toEqual([]);
  });

  it.each([
    ['onnxruntime-node', 'src/encoder/onnx-runtime.ts'],
    ['hnswlib-node', 'src/index/hnsw-index.ts'],
    ['better-sqlite3', 'src/catalog/sqlite-catalog.ts'],
    ['pg', 'src/catalog/postgres/pg-pool.ts'],
    ['sharp', 'src/image/image-io.ts'],
    ['@gutenye/ocr-node', 'src/ocr/paddle-ocr.ts'],
    ['@vladmandic/face-api', 'src/faces/tfjs-faces.ts'],
    ['@tensorflow/tfjs', 'src/faces/tfjs-faces.ts'],
    ['@tensorflow/tfjs-backend-wasm', 'src/faces/tfjs-faces.ts'],
  ])('imports %s from exactly one file', (pkg, expected) => {
    const importers = production.filter((file) => specifiersOf(file).some((spec) => spec === pkg || spec.startsWith(`${pkg}/`)));
    expect(importers).toEqual([expected]);
  });

  it('reads process.env only in the env loader', () => {
    // The one write allowed: switching off ONNX Runtime's telemetry where models are loaded.
    const uses = (file: string) => fs.readFileSync(path.join(root, file), 'utf8').replace("process.env.ORT_DISABLE_TELEMETRY = '1';", '');
    const readers = production.filter((file) => /process\.env\b/.test(uses(file)));
    expect(readers).toEqual(['adapters/env.ts']);
  });
});
