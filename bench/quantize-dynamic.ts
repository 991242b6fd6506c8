/**
 * Dynamic int8 quantisation of an ONNX graph, in the form onnxruntime's `quantize_dynamic` writes
 * the `*_quantized.onnx` files of Hugging Face / transformers.js exports (QOperator format):
 *
 *   MatMul(x, W)  →  DynamicQuantizeLinear(x) → MatMulInteger(x_q, W_q, x_zp, W_zp) → Cast(float) → Mul(x_scale · W_scale)
 *   Conv(x, W[, b]) → the same with ConvInteger (and the bias added back in float)
 *
 * Only MatMuls whose weight (input B) is a constant are quantised, as `quantize_dynamic` does by
 * default (MatMulConstBOnly): attention's activation × activation products stay in float. One scale
 * and zero point per tensor (per_channel off). Weights are uint8 and asymmetric by default, which is
 * what transformers.js's converter picks for a graph with a Conv (a vision tower: ConvInteger takes
 * uint8 weights only); `weightType: 'int8'` gives signed symmetric weights (QInt8), which it picks
 * for the others (a text tower), ConvInteger still getting uint8. An activation feeding several
 * MatMuls (q, k and v) is quantised once. ONNX Runtime's own optimiser then fuses these chains into
 * DynamicQuantizeMatMul / MatMulIntegerToFloat kernels, as it does for a real export. A benchmark
 * tool: it works on any graph the demo GraphBuilder writes, and on exports alike.
 */
import onnxProto from 'onnx-proto';
import type { onnx as proto } from 'onnx-proto';

const { onnx } = onnxProto;
const FLOAT = 1;
const UINT8 = 2;
const INT8 = 3;

type Long = { toNumber(): number };
type Dim = number | Long;

export interface QuantizeOptions {
  /** Element type of MatMul weights (default uint8); Conv weights are always uint8. */
  weightType?: 'uint8' | 'int8';
  /** Operators to quantise (default both), as quantize_dynamic's op_types_to_quantize. */
  opTypes?: ReadonlyArray<'MatMul' | 'Conv'>;
  /** Filled with what was rewritten. */
  summary?: QuantizeSummary;
}

export interface QuantizeSummary {
  /** MatMul and Conv nodes rewritten to their integer forms. */
  quantized: number;
  /** Float weight values replaced by uint8 ones. */
  weightValues: number;
}

function dimsOf(tensor: proto.ITensorProto): number[] {
  return (tensor.dims ?? []).map((d: Dim) => (typeof d === 'number' ? d : d.toNumber()));
}

/** A float initializer's values (copied: raw bytes inside a decoded buffer need not be 4-byte aligned). */
function floatValues(tensor: proto.ITensorProto): Float32Array {
  if (tensor.rawData && tensor.rawData.length > 0) {
    const raw = tensor.rawData;
    const copy = new Uint8Array(raw.length);
    copy.set(raw);
    const view = new DataView(copy.buffer);
    const out = new Float32Array(raw.length / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  return Float32Array.from(tensor.floatData ?? []);
}

/** Symmetric per-tensor int8 (zero point 0, scale max|w|/127.5), as QInt8 weights are written. */
export function quantizeWeightInt8(values: Float32Array): { bytes: Uint8Array; scale: number; zeroPoint: number } {
  let absMax = 0;
  for (const v of values) absMax = Math.max(absMax, Math.abs(v));
  const scale = Math.fround(absMax > 0 ? absMax / 127.5 : 1);
  const q = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) q[i] = Math.min(127, Math.max(-128, Math.round(values[i]! / scale)));
  return { bytes: new Uint8Array(q.buffer), scale, zeroPoint: 0 };
}

/** Asymmetric per-tensor uint8: the range always includes 0, so zeros (and padding) stay exact. */
export function quantizeWeightUint8(values: Float32Array): { bytes: Uint8Array; scale: number; zeroPoint: number } {
  let min = 0;
  let max = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const scale = Math.fround(max > min ? (max - min) / 255 : 1);
  const zeroPoint = Math.min(255, Math.max(0, Math.round(-min / scale)));
  const bytes = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) bytes[i] = Math.min(255, Math.max(0, Math.round(values[i]! / scale) + zeroPoint));
  return { bytes, scale, zeroPoint };
}

function node(opType: string, input: string[], output: string[], name: string, attribute: proto.IAttributeProto[] = []): proto.INodeProto {
  return { opType, input, output, name, attribute };
}

function castToFloat(): proto.IAttributeProto {
  return { name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT };
}

function scalarFloat(name: string, value: number): proto.ITensorProto {
  const raw = new Uint8Array(4);
  new DataView(raw.buffer).setFloat32(0, value, true);
  return { name, dataType: FLOAT, dims: [], rawData: raw };
}

