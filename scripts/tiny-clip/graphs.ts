/**
 * The two towers of the demo encoder as ONNX graphs, in three variants so variant selection and
 * the encoder's input/output handling are exercised by real files:
 * - `fp32`: the reference graphs (input_ids + attention_mask → text_embeds; pixel_values → image_embeds);
 * - `quantized`: the same graphs with uint8 weights behind DequantizeLinear (outputs differ slightly);
 * - `fp16`: float16 pixel_values in and float16 embeddings out (weights stay float32 inside), and a
 *   text tower with input_ids only, like exports that pool at the end token and need no mask
 *   (here the pad token's row is zero, so padding adds nothing to the sum).
 */
import { DType, GraphBuilder, quantizedWeight } from './onnx-builder.js';
import { DIM, SHARPNESS, type TinyClipWeights } from './weights.js';

export type Variant = 'fp32' | 'quantized' | 'fp16';

/** Adds a float weight, quantised for the `quantized` variant. */
function weight(g: GraphBuilder, variant: Variant, name: string, dims: readonly number[], values: readonly number[]): string {
  return variant === 'quantized' ? quantizedWeight(g, name, dims, values) : g.floats(name, dims, values);
}

/** Text tower: masked sum of token embeddings, then the projection. */
export function textGraph(w: TinyClipWeights, variant: Variant): Uint8Array {
  const g = new GraphBuilder('tiny_clip_text');
  const vocabSize = w.tokens.length / DIM;
  const ids = g.input('input_ids', DType.int64, ['batch_size', 'sequence_length']);
  const table = weight(g, variant, 'token_embedding', [vocabSize, DIM], w.tokens);
  let tokens = g.op('Gather', [table, ids], { axis: 0 });
  if (variant !== 'fp16') {
    const mask = g.input('attention_mask', DType.int64, ['batch_size', 'sequence_length']);
    const maskFloat = g.op('Cast', [mask], { to: DType.float });
    const mask3d = g.op('Unsqueeze', [maskFloat, g.ints('mask_axes', [2])]);
    tokens = g.op('Mul', [tokens, mask3d]);
  }
  const pooled = g.op('ReduceSum', [tokens, g.ints('sequence_axis', [1])], { keepdims: 0 });
  const projection = weight(g, variant, 'text_projection', [DIM, DIM], w.projection);
  if (variant === 'fp16') {
    const embeds = g.op('MatMul', [pooled, projection]);
    g.op('Cast', [embeds], { to: DType.float16 }, 'text_embeds');
    g.output('text_embeds', DType.float16, ['batch_size', DIM]);
  } else {
    g.op('MatMul', [pooled, projection], {}, 'text_embeds');
    g.output('text_embeds', DType.float, ['batch_size', DIM]);
  }
  return g.encode(`Referent demo encoder, text tower (${variant}). Not a real model: colour words align with colours.`);
}

/** Soft assignment of every pixel to the palette, averaged: a colour histogram [batch, K]. */
function colourHistogram(g: GraphBuilder, w: TinyClipWeights, pixels: string): string {
  const k = w.palette.length;
  const nhwc = g.op('Transpose', [pixels], { perm: [0, 2, 3, 1] });
  const flat = g.op('Reshape', [nhwc, g.ints('pixel_shape', [0, -1, 3])]);
  // −β‖x − c‖² = 2β x·c − β‖x‖² − β‖c‖², so one MatMul does all pixel-to-palette distances.
  const paletteT = g.floats('palette_t', [3, k], [0, 1, 2].flatMap((c) => w.palette.map((p) => p[c]!)));
  const cross = g.op('Mul', [g.op('MatMul', [flat, paletteT]), g.floats('two_beta', [], [2 * SHARPNESS])]);
  const sq = g.op('ReduceSum', [g.op('Mul', [flat, flat]), g.ints('channel_axis', [2])], { keepdims: 1 });
  const sqScaled = g.op('Mul', [sq, g.floats('minus_beta', [], [-SHARPNESS])]);
  const paletteSq = g.floats('palette_sq', [k], w.palette.map((p) => -SHARPNESS * p.reduce((s, x) => s + x * x, 0)));
  const logits = g.op('Add', [g.op('Add', [cross, sqScaled]), paletteSq]);
  const assignment = g.op('Softmax', [logits], { axis: -1 });
  return g.op('ReduceMean', [assignment], { axes: [1], keepdims: 0 });
}

/** Vision tower: colour histogram → colour rows, plus quadrant contrasts → layout rows, then the projection. */
export function visionGraph(w: TinyClipWeights, variant: Variant, size: number): Uint8Array {
  const g = new GraphBuilder('tiny_clip_vision');
  const inputType = variant === 'fp16' ? DType.float16 : DType.float;
  let pixels = g.input('pixel_values', inputType, ['batch_size', 3, size, size]);
  if (variant === 'fp16') pixels = g.op('Cast', [pixels], { to: DType.float });
  const k = w.palette.length;
  const colour = g.op('MatMul', [colourHistogram(g, w, pixels), weight(g, variant, 'colour_rows', [k, DIM], w.colours)]);
  const half = size / 2;
  const quadrants = g.op('AveragePool', [pixels], { kernel_shape: [half, half], strides: [half, half] });
  const quadrantsFlat = g.op('Reshape', [quadrants, g.ints('quadrant_shape', [0, 12])]);
  const layout = g.op('MatMul', [quadrantsFlat, weight(g, variant, 'layout_rows', [12, DIM], w.layout)]);
  const projection = weight(g, variant, 'visual_projection', [DIM, DIM], w.projection);
  const embeds = g.op('MatMul', [g.op('Add', [colour, layout]), projection], {}, variant === 'fp16' ? undefined : 'image_embeds');
  if (variant === 'fp16') g.op('Cast', [embeds], { to: DType.float16 }, 'image_embeds');
  g.output('image_embeds', inputType, ['batch_size', DIM]);
  return g.encode(`Referent demo encoder, vision tower (${variant}). Not a real model: it sees colours only.`);
}
