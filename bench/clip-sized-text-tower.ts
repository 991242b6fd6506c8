/**
 * A same-shaped stand-in for CLIP ViT-B/16's text tower (HF CLIPTextModelWithProjection: 12 pre-LN
 * blocks, width 512, 8 heads, vocab 49408, 77 positions, 512-d projection), so benchmark timings of
 * query encoding are realistic where no real model can be downloaded. The weights are random
 * (seeded) and it computes nothing meaningful; only the cost of running it is representative.
 *
 * Written with the demo GraphBuilder, which emits opset 13 and int attributes only: LayerNorm is
 * therefore spelled out (ReduceMean/Sub/Pow/Add/Sqrt/Div/Mul/Add, as a PyTorch opset-13/14 export
 * writes it, with eps as a constant tensor) and ONNX Runtime's optimiser fuses it back into one
 * LayerNormalization kernel; QuickGELU (x·sigmoid(1.702x)) is likewise fused.
 */
import { endianness } from 'node:os';
import { mulberry32 } from '../src/random.js';
import { DType, GraphBuilder, float32Bytes } from '../scripts/tiny-clip/onnx-builder.js';

export interface ClipSizedTextTowerOptions {
  layers?: number;
  width?: number;
  heads?: number;
  vocab?: number;
  maxPositions?: number;
  projection?: number;
  seed?: number;
}

/** Additive mask value: large enough to zero a softmax term, small enough that two of them stay finite. */
const MASKED = -1e9;
const LITTLE_ENDIAN = endianness() === 'LE';

