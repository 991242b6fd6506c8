import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateTinyClip } from '../../scripts/gen-tiny-clip.js';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'tiny-clip');

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('gen-tiny-clip', () => {
  const made: string[] = [];
  afterAll(async () => {
    await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('regenerates the committed fixture byte for byte (the fixture cannot drift from the generator)', async () => {
    const out = await mkdtemp(join(tmpdir(), 'tiny-clip-'));
    made.push(out);
    const written = await generateTinyClip(out);
    const generated = await listFiles(out);
    expect(generated).toEqual([...written].sort());
    expect(await listFiles(fixture)).toEqual(generated);
    for (const file of generated) {
      const [a, b] = await Promise.all([readFile(join(out, file)), readFile(join(fixture, file))]);
      expect(a.equals(b), `${file} differs from the fixture; run npm run gen:tiny-model`).toBe(true);
    }
  });

  it('writes the Hugging Face layout, labelled as a demo, with small ONNX files', async () => {
    const files = await listFiles(fixture);
    for (const name of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'preprocessor_config.json', 'README.md']) {
      expect(files).toContain(name);
    }
    for (const tower of ['text', 'vision']) {
      expect(files).toContain(`onnx/${tower}_model.onnx`);
      expect(files).toContain(`onnx/${tower}_model_quantized.onnx`);
    }
    const config = JSON.parse(await readFile(join(fixture, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ model_type: 'clip', referent_demo: true, _name_or_path: 'referent/tiny-clip-demo' });
    for (const file of files.filter((f) => f.endsWith('.onnx'))) {
      expect((await readFile(join(fixture, file))).byteLength).toBeLessThan(200 * 1024);
    }
    expect(await readFile(join(fixture, 'README.md'), 'utf8')).toMatch(/not a real model/);
  });
});
