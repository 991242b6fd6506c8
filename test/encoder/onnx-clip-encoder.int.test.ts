import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePixels, solidPng } from '../../src/image/image-io.js';
import { OnnxClipEncoder } from '../../src/encoder/onnx-clip-encoder.js';
import { ClipTokenizer } from '../../src/encoder/tokenizer.js';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'tiny-clip');

const COLOURS = { red: [255, 0, 0], green: [0, 170, 0], blue: [0, 0, 255] } as const;
type Colour = keyof typeof COLOURS;

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** A picture of one colour with seeded noise, so no two test pictures are the same. */
async function noisyPng(rgb: readonly number[], seed: number, width = 48, height = 40): Promise<Buffer> {
  let state = seed;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    data[i] = Math.max(0, Math.min(255, rgb[i % 3]! + ((state >> 16) % 41) - 20));
  }
  return encodePixels({ data, width, height, channels: 3 }, 'png');
}

async function errorCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

describe('OnnxClipEncoder with the tiny demo model', () => {
  let encoder: OnnxClipEncoder;
  let images: Record<Colour, Float32Array>;
  const scratch: string[] = [];

  beforeAll(async () => {
    encoder = await OnnxClipEncoder.create(fixture);
    const names = Object.keys(COLOURS) as Colour[];
    const vectors = await encoder.encodeImages(await Promise.all(names.map((n) => solidPng(64, 48, [...COLOURS[n]]))));
    images = Object.fromEntries(names.map((n, i) => [n, vectors[i]!])) as Record<Colour, Float32Array>;
  });

  afterAll(async () => {
    await encoder.close();
    await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
  });

  async function copyOfFixture(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'tiny-clip-copy-'));
    scratch.push(dir);
    await cp(fixture, dir, { recursive: true });
    return dir;
  }

  /** Colours ordered by similarity to a text, best first. */
  async function rank(text: string): Promise<Colour[]> {
    const [t] = await encoder.encodeTexts([text]);
    return (Object.keys(images) as Colour[]).sort((a, b) => dot(t!, images[b]) - dot(t!, images[a]));
  }

  it('identifies itself as the demo encoder', () => {
    expect(encoder.isDemo).toBe(true);
    expect(encoder.displayName).toMatch(/demo encoder/);
    expect(encoder.modelId).toBe('referent/tiny-clip-demo');
    expect(encoder.dim).toBe(64);
  });

  it('returns unit vectors of the declared size', async () => {
    const vectors = [...(await encoder.encodeTexts(['red', 'a brass elbow fitting'])), ...Object.values(images)];
    for (const v of vectors) {
      expect(v).toHaveLength(encoder.dim);
      expect(Math.sqrt(dot(v, v))).toBeCloseTo(1, 5);
    }
  });

  it('ranks pictures of the named colour first', async () => {
    expect(await rank('red')).toEqual(['red', expect.any(String), expect.any(String)]);
    expect((await rank('green'))[0]).toBe('green');
    expect((await rank('blue'))[0]).toBe('blue');
  });

  it('still ranks by colour inside a longer description', async () => {
    expect((await rank('a red hex bolt'))[0]).toBe('red');
    expect((await rank('Woman in a GREEN jacket, grey backpack'))[0]).toBe('green');
  });

  it('gives the same vectors in a batch as one at a time', async () => {
    const texts = ['red', 'a blue hex bolt, zinc', 'green', 'brass elbow fitting 1/2 inch two threaded ends', ''];
    const pictures = await Promise.all([noisyPng(COLOURS.red, 1), noisyPng(COLOURS.blue, 2), solidPng(30, 70, [200, 200, 40]), noisyPng(COLOURS.green, 3, 100, 20)]);
    const small = await OnnxClipEncoder.create(fixture, { batchSize: 2 });
    try {
      const batched = [...(await small.encodeTexts(texts)), ...(await small.encodeImages(pictures))];
      const single = [
        ...(await Promise.all(texts.map(async (t) => (await encoder.encodeTexts([t]))[0]!))),
        ...(await Promise.all(pictures.map(async (p) => (await encoder.encodeImages([p]))[0]!))),
      ];
      batched.forEach((v, i) => v.forEach((x, j) => expect(Math.abs(x - single[i]![j]!)).toBeLessThan(1e-5)));
    } finally {
      await small.close();
    }
  });

  it('truncates a very long text, keeping the end token, without failing', async () => {
    const long = `red ${'hex bolt with threads '.repeat(400)}`;
    const tokenizer = await ClipTokenizer.load(fixture);
    const ids = tokenizer.ids(long);
    expect(ids).toHaveLength(tokenizer.contextLength);
    expect(ids.at(-1)).toBe(tokenizer.tokenId('<|endoftext|>'));
    const [v] = await encoder.encodeTexts([long]);
    expect(Math.sqrt(dot(v!, v!))).toBeCloseTo(1, 5);
    expect((await rank(long))[0]).toBe('red');
  });

  it('returns [] for empty input', async () => {
    expect(await encoder.encodeTexts([])).toEqual([]);
    expect(await encoder.encodeImages([])).toEqual([]);
  });

  it('loads the quantized and fp16 variants, which agree with fp32', async () => {
    const [reference] = await encoder.encodeTexts(['a red bolt']);
    for (const variant of ['quantized', 'fp16']) {
      const other = await OnnxClipEncoder.create(fixture, { variant });
      try {
        expect(other.modelId).toBe(`referent/tiny-clip-demo:${variant}`);
        expect(other.displayName).toMatch(/demo encoder/);
        const [text] = await other.encodeTexts(['a red bolt']);
        expect(dot(text!, reference!)).toBeGreaterThan(0.99);
        const pictures = await other.encodeImages([await solidPng(40, 40, [255, 0, 0]), await solidPng(40, 40, [0, 0, 255])]);
        expect(dot(text!, pictures[0]!)).toBeGreaterThan(dot(text!, pictures[1]!));
      } finally {
        await other.close();
      }
    }
  });

  it('uses the model id given in the options', async () => {
    const named = await OnnxClipEncoder.create(fixture, { modelId: 'site/colours-v1', variant: 'quantized' });
    expect(named.modelId).toBe('site/colours-v1:quantized');
    await named.close();
  });

  it('reports a missing file as MODEL_INCOMPLETE, naming it', async () => {
    const dir = await copyOfFixture();
    await rm(join(dir, 'onnx', 'vision_model.onnx'));
    const err = await OnnxClipEncoder.create(dir).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'MODEL_INCOMPLETE', details: { dir, missing: ['onnx/vision_model.onnx'] } });
    expect(await errorCode(OnnxClipEncoder.create(fixture, { variant: 'q4' }))).toBe('MODEL_INCOMPLETE');
  });

  it('reports a missing folder as MODEL_NOT_FOUND and damaged files as MODEL_INVALID', async () => {
    expect(await errorCode(OnnxClipEncoder.create(join(fixture, 'nowhere')))).toBe('MODEL_NOT_FOUND');
    const broken = await copyOfFixture();
    await writeFile(join(broken, 'onnx', 'text_model.onnx'), 'truncated');
    expect(await errorCode(OnnxClipEncoder.create(broken))).toBe('MODEL_INVALID');
    const badConfig = await copyOfFixture();
    await writeFile(join(badConfig, 'config.json'), '{ not json');
    expect(await errorCode(OnnxClipEncoder.create(badConfig))).toBe('MODEL_INVALID');
    const wrongDim = await copyOfFixture();
    await writeFile(join(wrongDim, 'config.json'), JSON.stringify({ model_type: 'clip', projection_dim: 512 }));
    expect(await errorCode(OnnxClipEncoder.create(wrongDim))).toBe('MODEL_INVALID');
  });

  it('rejects bytes that are not an image with an IMAGE_* code', async () => {
    const code = await errorCode(encoder.encodeImages([new TextEncoder().encode('<html>not a picture</html>')]));
    expect(code).toMatch(/^IMAGE_/);
    expect(await errorCode(encoder.encodeImages([new Uint8Array(0)]))).toBe('IMAGE_EMPTY');
  });

  it('refuses to work after close', async () => {
    const closing = await OnnxClipEncoder.create(fixture);
    await closing.close();
    await closing.close();
    expect(await errorCode(closing.encodeTexts(['red']))).toBe('USAGE_INVALID');
  });
});
