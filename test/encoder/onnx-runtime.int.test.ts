import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { float16, OnnxSession } from '../../src/encoder/onnx-runtime.js';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'tiny-clip', 'onnx');

describe('float16 conversion', () => {
  it('round-trips representable values exactly and rounds others to nearest', () => {
    for (const v of [0, 1, -2, 0.5, 65504, -(1023 / 1024) * 2 ** -14, 2 ** -24, 0.333251953125, 2 ** -14]) {
      expect(float16.toFloat(float16.fromFloat(v))).toBe(v);
    }
    expect(float16.fromFloat(1)).toBe(0x3c00);
    expect(float16.toFloat(float16.fromFloat(0.1))).toBeCloseTo(0.1, 3);
    expect(float16.toFloat(float16.fromFloat(1e6))).toBe(Infinity);
    expect(Number.isNaN(float16.toFloat(float16.fromFloat(NaN)))).toBe(true);
  });
});

describe('OnnxSession', () => {
  it('describes inputs and outputs and runs with plain typed arrays', async () => {
    const session = await OnnxSession.open(join(fixture, 'text_model.onnx'), { threads: 1 });
    try {
      expect(session.inputNames).toEqual(['input_ids', 'attention_mask']);
      expect(session.outputNames).toEqual(['text_embeds']);
      expect(session.input('input_ids')).toEqual({ name: 'input_ids', type: 'int64', shape: ['batch_size', 'sequence_length'] });
      const ids = { type: 'int64' as const, data: BigInt64Array.from([1n, 3n, 2n]), dims: [1, 3] };
      const mask = { type: 'int64' as const, data: BigInt64Array.from([1n, 1n, 1n]), dims: [1, 3] };
      const out = await session.run({ input_ids: ids, attention_mask: mask }, ['text_embeds']);
      expect(out.text_embeds!.dims).toEqual([1, 64]);
      expect(out.text_embeds!.data).toBeInstanceOf(Float32Array);
    } finally {
      await session.close();
    }
  });

  it('converts float32 inputs to float16 and float16 outputs back for fp16 graphs', async () => {
    const session = await OnnxSession.open(join(fixture, 'vision_model_fp16.onnx'));
    try {
      const pixels = { type: 'float32' as const, data: new Float32Array(2 * 3 * 32 * 32).fill(0.5), dims: [2, 3, 32, 32] };
      const out = await session.run({ pixel_values: pixels }, ['image_embeds']);
      expect(out.image_embeds!.dims).toEqual([2, 64]);
      expect(out.image_embeds!.data).toBeInstanceOf(Float32Array);
      expect(out.image_embeds!.data.every(Number.isFinite)).toBe(true);
    } finally {
      await session.close();
    }
  });

  it('turns an unloadable file into MODEL_INVALID', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'onnx-bad-'));
    try {
      await writeFile(join(dir, 'broken.onnx'), 'definitely not protobuf');
      await expect(OnnxSession.open(join(dir, 'broken.onnx'))).rejects.toMatchObject({ code: 'MODEL_INVALID' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('ONNX Runtime telemetry', () => {
  /** Loads the tiny text model in a fresh process with its own HOME; returns that HOME and the child's pid. */
  async function loadIn(script: string): Promise<{ home: string; pid: number }> {
    const { spawn } = await import('node:child_process');
    const home = await mkdtemp(join(tmpdir(), 'referent-home-'));
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: home };
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: join(import.meta.dirname, '..', '..'), env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(0);
    return { home, pid: child.pid! };
  }
  const model = JSON.stringify(join(fixture, 'text_model.onnx'));
  const traces = async ({ home, pid }: { home: string; pid: number }) => {
    const { existsSync } = await import('node:fs');
    return { store: existsSync(join(home, '.cache', 'Microsoft')), debugLog: existsSync(join(tmpdir(), `mat-debug-${pid}.log`)) };
  };

  it('is off for every model Referent loads: no event store, no debug file (and on without the switch)', async () => {
    const ours = await loadIn(`import { OnnxSession } from './src/encoder/onnx-runtime.ts'; await OnnxSession.open(${model}, { threads: 1 });`);
    const bare = await loadIn(`import ort from 'onnxruntime-node'; await ort.InferenceSession.create(${model});`);
    try {
      expect(await traces(ours)).toEqual({ store: false, debugLog: false });
      // The check can fail: the same load without the switch leaves both behind.
      expect(await traces(bare)).toEqual({ store: true, debugLog: true });
    } finally {
      for (const t of [ours, bare]) {
        await rm(t.home, { recursive: true, force: true });
        await rm(join(tmpdir(), `mat-debug-${t.pid}.log`), { force: true });
      }
    }
  });
});