/** Returns the quantised model's bytes. Throws when the input is not a model with a graph. */
export function quantizeDynamic(modelBytes: Uint8Array, options: QuantizeOptions = {}): Uint8Array {
  const model = onnx.ModelProto.decode(modelBytes);
  const graph = model.graph;
  if (!graph) throw new Error('not an ONNX model: no graph');
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const added: proto.ITensorProto[] = [];
  const activations = new Map<string, { q: string; scale: string; zeroPoint: string }>();
  const weights = new Map<string, { q: string; scale: string; zeroPoint: string }>();
  const counts: QuantizeSummary = { quantized: 0, weightValues: 0 };
  const nodes: proto.INodeProto[] = [];
  const opTypes = options.opTypes ?? ['MatMul', 'Conv'];

  const constFloat = (name: string | undefined): proto.ITensorProto | undefined => {
    const t = name === undefined ? undefined : initializers.get(name);
    return t?.dataType === FLOAT ? t : undefined;
  };
  const quantizedWeight = (tensor: proto.ITensorProto, signed: boolean) => {
    const name = tensor.name ?? '';
    let w = weights.get(name);
    if (!w) {
      const values = floatValues(tensor);
      const { bytes, scale, zeroPoint } = (signed ? quantizeWeightInt8 : quantizeWeightUint8)(values);
      const dataType = signed ? INT8 : UINT8;
      w = { q: `${name}_quantized`, scale: `${name}_scale`, zeroPoint: `${name}_zero_point` };
      added.push({ name: w.q, dataType, dims: dimsOf(tensor), rawData: bytes });
      added.push(scalarFloat(w.scale, scale));
      added.push({ name: w.zeroPoint, dataType, dims: [], rawData: Uint8Array.of(zeroPoint) });
      weights.set(name, w);
      counts.weightValues += values.length;
    }
    return w;
  };
  const quantizedActivation = (x: string) => {
    let a = activations.get(x);
    if (!a) {
      a = { q: `${x}_quantized`, scale: `${x}_scale`, zeroPoint: `${x}_zero_point` };
      nodes.push(node('DynamicQuantizeLinear', [x], [a.q, a.scale, a.zeroPoint], `${x}_QuantizeLinear`));
      activations.set(x, a);
    }
    return a;
  };

  for (const n of graph.node ?? []) {
    const weight = constFloat(n.input?.[1]);
    const isMatMul = n.opType === 'MatMul' && opTypes.includes('MatMul') && weight !== undefined && dimsOf(weight).length === 2 && constFloat(n.input?.[0]) === undefined;
    const isConv = n.opType === 'Conv' && weight !== undefined && opTypes.includes('Conv');
    if (!isMatMul && !isConv) {
      nodes.push(n);
      continue;
    }
    const base = n.name || n.output![0]!;
    const out = n.output![0]!;
    const x = quantizedActivation(n.input![0]!);
    const w = quantizedWeight(weight!, isMatMul && options.weightType === 'int8');
    const integer = `${out}_output_quantized`;
    const attrs = isConv ? [...(n.attribute ?? [])] : [];
    nodes.push(node(isConv ? 'ConvInteger' : 'MatMulInteger', [x.q, w.q, x.zeroPoint, w.zeroPoint], [integer], `${base}_quant`, attrs));
    const cast = `${integer}_cast_output`;
    nodes.push(node('Cast', [integer], [cast], `${integer}_cast`, [castToFloat()]));
    const scales = `${base}_scales_mul`;
    nodes.push(node('Mul', [x.scale, w.scale], [scales], `${base}_scales_mul_node`));
    const bias = isConv ? constFloat(n.input?.[2]) : undefined;
    const scaled = bias ? `${out}_before_bias` : out;
    nodes.push(node('Mul', [cast, scales], [scaled], `${base}_output_scale_mul`));
    if (bias) {
      const reshaped = { ...bias, name: `${bias.name}_reshaped`, dims: [1, dimsOf(bias)[0]!, 1, 1] };
      added.push(reshaped);
      nodes.push(node('Add', [scaled, reshaped.name], [out], `${base}_bias_add`));
    }
    counts.quantized++;
  }

  // Float weights nothing reads any more are dropped, as the quantiser does.
  const used = new Set(nodes.flatMap((n) => n.input ?? []));
  for (const o of graph.output ?? []) used.add(o.name ?? '');
  graph.initializer = [...(graph.initializer ?? []).filter((t) => used.has(t.name ?? '')), ...added];
  graph.node = nodes;
  const weightType = options.weightType ?? 'uint8';
  model.docString = `${model.docString ?? ''} Dynamically quantised (${opTypes.join(', ')}): ${weightType} weights per tensor (bench/quantize-dynamic.ts).`.trim();
  if (options.summary) Object.assign(options.summary, counts);
  return onnx.ModelProto.encode(model).finish();
}
