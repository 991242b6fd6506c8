/**
 * The graphs behind `npm run bench:ingest`, on a small shape so they run in a moment: the ViT-shaped
 * vision tower loads through the project's OnnxSession with the names a Hugging Face export uses and
 * treats each image of a batch on its own; the dynamic quantiser rewrites the graph into the integer
 * form quantize_dynamic writes and keeps its outputs close to float. The bench itself is not run
 * here: benchmarks print figures and never fail a test run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, describe, expect, it } from 'vitest';
import { clipSizedVisionTower } from '../../bench/clip-sized-vision-tower.js';
import { quantizeDynamic, quantizeWeightInt8, quantizeWeightUint8, type QuantizeSummary } from '../../bench/quantize-dynamic.js';
import { OnnxSession } from '../../src/encoder/onnx-runtime.js';
import { mulberry32 } from '../../src/random.js';

const { onnx } = onnxProto;
const SMALL = { imageSize: 32, patch: 16, layers: 2, width: 64, heads: 4, mlp: 256, projection: 32 };
const PIXELS = 3 * 32 * 32;
const dir = mkdtempSync(join(tmpdir(), 'referent-bench-graphs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fp32 = clipSizedVisionTower(SMALL);

async function embed(bytes: Uint8Array, name: string, images: Float32Array, batch: number): Promise<Float32Array> {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  const session = await OnnxSession.open(path, { threads: 1 });
  try {
    return (await session.run({ pixel_values: { type: 'float32', data: images, dims: [batch, 3, 32, 32] } }, ['image_embeds'])).image_embeds!.data;
  } finally {
    await session.close();
  }
}

function pixels(batch: number, seed: number): Float32Array {
  const rng = mulberry32(seed);
  return Float32Array.from({ length: batch * PIXELS }, () => rng() * 4 - 2);
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

const opTypes = (bytes: Uint8Array) => onnx.ModelProto.decode(bytes).graph!.node!.map((n) => n.opType);

describe('the ViT-shaped vision tower stand-in', () => {
  it('takes pixel_values with a dynamic batch and gives image_embeds as an export names them', async () => {
    const path = join(dir, 'shape.onnx');
    writeFileSync(path, fp32);
    const session = await OnnxSession.open(path, { threads: 1 });
    try {
      expect(session.inputs).toEqual([{ name: 'pixel_values', type: 'float32', shape: ['batch_size', 3, 32, 32] }]);
      expect(session.outputs.map((o) => [o.name, o.shape])).toEqual([
        ['image_embeds', ['batch_size', 32]],
        ['last_hidden_state', ['batch_size', 5, 64]],
      ]);
    } finally {
      await session.close();
    }
  });

  it('embeds each image of a batch as it embeds it alone, and different images differently', async () => {
    const images = pixels(3, 1);
    const batched = await embed(fp32, 'batch.onnx', images, 3);
    expect(batched.every(Number.isFinite)).toBe(true);
    for (let i = 0; i < 3; i++) {
      const alone = await embed(fp32, 'batch.onnx', images.slice(i * PIXELS, (i + 1) * PIXELS), 1);
      const row = batched.subarray(i * 32, (i + 1) * 32);
      for (let j = 0; j < 32; j++) expect(row[j]).toBeCloseTo(alone[j]!, 4);
    }
    expect(cosine(batched.subarray(0, 32), batched.subarray(32, 64))).toBeLessThan(0.9999);
  });
});

describe('quantizeDynamic', () => {
  it('writes MatMulInteger and ConvInteger behind DynamicQuantizeLinear, one per activation, and keeps no float weight MatMul', () => {
    const summary = {} as QuantizeSummary;
    const ops = opTypes(quantizeDynamic(fp32, { summary }));
    // Per block: q, k, v, out, fc1, fc2; then the projection; and the patch convolution.
    expect(summary.quantized).toBe(2 * 6 + 1 + 1);
    expect(ops.filter((o) => o === 'MatMulInteger')).toHaveLength(2 * 6 + 1);
    expect(ops.filter((o) => o === 'ConvInteger')).toHaveLength(1);
    expect(ops).not.toContain('Conv');
    // q, k and v share one quantised input; attention's two activation products stay float MatMuls.
    expect(ops.filter((o) => o === 'DynamicQuantizeLinear')).toHaveLength(2 * 4 + 1 + 1);
    expect(ops.filter((o) => o === 'MatMul')).toHaveLength(2 * 2);
  });

  it('stores int8 weights on the MatMuls only when asked, leaving the Conv in float', () => {
    const model = onnx.ModelProto.decode(quantizeDynamic(fp32, { weightType: 'int8', opTypes: ['MatMul'] }));
    const ops = model.graph!.node!.map((n) => n.opType);
    expect(ops).toContain('Conv');
    expect(ops).not.toContain('ConvInteger');
    const weights = model.graph!.initializer!.filter((t) => t.name!.endsWith('_quantized'));
    expect(weights.length).toBe(2 * 6 + 1);
    expect(weights.every((t) => t.dataType === 3)).toBe(true);
  });

  it('keeps the embeddings close to float for both weight types', async () => {
    const images = pixels(4, 2);
    const reference = await embed(fp32, 'fp32.onnx', images, 4);
    for (const [name, bytes] of [
      ['uint8.onnx', quantizeDynamic(fp32)],
      ['int8.onnx', quantizeDynamic(fp32, { weightType: 'int8', opTypes: ['MatMul'] })],
    ] as const) {
      const out = await embed(bytes, name, images, 4);
      for (let i = 0; i < 4; i++) expect(cosine(out.subarray(i * 32, (i + 1) * 32), reference.subarray(i * 32, (i + 1) * 32)), name).toBeGreaterThan(0.99);
    }
  });

  it('refuses bytes that are not a model', () => {
    expect(() => quantizeDynamic(new Uint8Array([1, 2, 3]))).toThrow();
  });
});

describe('per-tensor weight quantisation', () => {
  const values = Float32Array.from([-0.5, -0.1, 0, 0.02, 0.3, 1.2]);

  it('uint8: zero stays exact and every value comes back within half a step', () => {
    const { bytes, scale, zeroPoint } = quantizeWeightUint8(values);
    expect((bytes[2]! - zeroPoint) * scale).toBe(0);
    values.forEach((v, i) => expect(Math.abs((bytes[i]! - zeroPoint) * scale - v)).toBeLessThanOrEqual(scale / 2 + 1e-7));
    expect(Math.max(...bytes)).toBe(255);
  });

  it('int8: symmetric around a zero point of 0, within half a step', () => {
    const { bytes, scale, zeroPoint } = quantizeWeightInt8(values);
    const q = new Int8Array(bytes.buffer);
    expect(zeroPoint).toBe(0);
    expect(q[2]).toBe(0);
    values.forEach((v, i) => expect(Math.abs(q[i]! * scale - v)).toBeLessThanOrEqual(scale / 2 + 1e-7));
  });
});
