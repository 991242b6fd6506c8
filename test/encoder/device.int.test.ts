/**
 * REFERENT_DEVICE: where the encoder runs. This machine has no GPU and onnxruntime-node's CUDA
 * provider is not installed (ONNXRUNTIME_NODE_INSTALL_CUDA=skip), so what is checked here is the CPU
 * path, `auto` settling on the CPU and saying why, and `cuda` refusing in one line that names what is
 * missing. The CUDA path itself is untested here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { describeInference } from '../../src/encoder/encoder.js';
import { OnnxClipEncoder } from '../../src/encoder/onnx-clip-encoder.js';
import { cudaProviderProblem, nativeLibraryDir } from '../../src/encoder/onnx-runtime.js';
import { imageToTensor } from '../../src/encoder/preprocess.js';
import { solidPng } from '../../src/image/image-io.js';
import { tempDir, tinyModelDir } from '../support/fixtures.js';

const providerMissing = cudaProviderProblem() !== undefined;

describe('REFERENT_DEVICE', () => {
  it('parses auto (the default), cpu and cuda, and the thread settings, reporting bad values together', () => {
    expect(parseConfig({ env: {} })).toMatchObject({ device: 'auto' });
    expect(parseConfig({ env: {} }).inferenceThreads).toBeUndefined();
    expect(parseConfig({ env: {} }).ingestWorkers).toBeUndefined();
    expect(parseConfig({ env: { REFERENT_DEVICE: 'cuda', REFERENT_INFERENCE_THREADS: '3', REFERENT_INGEST_WORKERS: '0' } })).toMatchObject({ device: 'cuda', inferenceThreads: 3, ingestWorkers: 0 });
    let problems: string[] = [];
    try {
      parseConfig({ env: { REFERENT_DEVICE: 'gpu', REFERENT_INFERENCE_THREADS: 'many', REFERENT_INGEST_WORKERS: '-1' } });
    } catch (err) {
      problems = (err as { details: { problems: string[] } }).details.problems;
    }
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['REFERENT_DEVICE', 'REFERENT_INFERENCE_THREADS', 'REFERENT_INGEST_WORKERS']);
  });

  it('runs on the CPU with the threads asked for', async () => {
    const encoder = await OnnxClipEncoder.create(tinyModelDir, { device: 'cpu', threads: 1 });
    try {
      expect(encoder.inference).toEqual({ device: 'cpu', threads: 1 });
      expect(describeInference(encoder)).toBe('CPU, 1 thread');
    } finally {
      await encoder.close();
    }
  });

  it.skipIf(!providerMissing)('auto settles on the CPU and says why (skipped where the CUDA provider is installed)', async () => {
    const encoder = await OnnxClipEncoder.create(tinyModelDir, { device: 'auto', threads: 2 });
    try {
      expect(encoder.inference).toEqual({ device: 'cpu', threads: 2, fallback: 'no CUDA provider installed' });
      expect(describeInference(encoder)).toBe('CPU, 2 threads (REFERENT_DEVICE=auto: no CUDA provider installed)');
      const [v] = await encoder.encodeTexts(['red']);
      expect(v).toHaveLength(encoder.dim);
    } finally {
      await encoder.close();
    }
  });

  it.skipIf(!providerMissing)('cuda without its provider is CONFIG_INVALID: one line naming the missing files and how to install them', async () => {
    const err = await OnnxClipEncoder.create(tinyModelDir, { device: 'cuda' }).then(
      () => undefined,
      (e: unknown) => e as Error & { code: string },
    );
    expect(err?.code).toBe('CONFIG_INVALID');
    expect(err!.message).not.toContain('\n');
    expect(err!.message).toContain('REFERENT_DEVICE=cuda');
    expect(err!.message).toContain('libonnxruntime_providers_cuda.so');
    expect(err!.message).toContain(nativeLibraryDir());
    expect(err!.message).toContain('--onnxruntime-node-install=cuda12');
    expect(err!.message).toMatch(/CUDA 12 and cuDNN 9/);
    expect(err!.message).toMatch(/REFERENT_DEVICE=cpu\.$/);
  });

  it('finds the CUDA provider by its two files, naming whichever is missing', () => {
    if (process.platform !== 'linux' || process.arch !== 'x64') {
      expect(cudaProviderProblem(path.join(import.meta.dirname, 'no-such-folder'))?.brief).toMatch(/no CUDA provider for/);
      return;
    }
    const dir = tempDir();
    try {
      expect(cudaProviderProblem(dir)?.problem).toContain('libonnxruntime_providers_shared.so and libonnxruntime_providers_cuda.so missing');
      fs.writeFileSync(path.join(dir, 'libonnxruntime_providers_shared.so'), '');
      expect(cudaProviderProblem(dir)?.problem).toContain('(libonnxruntime_providers_cuda.so missing');
      fs.writeFileSync(path.join(dir, 'libonnxruntime_providers_cuda.so'), '');
      expect(cudaProviderProblem(dir)).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('encoding prepared pixels', () => {
  it('gives the vectors encodeImages gives for the same images', async () => {
    const encoder = await OnnxClipEncoder.create(tinyModelDir, { batchSize: 2 });
    try {
      const images = await Promise.all([solidPng(40, 30, [200, 20, 20]), solidPng(64, 64, [20, 20, 200]), solidPng(33, 90, [20, 160, 20])]);
      const { preprocess, limits } = encoder.pixelInput;
      const tensors = await Promise.all(images.map((bytes) => imageToTensor(bytes, preprocess, limits)));
      const fromPixels = await encoder.encodePixels(tensors);
      const fromBytes = await encoder.encodeImages(images);
      expect(fromPixels).toHaveLength(3);
      fromPixels.forEach((v, i) => v.forEach((x, j) => expect(Math.abs(x - fromBytes[i]![j]!)).toBeLessThan(1e-6)));
    } finally {
      await encoder.close();
    }
  });
});