/** Builds the text tower and returns the serialised ONNX ModelProto. */
export function clipSizedTextTower(options: ClipSizedTextTowerOptions = {}): Uint8Array {
  const layers = options.layers ?? 12;
  const width = options.width ?? 512;
  const heads = options.heads ?? 8;
  const vocab = options.vocab ?? 49408;
  const maxPositions = options.maxPositions ?? 77;
  const projection = options.projection ?? 512;
  const seed = options.seed ?? 1;
  if (width % heads !== 0) throw new Error(`width ${width} is not divisible by heads ${heads}`);
  const headDim = width / heads;

  const g = new GraphBuilder('clip_sized_text_tower');
  const rng = mulberry32(seed);

  /** A float weight, uniform in ±scale (or a constant fill when scale is 0). */
  const param = (name: string, dims: readonly number[], scale: number, fill = 0): string => {
    const values = new Float32Array(dims.reduce((a, b) => a * b, 1));
    for (let i = 0; i < values.length; i++) values[i] = scale === 0 ? fill : (rng() * 2 - 1) * scale;
    // Float32Array's own bytes are the little-endian raw data ONNX wants on LE hosts (fast path for ~63M values).
    const raw = LITTLE_ENDIAN ? new Uint8Array(values.buffer) : float32Bytes(values);
    return g.weight(name, DType.float, dims, raw);
  };
  const scalar = (name: string, value: number): string => g.floats(name, [], [value]);

  const lastAxis = g.ints('last_axis', [-1]);
  const eps = scalar('ln_eps', 1e-5);
  const two = scalar('two', 2);
  const one = scalar('one', 1);

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
  /** x·W + b with W stored [in, out] (already transposed, as exports store it). */
  const linear = (x: string, prefix: string, inDim: number, outDim: number): string =>
    g.op('Add', [g.op('MatMul', [x, param(`${prefix}.weight`, [inDim, outDim], 0.02)]), param(`${prefix}.bias`, [outDim], 0.02)]);

  // Inputs.
  const ids = g.input('input_ids', DType.int64, ['batch_size', 'sequence_length']);
  const mask = g.input('attention_mask', DType.int64, ['batch_size', 'sequence_length']);
  const idsShape = g.op('Shape', [ids]);
  const seqLen = g.op('Slice', [idsShape, g.ints('one_i', [1]), g.ints('two_i', [2])]); // [S], 1-D
  const zero1 = g.ints('zero_1', [0]);

  // Embeddings: token table gathered by id, plus the first S rows of the position table.
  const tokenTable = param('embeddings.token_embedding.weight', [vocab, width], 0.02);
  const positionTable = param('embeddings.position_embedding.weight', [maxPositions, width], 0.01);
  const tokens = g.op('Gather', [tokenTable, ids], { axis: 0 });
  const positions = g.op('Slice', [positionTable, zero1, seqLen, zero1]);
  let hidden = g.op('Add', [tokens, positions]); // [B, S, W]

  // Attention bias [B, 1, S, S]: causal (slice of a precomputed [P, P] table) + padding from attention_mask.
  const causal = new Float32Array(maxPositions * maxPositions);
  for (let i = 0; i < maxPositions; i++) for (let j = i + 1; j < maxPositions; j++) causal[i * maxPositions + j] = MASKED;
  const causalTable = g.weight('causal_mask', DType.float, [maxPositions, maxPositions], float32Bytes(causal));
  const causalSS = g.op('Slice', [causalTable, g.ints('zero_2', [0, 0]), g.op('Concat', [seqLen, seqLen], { axis: 0 }), g.ints('axes_01', [0, 1])]);
  const maskFloat = g.op('Cast', [mask], { to: DType.float });
  const padding = g.op('Mul', [g.op('Sub', [one, maskFloat]), scalar('masked', MASKED)]); // [B, S]
  const padding4d = g.op('Unsqueeze', [padding, g.ints('axes_12', [1, 2])]); // [B, 1, 1, S]
  const attentionBias = g.op('Add', [causalSS, padding4d]);

  const splitHeads = g.ints('split_heads_shape', [0, 0, heads, headDim]);
  const mergeHeads = g.ints('merge_heads_shape', [0, 0, width]);
  const qScale = scalar('q_scale', headDim ** -0.5);
  const quickGeluAlpha = scalar('quick_gelu_alpha', 1.702);

  for (let l = 0; l < layers; l++) {
    const p = `encoder.layers.${l}`;
    // Self-attention.
    const a = layerNorm(hidden, `${p}.layer_norm1`);
    const q = g.op('Mul', [linear(a, `${p}.self_attn.q_proj`, width, width), qScale]);
    const k = linear(a, `${p}.self_attn.k_proj`, width, width);
    const v = linear(a, `${p}.self_attn.v_proj`, width, width);
    const qh = g.op('Transpose', [g.op('Reshape', [q, splitHeads])], { perm: [0, 2, 1, 3] }); // [B, H, S, D]
    const kt = g.op('Transpose', [g.op('Reshape', [k, splitHeads])], { perm: [0, 2, 3, 1] }); // [B, H, D, S]
    const vh = g.op('Transpose', [g.op('Reshape', [v, splitHeads])], { perm: [0, 2, 1, 3] }); // [B, H, S, D]
    const scores = g.op('Add', [g.op('MatMul', [qh, kt]), attentionBias]);
    const probs = g.op('Softmax', [scores], { axis: -1 });
    const context = g.op('Transpose', [g.op('MatMul', [probs, vh])], { perm: [0, 2, 1, 3] }); // [B, S, H, D]
    const attended = linear(g.op('Reshape', [context, mergeHeads]), `${p}.self_attn.out_proj`, width, width);
    hidden = g.op('Add', [hidden, attended]);
    // MLP with QuickGELU.
    const m = layerNorm(hidden, `${p}.layer_norm2`);
    const up = linear(m, `${p}.mlp.fc1`, width, 4 * width);
    const act = g.op('Mul', [up, g.op('Sigmoid', [g.op('Mul', [up, quickGeluAlpha])])]);
    hidden = g.op('Add', [hidden, linear(act, `${p}.mlp.fc2`, 4 * width, width)]);
  }
  const final = layerNorm(hidden, 'final_layer_norm');

  // Pool at the last attended position (the end-of-text token for right-padded input): index sum(mask) − 1.
  const lastIndex = g.op('Sub', [g.op('ReduceSum', [mask, g.ints('seq_axis', [1])], { keepdims: 1 }), g.ints('one_scalar_i', [1])]); // [B, 1]
  const gatherIndex = g.op('Expand', [g.op('Unsqueeze', [lastIndex, lastAxis]), g.ints('pool_shape', [1, 1, width])]); // [B, 1, W]
  const pooledRow = g.op('GatherElements', [final, gatherIndex], { axis: 1 }); // [B, 1, W]
  const pooled = g.op('Reshape', [pooledRow, g.ints('pooled_shape', [0, width])]); // [B, W]
  g.op('MatMul', [pooled, param('text_projection.weight', [width, projection], 0.02)], {}, 'text_embeds');
  g.output('text_embeds', DType.float, ['batch_size', projection]);

  return g.encode(
    `Random-weight stand-in with the shape of CLIP ViT-B/16's text tower (layers ${layers}, width ${width}, heads ${heads}, ` +
      `vocab ${vocab}, positions ${maxPositions}, projection ${projection}, seed ${seed}). For timing only: it computes nothing meaningful.`,
  );
}
