import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxClipEncoder } from '../../src/encoder/onnx-clip-encoder.js';
import { ErrorCode } from '../../src/errors.js';
import { encodeIsolated } from '../../src/ingest/encode-isolated.js';
import { ingest } from '../../src/ingest/ingest.js';
import { reembed } from '../../src/ingest/reembed.js';
import { readSources } from '../../src/ingest/sources.js';
import { openReferent, openStores } from '../../src/open.js';
import { makeColourGallery, tempDir, testConfig, tinyModelDir } from '../support/fixtures.js';

describe('encodeIsolated', () => {
  let encoder: OnnxClipEncoder;
  beforeAll(async () => {
    encoder = await OnnxClipEncoder.create(tinyModelDir);
  });
  afterAll(() => encoder.close());

  it('gives the good images their own vectors and fails the bad ones alone', async () => {
    const dir = tempDir();
    await makeColourGallery(dir, 1, ['red', 'blue']);
    const red = fs.readFileSync(path.join(dir, 'red-1.png'));
    const blue = fs.readFileSync(path.join(dir, 'blue-1.png'));
    const earlier = { error: new Error('unreadable') };
    const out = await encodeIsolated(encoder, [red, Buffer.from('not an image'), earlier, blue]);
    const [alone] = await encoder.encodeImages([blue]);
    expect('vector' in out[0]!).toBe(true);
    expect(out[1]).toMatchObject({ error: { code: ErrorCode.ImageUnsupported } });
    expect(out[2]).toBe(earlier);
    expect(Array.from((out[3] as { vector: Float32Array }).vector)).toEqual(Array.from(alone!));
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('reembed', () => {
  it('switches the catalogue only once every item has a vector for the new model, and resumes', async () => {
    const dir = tempDir();
    const config = testConfig(path.join(dir, 'data'));
    const referent = await openReferent(config);
    const manifest = await makeColourGallery(path.join(dir, 'img'), 2, ['red', 'green']);
    await ingest(referent, await readSources(manifest), { collection: 'c', batchSize: 4, maxImageBytes: 1 << 20, maxTextChars: 100 });
    const lost = (await referent.catalog.getItem(1))!;
    // Media keys are the hash of the uploaded bytes, so uploading the source file again restores it.
    const sourceBytes = fs.readFileSync(path.join(dir, 'img', 'red-1.png'));
    expect(referent.media.hash(sourceBytes)).toBe(lost.mediaKey);
    await referent.shutdown();

    const stores = await openStores(config);
    const quantized = await OnnxClipEncoder.create(tinyModelDir, { variant: 'quantized' });
    try {
      await stores.media.remove(lost.mediaKey);
      const first = await reembed({ ...stores, encoder: quantized }, { batchSize: 3 });
      // Captions are re-embedded too (with their one-detail phrase), so references survive the switch.
      expect(first).toMatchObject({ embedded: 3, switched: false, droppedVectors: 0, embeddedTexts: 4 });
      expect(first.failed).toEqual([expect.objectContaining({ itemId: lost.id, code: ErrorCode.NotFound })]);
      expect((await stores.catalog.getModel())?.modelId).toBe('referent/tiny-clip-demo');

      await stores.media.put(sourceBytes);
      const second = await reembed({ ...stores, encoder: quantized }, { batchSize: 3 });
      // Dropped: 4 image vectors, 4 caption vectors and 4 phrase vectors of the old model.
      expect(second).toMatchObject({ embedded: 1, failed: [], switched: true, droppedVectors: 12, embeddedTexts: 0 });
      expect(await stores.catalog.getModel()).toEqual({ modelId: quantized.modelId, dim: quantized.dim });
      expect(await stores.catalog.countItemVectors(quantized.modelId)).toBe(4);
    } finally {
      await stores.close();
      await quantized.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
