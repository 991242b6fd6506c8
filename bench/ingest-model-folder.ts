/**
 * A model folder in the Hugging Face ONNX layout whose towers have CLIP ViT-B/16's exact shapes
 * (random weights: clip-sized-vision-tower.ts, clip-sized-text-tower.ts), so the production encoder
 * and `referent ingest` load it as they would load Xenova/clip-vit-base-patch16, in three variants
 * (quantize-dynamic.ts):
 *
 * - fp32: `onnx/<tower>_model.onnx`;
 * - quantized: `*_quantized.onnx` as transformers.js's converter writes them: the vision tower, which
 *   has a Conv, with uint8 weights (MatMul and Conv), the text tower with int8 weights;
 * - qint8: int8 weights on the MatMuls only, Conv left in float, what
 *   `quantize_dynamic(weight_type=QInt8, op_types_to_quantize=['MatMul'])` writes: ONNX Runtime's
 *   faster u8×s8 kernels on x86, for a comparison (no published export is known to ship it).
 *
 * Its preprocessor_config.json is CLIP's (shortest edge 224, bicubic, centre crop 224, CLIP
 * mean/std); the tokenizer files are the demo encoder's (the text tower is loaded and warmed up,
 * never timed). About 1 GB; written once under os.tmpdir() and reused while its marker says it
 * is complete.
 */
import { copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clipSizedTextTower } from './clip-sized-text-tower.js';
import { clipSizedVisionTower, visionTowerShape } from './clip-sized-vision-tower.js';
import { quantizeDynamic } from './quantize-dynamic.js';

/** Bumped whenever a tower or the quantiser changes, so an old folder is written again. */
const VERSION = 3;
const MARKER = '.bench-model-complete';
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];
const DEMO_MODEL = fileURLToPath(new URL('../test/fixtures/tiny-clip/', import.meta.url));
export const BENCH_MODEL_ID = 'referent-bench/clip-vit-b16-shaped-random';

const CLIP_PREPROCESSOR = {
  crop_size: { height: 224, width: 224 },
  do_center_crop: true,
  do_convert_rgb: true,
  do_normalize: true,
  do_rescale: true,
  do_resize: true,
  image_mean: [0.48145466, 0.4578275, 0.40821073],
  image_processor_type: 'CLIPImageProcessor',
  image_std: [0.26862954, 0.26130258, 0.27577711],
  resample: 3,
  rescale_factor: 1 / 255,
  size: { shortest_edge: 224 },
};

function configJson(): unknown {
  const v = visionTowerShape();
  return {
    _name_or_path: BENCH_MODEL_ID,
    architectures: ['CLIPModel'],
    model_type: 'clip',
    projection_dim: v.projection,
    referent_note: 'Random weights with the shape of CLIP ViT-B/16, for ingest benchmarks only: its embeddings mean nothing.',
    text_config: { model_type: 'clip_text_model', hidden_size: 512, num_hidden_layers: 12, num_attention_heads: 8, vocab_size: 49408, max_position_embeddings: 77 },
    vision_config: {
      model_type: 'clip_vision_model',
      image_size: v.imageSize,
      patch_size: v.patch,
      hidden_size: v.width,
      intermediate_size: v.mlp,
      num_hidden_layers: v.layers,
      num_attention_heads: v.heads,
      hidden_act: 'quick_gelu',
    },
  };
}

export function defaultModelCache(): string {
  return join(tmpdir(), 'referent-bench-ingest', `model-v${VERSION}`);
}

async function complete(dir: string): Promise<boolean> {
  const marker = await readFile(join(dir, MARKER), 'utf8').catch(() => '');
  return marker.trim() === String(VERSION);
}

/** Writes one file under a temporary name first, so a half-written tower is never taken for one. */
async function put(path: string, bytes: Uint8Array | string): Promise<void> {
  await writeFile(`${path}.partial`, bytes);
  await rename(`${path}.partial`, path);
}

/** The folder, written unless already complete. Returns its path. */
export async function benchModelFolder(dir = defaultModelCache(), log: (line: string) => void = () => {}): Promise<string> {
  if (await complete(dir)) return dir;
  log(`  writing the ViT-B/16-shaped model folder (fp32, quantized, qint8: about 1 GB) into ${dir}…`);
  await rm(dir, { recursive: true, force: true });
  if (dir === defaultModelCache()) {
    // Folders of earlier versions are never read again.
    const stale = (await readdir(dirname(dir)).catch(() => [] as string[])).filter((n) => /^model-v\d+$/.test(n));
    for (const name of stale) await rm(join(dirname(dir), name), { recursive: true, force: true });
  }
  await mkdir(join(dir, 'onnx'), { recursive: true });
  await put(join(dir, 'config.json'), `${JSON.stringify(configJson(), null, 2)}\n`);
  await put(join(dir, 'preprocessor_config.json'), `${JSON.stringify(CLIP_PREPROCESSOR, null, 2)}\n`);
  for (const f of TOKENIZER_FILES) await copyFile(join(DEMO_MODEL, f), join(dir, f));
  // One tower at a time, so at most one fp32 graph and a quantised copy are in memory together.
  for (const [tower, build] of [['vision', clipSizedVisionTower], ['text', clipSizedTextTower]] as const) {
    const fp32 = build();
    await put(join(dir, 'onnx', `${tower}_model.onnx`), fp32);
    const quantized = tower === 'vision' ? quantizeDynamic(fp32) : quantizeDynamic(fp32, { weightType: 'int8' });
    await put(join(dir, 'onnx', `${tower}_model_quantized.onnx`), quantized);
    await put(join(dir, 'onnx', `${tower}_model_qint8.onnx`), quantizeDynamic(fp32, { weightType: 'int8', opTypes: ['MatMul'] }));
  }
  await writeFile(join(dir, MARKER), `${VERSION}\n`);
  return dir;
}
