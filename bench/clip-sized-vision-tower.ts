/**
 * A same-shaped stand-in for CLIP ViT-B/16's vision tower (HF CLIPVisionModelWithProjection: 16×16
 * patch convolution on 3×224×224, class token, 197 positions, pre_layrnorm, 12 pre-LN blocks of width
 * 768 with 12 heads and a 3072 QuickGELU MLP, post_layernorm on the class token, 768→512 projection),
 * so ingest benchmarks time a real-sized image encoder where no real model can be downloaded. The
 * weights are random (seeded) and it computes nothing meaningful; only the cost of running it is
 * representative. Inputs and outputs carry the names a Hugging Face ONNX export gives them
 * (`pixel_values` → `image_embeds`, `last_hidden_state`), so the production encoder loads it as is.
 *
 * Written with the demo GraphBuilder as the text-tower stand-in is (clip-sized-text-tower.ts):
 * opset 13, LayerNorm spelled out as a PyTorch export writes it and fused back by ONNX Runtime.
 */
import { endianness } from 'node:os';
import { mulberry32 } from '../src/random.js';
import { DType, GraphBuilder, float32Bytes, int64Bytes } from '../scripts/tiny-clip/onnx-builder.js';

export interface ClipSizedVisionTowerOptions {
  imageSize?: number;
  patch?: number;
  layers?: number;
  width?: number;
  heads?: number;
  mlp?: number;
  projection?: number;
  seed?: number;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** The shape of CLIP ViT-B/16's vision tower with every default filled in. */
export function visionTowerShape(options: ClipSizedVisionTowerOptions = {}) {
  return {
    imageSize: options.imageSize ?? 224,
    patch: options.patch ?? 16,
    layers: options.layers ?? 12,
    width: options.width ?? 768,
    heads: options.heads ?? 12,
    mlp: options.mlp ?? 3072,
    projection: options.projection ?? 512,
    seed: options.seed ?? 1,
  };
}

/** Builds the vision tower and returns the serialised ONNX ModelProto. */
export function clipSizedVisionTower(options: ClipSizedVisionTowerOptions = {}): Uint8Array {
  const { imageSize, patch, layers, width, heads, mlp, projection, seed } = visionTowerShape(options);
  if (width % heads !== 0) throw new Error(`width ${width} is not divisible by heads ${heads}`);
  if (layers < 1) throw new Error('the vision tower needs at least one layer');
  if (imageSize % patch !== 0) throw new Error(`image size ${imageSize} is not divisible by patch ${patch}`);
  const headDim = width / heads;
  const positions = (imageSize / patch) ** 2 + 1;

  const g = new GraphBuilder('clip_sized_vision_tower');
  const rng = mulberry32(seed);

  /** A float weight, uniform in ±scale (or a constant fill when scale is 0). */
  const param = (name: string, dims: readonly number[], scale: number, fill = 0): string => {
    const values = new Float32Array(dims.reduce((a, b) => a * b, 1));
    for (let i = 0; i < values.length; i++) values[i] = scale === 0 ? fill : (rng() * 2 - 1) * scale;
    const raw = LITTLE_ENDIAN ? new Uint8Array(values.buffer) : float32Bytes(values);
    return g.weight(name, DType.float, dims, raw);
  };
  const scalar = (name: string, value: number): string => g.floats(name, [], [value]);
  const eps = scalar('ln_eps', 1e-5);
  const two = scalar('two', 2);

  /** LayerNorm over the last axis, decomposed the way a PyTorch opset-13 export writes it. */
  const layerNorm = (x: string, prefix: string): string => {
    const gamma = param(`${prefix}.weight`, [width], 0, 1);
    const beta = param(`${prefix}.bias`, [width], 0, 0);
    const mean = g.op('ReduceMean', [x], { axes: [-1], keepdims: 1 });
    const centred = g.op('Sub', [x, mean]);
    const variance = g.op('ReduceMean', [g.op('Pow', [centred, two])], { axes: [-1], keepdims: 1 });
    const std = g.op('Sqrt', [g.op('Add', [variance, eps])]);
    return g.op('Add', [g.op('Mul', [g.op('Div', [centred, std]), gamma]), beta]);
  };
  /**
   * x·W + b with W stored [in, out] (already transposed, as exports store it). W's standard deviation
   * is 1/√in, about what trained CLIP weights have: smaller weights would leave attention uniform and
   * every photo's embedding nearly the same, which would make the int8 agreement figure say nothing.
   */
  const uniformFor = (inDim: number) => Math.sqrt(3 / inDim);
  const linear = (x: string, prefix: string, inDim: number, outDim: number): string =>
    g.op('Add', [g.op('MatMul', [x, param(`${prefix}.weight`, [inDim, outDim], uniformFor(inDim))]), param(`${prefix}.bias`, [outDim], 0.02)]);

  // Patch embedding: a 16×16 stride-16 convolution without bias, flattened to [B, 196, W].
  const pixels = g.input('pixel_values', DType.float, ['batch_size', 3, imageSize, imageSize]);
  const patchWeight = param('embeddings.patch_embedding.weight', [width, 3, patch, patch], uniformFor(3 * patch * patch));
  const grid = g.op('Conv', [pixels, patchWeight], { kernel_shape: [patch, patch], strides: [patch, patch] }); // [B, W, 14, 14]
  const patches = g.op('Transpose', [g.op('Reshape', [grid, g.ints('flatten_patches', [0, width, -1])])], { perm: [0, 2, 1] });

  // Class token, expanded to the batch and put in front; then the 197 position embeddings.
  const batch = g.op('Slice', [g.op('Shape', [pixels]), g.ints('zero_i', [0]), g.ints('one_i', [1])]); // [B], 1-D
  const classShape = g.op('Concat', [batch, g.ints('class_tail', [1, width])], { axis: 0 });
  const classEmbedding = param('embeddings.class_embedding', [1, 1, width], 0.02);
  const classTokens = g.op('Expand', [classEmbedding, classShape]); // [B, 1, W]
  const tokens = g.op('Concat', [classTokens, patches], { axis: 1 }); // [B, 197, W]
  const embedded = g.op('Add', [tokens, param('embeddings.position_embedding.weight', [positions, width], 0.02)]);
  let hidden = layerNorm(embedded, 'pre_layrnorm');

  const splitHeads = g.ints('split_heads_shape', [0, 0, heads, headDim]);
  const mergeHeads = g.ints('merge_heads_shape', [0, 0, width]);
  const qScale = scalar('q_scale', headDim ** -0.5);
  const quickGeluAlpha = scalar('quick_gelu_alpha', 1.702);

  for (let l = 0; l < layers; l++) {
    const p = `encoder.layers.${l}`;
    // Self-attention over all 197 tokens (no mask in a vision tower).
    const a = layerNorm(hidden, `${p}.layer_norm1`);
    const q = g.op('Mul', [linear(a, `${p}.self_attn.q_proj`, width, width), qScale]);
    const k = linear(a, `${p}.self_attn.k_proj`, width, width);
    const v = linear(a, `${p}.self_attn.v_proj`, width, width);
    const qh = g.op('Transpose', [g.op('Reshape', [q, splitHeads])], { perm: [0, 2, 1, 3] }); // [B, H, S, D]
    const kt = g.op('Transpose', [g.op('Reshape', [k, splitHeads])], { perm: [0, 2, 3, 1] }); // [B, H, D, S]
    const vh = g.op('Transpose', [g.op('Reshape', [v, splitHeads])], { perm: [0, 2, 1, 3] }); // [B, H, S, D]
    const probs = g.op('Softmax', [g.op('MatMul', [qh, kt])], { axis: -1 });
    const context = g.op('Transpose', [g.op('MatMul', [probs, vh])], { perm: [0, 2, 1, 3] }); // [B, S, H, D]
    const attended = linear(g.op('Reshape', [context, mergeHeads]), `${p}.self_attn.out_proj`, width, width);
    hidden = g.op('Add', [hidden, attended]);
    // MLP with QuickGELU.
    const m = layerNorm(hidden, `${p}.layer_norm2`);
    const up = linear(m, `${p}.mlp.fc1`, width, mlp);
    const act = g.op('Mul', [up, g.op('Sigmoid', [g.op('Mul', [up, quickGeluAlpha])])]);
    const last = l === layers - 1;
    hidden = g.op('Add', [hidden, linear(act, `${p}.mlp.fc2`, mlp, width)], {}, last ? 'last_hidden_state' : undefined);
  }

  // Pool the class token, post_layernorm, project.
  const classIndex = g.weight('class_index', DType.int64, [], int64Bytes([0]));
  const pooled = layerNorm(g.op('Gather', [hidden, classIndex], { axis: 1 }), 'post_layernorm'); // [B, W]
  g.op('MatMul', [pooled, param('visual_projection.weight', [width, projection], uniformFor(width))], {}, 'image_embeds');
  g.output('image_embeds', DType.float, ['batch_size', projection]);
  g.output('last_hidden_state', DType.float, ['batch_size', positions, width]);

  return g.encode(
    `Random-weight stand-in with the shape of CLIP ViT-B/16's vision tower (image ${imageSize}, patch ${patch}, layers ${layers}, ` +
      `width ${width}, heads ${heads}, mlp ${mlp}, projection ${projection}, seed ${seed}). For timing only: it computes nothing meaningful.`,
  );
}
