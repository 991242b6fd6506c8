import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { readSources } from '../../src/ingest/sources.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'referent-sources-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const write = (name: string, body: string) => {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, body);
  return file;
};

describe('readSources', () => {
  it('walks a folder recursively, keeping image files only, in a stable order', async () => {
    write('photos/b.png', 'x');
    write('photos/sub/a.JPG', 'x');
    write('photos/notes.txt', 'x');
    write('photos/.hidden.png', 'x');
    const { sources, problems } = await readSources(path.join(dir, 'photos'));
    expect(problems).toEqual([]);
    expect(sources.map((s) => s.origin)).toEqual(['b.png', path.join('sub', 'a.JPG')]);
    expect(path.isAbsolute(sources[0]!.path)).toBe(true);
  });

  it('reads JSONL relative to the manifest and reports bad lines with their numbers', async () => {
    const file = write(
      'm/manifest.jsonl',
      [
        '{"image":"img/red.png","caption":"a red bolt","entity":"P-1","collection":"parts"}',
        '',
        'not json',
        '{"caption":"no image"}',
        '{"image":"x.png","caption":5}',
        '["image"]',
        '{"image":"/abs/b.png"}',
      ].join('\n'),
    );
    const { sources, problems } = await readSources(file);
    expect(sources).toEqual([
      { path: path.join(dir, 'm/img/red.png'), caption: 'a red bolt', entity: 'P-1', collection: 'parts', origin: 'manifest.jsonl:1' },
      { path: '/abs/b.png', origin: 'manifest.jsonl:7' },
    ]);
    expect(problems.map((p) => p.origin)).toEqual(['manifest.jsonl:3', 'manifest.jsonl:4', 'manifest.jsonl:5', 'manifest.jsonl:6']);
  });

  it('reads CSV with a header, quoted commas and empty cells', async () => {
    const file = write('c/list.csv', 'image,caption,entity,collection\nred.png,"bolt, hex",P-2,\n,missing image,,\n');
    const { sources, problems } = await readSources(file);
    expect(sources).toEqual([{ path: path.join(dir, 'c/red.png'), caption: 'bolt, hex', entity: 'P-2', origin: 'list.csv:2' }]);
    expect(problems).toEqual([{ origin: 'list.csv:3', reason: '"image" is missing' }]);
  });

  it('refuses what it cannot read, with a code', async () => {
    await expect(readSources(path.join(dir, 'nope'))).rejects.toMatchObject({ code: ErrorCode.ManifestInvalid });
    await expect(readSources(write('x.txt', 'hello'))).rejects.toMatchObject({ code: ErrorCode.ManifestInvalid });
    await expect(readSources(write('bad.csv', 'image,caption\n"unterminated'))).rejects.toMatchObject({ code: ErrorCode.ManifestInvalid });
  });
});
