/**
 * The only file that imports onnxruntime-node. A thin session wrapper: open a model file on the CPU,
 * describe its inputs and outputs, and run it with plain typed arrays. Element-type differences
 * between exports (float16 pixels, int32 token ids, float16 embeddings) are absorbed here, so callers
 * always hand in float32/int64 and always get float32 back.
 */
import { availableParallelism } from 'node:os';
import ort from 'onnxruntime-node';
import { ErrorCode, ReferentError } from '../errors.js';

/**
 * ONNX Runtime's Linux build collects usage telemetry unless told not to: on the first session it
 * writes /tmp/mat-debug-<pid>.log, queues events in ~/.cache/Microsoft/DeveloperTools/.onnxruntime
 * and looks up mobile.events.data.microsoft.com. Nothing leaves this machine, so it is switched off
 * here, in the one module every model load goes through (the library reads the variable at its
 * first session, not at import). This is the only write to the environment in src/.
 */
process.env.ORT_DISABLE_TELEMETRY = '1';

/** An input tensor as the caller has it; converted to the model's declared element type on run. */
export type TensorInput =
  | { type: 'int64'; data: BigInt64Array; dims: readonly number[] }
  | { type: 'float32'; data: Float32Array; dims: readonly number[] };

/** An output tensor, always float32. */
export interface TensorOutput {
  data: Float32Array;
  dims: readonly number[];
}

/** What the model declares for one input or output; `shape` holds numbers (fixed) or names (symbolic). */
export interface ValueInfo {
  name: string;
  type: string | undefined;
  shape: readonly (number | string)[];
}

export interface SessionOptions {
  /** Threads for one operator; default: up to 4, never more than the machine has. */
  threads?: number;
}

function describe(meta: readonly ort.InferenceSession.ValueMetadata[]): ValueInfo[] {
  return meta.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: undefined, shape: [] }));
}

/** IEEE 754 binary16 bits → number (no Float16Array on Node 20). */
function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** number → binary16 bits, round to nearest even (pixel values and embeddings stay well in range). */
function floatToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = ((x >>> 23) & 0xff) - 127 + 15;
  const mantissa = x & 0x7fffff;
  if (exponent >= 0x1f) return sign | 0x7c00 | (((x >>> 23) & 0xff) === 0xff && mantissa !== 0 ? 0x200 : 0);
  if (exponent <= 0) {
    if (exponent < -10) return sign;
    const m = mantissa | 0x800000;
    const shift = 14 - exponent;
    const half = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (rest > mid || (rest === mid && (half & 1) === 1) ? half + 1 : half);
  }
  const half = (exponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  return sign | (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1) ? half + 1 : half);
}

function toTensor(input: TensorInput, declared: string | undefined): ort.Tensor {
  const dims = [...input.dims];
  if (input.type === 'int64') {
    if (declared === 'int32') return new ort.Tensor('int32', Int32Array.from(input.data, (v) => Number(v)), dims);
    return new ort.Tensor('int64', input.data, dims);
  }
  if (declared === 'float16') return new ort.Tensor('float16', Uint16Array.from(input.data, floatToHalf), dims);
  return new ort.Tensor('float32', input.data, dims);
}

function toFloat32(tensor: ort.Tensor): Float32Array {
  const data = tensor.data;
  if (data instanceof Float32Array) return data;
  // Without a global Float16Array (Node < 24) onnxruntime hands float16 back as raw Uint16 bits.
  if (tensor.type === 'float16' && data instanceof Uint16Array) return Float32Array.from(data, halfToFloat);
  if (tensor.type === 'float16' || tensor.type === 'float64') return Float32Array.from(data as ArrayLike<number>);
  throw new ReferentError(ErrorCode.ModelInvalid, `The model produced a ${tensor.type} tensor where float embeddings were expected.`);
}

/** One loaded ONNX model. Close it when done: it holds native memory. */
export class OnnxSession {
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly path: string,
  ) {
    this.inputs = describe(session.inputMetadata);
    this.outputs = describe(session.outputMetadata);
  }

  /** Loads a model file for CPU inference. An unreadable or invalid file → MODEL_INVALID. */
  static async open(path: string, options: SessionOptions = {}): Promise<OnnxSession> {
    const threads = options.threads ?? Math.max(1, Math.min(4, availableParallelism()));
    try {
      const session = await ort.InferenceSession.create(path, {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        // Warnings (e.g. about unused initialisers in exports) are not actionable for users.
        logSeverityLevel: 3,
      });
      return new OnnxSession(session, path);
    } catch (err) {
      throw new ReferentError(ErrorCode.ModelInvalid, `ONNX Runtime could not load ${path}: ${(err as Error).message}`, {
        cause: err,
        details: { path },
      });
    }
  }

  get inputNames(): readonly string[] {
    return this.inputs.map((i) => i.name);
  }

  get outputNames(): readonly string[] {
    return this.outputs.map((o) => o.name);
  }

  input(name: string): ValueInfo | undefined {
    return this.inputs.find((i) => i.name === name);
  }

  /** Runs the model and returns the requested outputs as float32. A runtime failure → MODEL_INVALID. */
  async run(feeds: Readonly<Record<string, TensorInput>>, outputNames: readonly string[]): Promise<Record<string, TensorOutput>> {
    const tensors: Record<string, ort.Tensor> = {};
    for (const [name, input] of Object.entries(feeds)) tensors[name] = toTensor(input, this.input(name)?.type);
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await this.session.run(tensors, [...outputNames]);
    } catch (err) {
      throw new ReferentError(ErrorCode.ModelInvalid, `The model ${this.path} failed to run: ${(err as Error).message}`, {
        cause: err,
        details: { path: this.path },
      });
    }
    const out: Record<string, TensorOutput> = {};
    for (const name of outputNames) {
      const value = results[name] as ort.Tensor | undefined;
      if (value === undefined) throw new ReferentError(ErrorCode.ModelInvalid, `The model ${this.path} returned no "${name}".`);
      out[name] = { data: toFloat32(value), dims: value.dims };
    }
    return out;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** Exposed for tests of the float16 path. */
export const float16 = { fromFloat: floatToHalf, toFloat: halfToFloat };
