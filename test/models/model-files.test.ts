import { mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, isReferentError } from '../../src/errors.js';
import {
  assertVariant, checkModelFolder, copyModelHint, hubModelDir, MODEL_MANIFEST_NAME, modelFiles,
  onnxSuffix, parseHubId, PARTIAL_SUFFIX, variantsIn,
} from '../../src/models/model-files.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'referent-model-files-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

async function writeModel(variant: string): Promise<void> {
  for (const file of modelFiles(variant)) {
    await mkdir(join(dir, 'onnx'), { recursive: true });
    await writeFile(join(dir, file.path), `${file.path}\n`);
  }
}

async function writeManifest(variant: string): Promise<void> {
  const files = modelFiles(variant).map((f) => ({ path: f.path, size: Buffer.byteLength(`${f.path}\n`), sha256: 'x' }));
  await writeFile(join(dir, MODEL_MANIFEST_NAME), JSON.stringify({ hubId: 'a/b', revision: 'main', variant, variants: [variant], files, pulledAt: '' }));
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isReferentError(err) ? err.code : 'not a ReferentError';
  }
  return undefined;
}

describe('modelFiles', () => {
  it('lists the Hugging Face ONNX layout, with variant suffixes', () => {
    const fp32 = modelFiles('fp32');
    expect(fp32.filter((f) => f.required).map((f) => f.path)).toEqual([
      'config.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'preprocessor_config.json',
      'onnx/text_model.onnx',
      'onnx/vision_model.onnx',
    ]);
    expect(fp32.find((f) => f.path === 'special_tokens_map.json')?.required).toBe(false);
    expect(modelFiles('quantized').map((f) => f.path)).toContain('onnx/vision_model_quantized.onnx');
    expect(onnxSuffix('fp16')).toBe('_fp16');
    expect(onnxSuffix('fp32')).toBe('');
  });

  it('refuses variants that are not plain words', () => {
    expect(codeOf(() => assertVariant('../x'))).toBe(ErrorCode.UsageInvalid);
    expect(codeOf(() => modelFiles('a/b'))).toBe(ErrorCode.UsageInvalid);
    expect(codeOf(() => assertVariant('bnb4'))).toBeUndefined();
  });

  it('finds the variants whose two towers are both present', () => {
    expect(variantsIn(['onnx/text_model.onnx', 'onnx/vision_model.onnx', 'onnx/text_model_q4.onnx', 'onnx/text_model_fp16.onnx', 'onnx/vision_model_fp16.onnx'])).toEqual([
      'fp16',
      'fp32',
    ]);
  });
});

describe('checkModelFolder', () => {
  it('accepts a folder with every required file', async () => {
    await writeModel('fp32');
    expect(await checkModelFolder(dir, 'fp32')).toEqual({ complete: true, missing: [] });
  });

  it('does not need the optional files', async () => {
    await writeModel('fp32');
    await rm(join(dir, 'special_tokens_map.json'));
    expect((await checkModelFolder(dir, 'fp32')).complete).toBe(true);
  });

  it('counts absent, empty and still-partial files as missing', async () => {
    await writeModel('fp32');
    await truncate(join(dir, 'config.json'), 0);
    await rm(join(dir, 'onnx/text_model.onnx'));
    await writeFile(join(dir, `onnx/text_model.onnx${PARTIAL_SUFFIX}`), 'half');
    expect(await checkModelFolder(dir, 'fp32')).toEqual({ complete: false, missing: ['config.json', 'onnx/text_model.onnx'] });
  });

  it('checks the files of the variant asked for', async () => {
    await writeModel('fp32');
    expect((await checkModelFolder(dir, 'quantized')).missing).toEqual(['onnx/text_model_quantized.onnx', 'onnx/vision_model_quantized.onnx']);
  });

  it('with requireManifest, wants the pull manifest and the sizes it recorded', async () => {
    await writeModel('fp32');
    expect((await checkModelFolder(dir, 'fp32', { requireManifest: true })).missing).toEqual([MODEL_MANIFEST_NAME]);
    await writeManifest('fp32');
    expect((await checkModelFolder(dir, 'fp32', { requireManifest: true })).complete).toBe(true);
    await writeFile(join(dir, 'tokenizer.json'), 'changed since the pull');
    expect((await checkModelFolder(dir, 'fp32', { requireManifest: true })).missing).toEqual(['tokenizer.json']);
  });

  it('reports everything missing for a folder that does not exist', async () => {
    const check = await checkModelFolder(join(dir, 'nope'), 'fp32');
    expect(check.complete).toBe(false);
    expect(check.missing).toHaveLength(6);
  });
});

describe('hub ids', () => {
  it('accepts owner/name and maps it under the models dir', () => {
    expect(parseHubId('Xenova/clip-vit-base-patch16')).toEqual({ owner: 'Xenova', name: 'clip-vit-base-patch16' });
    expect(hubModelDir('models', 'org/m.v1_2')).toBe(resolve('models', 'org', 'm.v1_2'));
  });

  it.each(['../x', 'a/..', 'a/b/c', '/a/b', 'a', 'a/', '/a', 'a\\b/c', 'a/b..c', '-a/b', 'a/b c', ''])('refuses %j', (id) => {
    expect(codeOf(() => parseHubId(id))).toBe(ErrorCode.UsageInvalid);
  });

  it('tells where to copy a model and how to make one', () => {
    const hint = copyModelHint('a/b', '/srv/models/a/b');
    expect(hint).toContain('/srv/models/a/b/');
    expect(hint).toContain('referent models pull a/b');
  });
});
