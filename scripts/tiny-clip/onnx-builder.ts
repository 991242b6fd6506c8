/**
 * A small, deterministic ONNX graph writer on top of onnx-proto: enough to express the tiny demo
 * encoder (Gather, MatMul, Softmax, pooling, casts). Tensors are stored as little-endian raw bytes
 * and nothing time- or host-dependent is written, so the same graph always encodes to the same bytes.
 */
import onnxProto from 'onnx-proto';
import type { onnx as proto } from 'onnx-proto';

// onnx-proto is CommonJS with `module.exports = root`: Node's ESM loader only exposes it as default.
const { onnx } = onnxProto;

/** The element types the demo graphs use (ONNX TensorProto.DataType numbers). */
export const DType = { float: 1, uint8: 2, int64: 7, float16: 10 } as const;
export type DType = (typeof DType)[keyof typeof DType];

/** A symbolic dimension (e.g. "batch") or a fixed size. */
export type Dim = string | number;

type AttrValue = number | readonly number[];

/** Raw little-endian bytes for a float32 tensor. */
export function float32Bytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return out;
}

/** Raw little-endian bytes for an int64 tensor (small integers only). */
export function int64Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return out;
}

function valueInfo(name: string, type: DType, dims: readonly Dim[]): proto.IValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: type, shape: { dim } } } };
}

function attribute(name: string, value: AttrValue): proto.IAttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  // Every attribute the demo graphs use is an int or an int list.
  if (typeof value === 'number') return { name, type: AttributeType.INT, i: value };
  return { name, type: AttributeType.INTS, ints: [...value] };
}

/** Accumulates nodes and weights, then serialises one ModelProto. */
export class GraphBuilder {
  private readonly nodes: proto.INodeProto[] = [];
  private readonly initializers: proto.ITensorProto[] = [];
  private readonly inputs: proto.IValueInfoProto[] = [];
  private readonly outputs: proto.IValueInfoProto[] = [];
  private counter = 0;

  constructor(private readonly name: string) {}

  input(name: string, type: DType, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  output(name: string, type: DType, dims: readonly Dim[]): void {
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** Adds a constant tensor; `raw` holds little-endian bytes of `type`. Returns its name. */
  weight(name: string, type: DType, dims: readonly number[], raw: Uint8Array): string {
    this.initializers.push({ name, dataType: type, dims: [...dims], rawData: raw });
    return name;
  }

  floats(name: string, dims: readonly number[], values: ArrayLike<number>): string {
    return this.weight(name, DType.float, dims, float32Bytes(values));
  }

  ints(name: string, values: readonly number[]): string {
    return this.weight(name, DType.int64, [values.length], int64Bytes(values));
  }

  /** Adds a node; returns its (single) output name, generated unless given. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, output?: string): string {
    const out = output ?? `${opType.toLowerCase()}_${this.counter++}`;
    const attribute_ = Object.entries(attrs).map(([k, v]) => attribute(k, v));
    this.nodes.push({ opType, input: [...inputs], output: [out], name: `${opType}_${this.nodes.length}`, attribute: attribute_ });
    return out;
  }

  /** Serialises with IR version 8 and opset 13 (every op here is stable there; ORT 1.30 runs it). */
  encode(docString: string): Uint8Array {
    const model: proto.IModelProto = {
      irVersion: 8,
      producerName: 'referent gen-tiny-clip',
      producerVersion: '1',
      docString,
      opsetImport: [{ domain: '', version: 13 }],
      graph: { name: this.name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    };
    return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  }
}

/**
 * Per-tensor uint8 quantisation (zero point 128), as a `_quantized` export stores weights.
 * Returns the bytes plus the scale DequantizeLinear needs; exact zeros stay exact.
 */
export function quantizeUint8(values: ArrayLike<number>): { bytes: Uint8Array; scale: number } {
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]!));
  const scale = Math.fround(max > 0 ? max / 127 : 1);
  const bytes = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) bytes[i] = Math.min(255, Math.max(0, Math.round(values[i]! / scale) + 128));
  return { bytes, scale };
}

/** Adds a dequantised copy of `values` to the graph and returns the float tensor's name. */
export function quantizedWeight(g: GraphBuilder, name: string, dims: readonly number[], values: ArrayLike<number>): string {
  const { bytes, scale } = quantizeUint8(values);
  const q = g.weight(`${name}_quant`, DType.uint8, dims, bytes);
  const s = g.floats(`${name}_scale`, [], [scale]);
  const z = g.weight(`${name}_zero_point`, DType.uint8, [], Uint8Array.of(128));
  return g.op('DequantizeLinear', [q, s, z], {}, name);
}
