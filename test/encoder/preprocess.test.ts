import { describe, expect, it } from 'vitest';
import { solidPng } from '../../src/image/image-io.js';
import { fixedInputSize, imageToTensor, parsePreprocessorConfig, pixelsToTensor } from '../../src/encoder/preprocess.js';

const clip = {
  crop_size: 224,
  do_center_crop: true,
  do_normalize: true,
  do_resize: true,
  image_mean: [0.48145466, 0.4578275, 0.40821073],
  image_std: [0.26862954, 0.26130258, 0.27577711],
  resample: 3,
  size: 224,
};

describe('parsePreprocessorConfig', () => {
  it('reads the old CLIPFeatureExtractor form (bare numbers)', () => {
    const config = parsePreprocessorConfig(clip);
    expect(config.spec).toEqual({ shortestEdge: 224, crop: { width: 224, height: 224 }, kernel: 'cubic' });
    expect(config.rescale).toBeCloseTo(1 / 255, 12);
    expect(config.normalize?.mean).toEqual(clip.image_mean);
  });

  it('reads {shortest_edge} and {height, width} forms', () => {
    const config = parsePreprocessorConfig({ ...clip, size: { shortest_edge: 256 }, crop_size: { height: 224, width: 200 } });
    expect(config.spec).toMatchObject({ shortestEdge: 256, crop: { width: 200, height: 224 } });
    const exact = parsePreprocessorConfig({ ...clip, size: { height: 384, width: 384 }, do_center_crop: false });
    expect(exact.spec).toEqual({ resizeTo: { width: 384, height: 384 }, kernel: 'cubic' });
    expect(fixedInputSize(exact)).toEqual({ width: 384, height: 384 });
  });

  it('maps resample codes to kernels and honours the do_* switches', () => {
    expect(parsePreprocessorConfig({ ...clip, resample: 2 }).spec.kernel).toBe('linear');
    expect(parsePreprocessorConfig({ ...clip, resample: 0 }).spec.kernel).toBe('nearest');
    const raw = parsePreprocessorConfig({ ...clip, do_resize: false, do_center_crop: false, do_rescale: false, do_normalize: false });
    expect(raw).toEqual({ spec: { kernel: 'cubic' }, rescale: undefined, normalize: undefined });
    expect(fixedInputSize(raw)).toBeUndefined();
  });

  it('rejects what it cannot honour with MODEL_INVALID', () => {
    for (const bad of [{ ...clip, size: { longest_edge: 224 } }, { ...clip, resample: 9 }, { ...clip, image_std: [0, 1, 1] }, { ...clip, crop_size: 'big' }, []]) {
      expect(() => parsePreprocessorConfig(bad)).toThrow(expect.objectContaining({ code: 'MODEL_INVALID' }));
    }
  });
});

describe('image → tensor', () => {
  it('lays out channels first, rescaled and normalised', () => {
    const config = parsePreprocessorConfig({ ...clip, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] });
    const data = Buffer.from([255, 0, 51, 0, 255, 102]); // two pixels, RGB interleaved
    const tensor = pixelsToTensor({ data, width: 2, height: 1 }, config);
    expect(tensor.dims).toEqual([3, 1, 2]);
    const expected = [1, -1, -1, 1, -0.6, -0.2];
    Array.from(tensor.data).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
  });

  it('resizes by the shortest edge and centre-crops a real image', async () => {
    const config = parsePreprocessorConfig({ ...clip, size: { shortest_edge: 32 }, crop_size: { height: 32, width: 32 } });
    const tensor = await imageToTensor(await solidPng(90, 40, [255, 0, 0]), config);
    expect(tensor.dims).toEqual([3, 32, 32]);
    expect(tensor.data[0]).toBeCloseTo((1 - clip.image_mean[0]!) / clip.image_std[0]!, 4);
  });

  it('rejects bytes that are not an image with an IMAGE_* error', async () => {
    const config = parsePreprocessorConfig(clip);
    await expect(imageToTensor(new TextEncoder().encode('not an image at all'), config)).rejects.toMatchObject({ code: expect.stringMatching(/^IMAGE_/) });
  });
});
