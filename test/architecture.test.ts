/**
 * Enforces the dependency rules of DESIGN.md: the core knows no chat platform or HTTP framework and
 * nothing under adapters/; each native dependency is imported by exactly one file; only the
 * composition root's env loader reads process.env.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');

function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(ts|mts|js|mjs)$/.test(e.name))
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)));
}

const importPattern = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)|^import\s*['"]([^'"]+)['"]/gm;

function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  return [...text.matchAll(importPattern)].map((m) => m[1] ?? m[2] ?? m[3] ?? m[4]!);
}

const production = [...sourceFiles('src'), ...sourceFiles('adapters')];

describe('architecture', () => {
  it('finds the source tree', () => {
    expect(sourceFiles('src').length).toBeGreaterThan(10);
  });

  it('keeps src/ free of chat platforms, HTTP frameworks and adapters', () => {
    const forbidden = /^(@slack\/|botbuilder|@microsoft\/|express|fastify|koa)|(^|\/)adapters\//;
    const offenders = sourceFiles('src').flatMap((file) =>
      importsOf(file)
        .filter((spec) => forbidden.test(spec) || path.resolve(root, path.dirname(file), spec).startsWith(path.join(root, 'adapters')))
        .map((spec) => `${file} imports ${spec}`),
    );
    expect(offenders).toEqual([]);
  });

  it.each([
    ['onnxruntime-node', 'src/encoder/onnx-runtime.ts'],
    ['hnswlib-node', 'src/index/hnsw-index.ts'],
    ['better-sqlite3', 'src/catalog/sqlite-catalog.ts'],
    ['sharp', 'src/image/image-io.ts'],
    ['@gutenye/ocr-node', 'src/ocr/paddle-ocr.ts'],
  ])('imports %s from exactly one file', (pkg, expected) => {
    const importers = production.filter((file) => importsOf(file).some((spec) => spec === pkg || spec.startsWith(`${pkg}/`)));
    expect(importers).toEqual([expected]);
  });

  it('reads process.env only in the env loader', () => {
    // The one write allowed: switching off ONNX Runtime's telemetry where models are loaded.
    const uses = (file: string) => fs.readFileSync(path.join(root, file), 'utf8').replace("process.env.ORT_DISABLE_TELEMETRY = '1';", '');
    const readers = production.filter((file) => /process\.env\b/.test(uses(file)));
    expect(readers).toEqual(['adapters/env.ts']);
  });
});
