/**
 * The only file that imports onnxruntime-node. A thin session wrapper: open a model file on the CPU
 * or, with ONNX Runtime's CUDA execution provider, on an NVIDIA GPU; describe its inputs and outputs,
 * and run it with plain typed arrays. Element-type differences between exports (float16 pixels, int32
 * token ids, float16 embeddings) are absorbed here, so callers always hand in float32/int64 and always
 * get float32 back.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

/** Where a session runs. */
export type Device = 'cpu' | 'cuda';

/** What was asked for: a device, or 'auto' (CUDA when its provider starts, else the CPU). */
export type DeviceChoice = Device | 'auto';

export interface SessionOptions {
  /** Threads for one operator on the CPU; default: up to 4, never more than the machine has. */
  threads?: number;
  /**
   * 'cpu' (default); 'cuda': ONNX Runtime's CUDA execution provider (operators it lacks stay on the
   * CPU), and CONFIG_INVALID naming what is missing when it cannot start, never a quiet fall-back;
   * 'auto': CUDA when it starts, else the CPU, with the reason kept in `fallback`.
   */
  device?: DeviceChoice;
}

/** The default intra-op thread count: up to 4, never more than the machine has. */
export function defaultThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** onnxruntime-node's package folder (…/node_modules/onnxruntime-node), found from its entry point. */
function packageDir(): string {
  return join(dirname(fileURLToPath(import.meta.resolve('onnxruntime-node'))), '..');
}

/** Where onnxruntime-node keeps its native libraries, and where its install step puts the CUDA provider's. */
export function nativeLibraryDir(): string {
  return join(packageDir(), 'bin', 'napi-v6', process.platform, process.arch);
}

/** The CUDA provider's libraries, which onnxruntime-node downloads at install time instead of shipping them. */
const CUDA_PROVIDER_FILES = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];

/** Why the CUDA provider cannot load, and what to do about it. */
export interface CudaProblem {
  problem: string;
  fix: string;
  /** A few words for banners, when REFERENT_DEVICE=auto settles on the CPU. */
  brief: string;
}

/**
 * Why the CUDA provider cannot be loaded, found without asking ONNX Runtime (which would print its
 * own error): another platform, or the provider's files missing because their install step was
 * skipped. Undefined when the files are there (CUDA itself may still be missing: see `open`).
 */
export function cudaProviderProblem(dir = nativeLibraryDir()): CudaProblem | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return { problem: `onnxruntime-node has a CUDA provider on Linux x64 only (this machine is ${process.platform}/${process.arch})`, fix: 'use a Linux x64 machine with an NVIDIA GPU', brief: `no CUDA provider for ${process.platform}/${process.arch}` };
  }
  const missing = CUDA_PROVIDER_FILES.filter((file) => !existsSync(join(dir, file)));
  if (missing.length === 0) return undefined;
  return {
    problem: `onnxruntime-node's CUDA provider is not installed (${missing.join(' and ')} missing from ${dir}: its install step was skipped, as ONNXRUNTIME_NODE_INSTALL_CUDA=skip does)`,
    brief: 'no CUDA provider installed',
    fix: `install it with \`node ${join(packageDir(), 'script', 'install.js')} --onnxruntime-node-install=cuda12\` (it downloads from NuGet) and put the CUDA 12 and cuDNN 9 libraries on the library path`,
  };
}

function cudaUnavailable({ problem, fix }: Omit<CudaProblem, 'brief'>, cause?: unknown): ReferentError {
  return new ReferentError(ErrorCode.ConfigInvalid, `REFERENT_DEVICE=cuda, but ${problem}: ${fix}, or set REFERENT_DEVICE=cpu.`, {
    ...(cause === undefined ? {} : { cause }),
    details: { device: 'cuda' },
  });
}

/** Creates an ONNX Runtime session on one device; an unloadable model → MODEL_INVALID. */
async function createSession(path: string, device: Device, threads: number, quiet: boolean): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(path, {
      // The CPU stays listed: operators the CUDA provider lacks run there.
      executionProviders: device === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      // Warnings (e.g. about unused initialisers in exports) are not actionable for users; a quiet
      // CUDA attempt ('auto') also keeps ONNX Runtime's own error line off the terminal.
      logSeverityLevel: quiet ? 4 : 3,
    });
  } catch (err) {
    throw new ReferentError(ErrorCode.ModelInvalid, `ONNX Runtime could not load ${path}: ${(err as Error).message}`, {
      cause: err,
      details: { path },
    });
  }
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
    /** Where it runs. */
    readonly device: Device,
    /** Intra-op threads on the CPU. */
    readonly threads: number,
    /** Why 'auto' settled on the CPU; undefined otherwise. */
    readonly fallback?: string,
  ) {
    this.inputs = describe(session.inputMetadata);
    this.outputs = describe(session.outputMetadata);
  }

  /**
   * Loads a model file on the device asked for. An unreadable or invalid file → MODEL_INVALID;
   * device 'cuda' without a usable CUDA provider → CONFIG_INVALID, one line naming what is missing.
   */
  static async open(path: string, options: SessionOptions = {}): Promise<OnnxSession> {
    const threads = options.threads ?? defaultThreads();
    const device = options.device ?? 'cpu';
    const onCpu = async (fallback?: string) => new OnnxSession(await createSession(path, 'cpu', threads, false), path, 'cpu', threads, fallback);
    if (device === 'cpu') return onCpu();
    const missing = cudaProviderProblem();
    if (missing !== undefined) {
      if (device === 'cuda') throw cudaUnavailable(missing);
      return onCpu(missing.brief);
    }
    let cudaError: unknown;
    try {
      return new OnnxSession(await createSession(path, 'cuda', threads, device === 'auto'), path, 'cuda', threads);
    } catch (err) {
      cudaError = err;
    }
    // The provider is installed but did not start. Loading on the CPU tells a damaged model
    // (MODEL_INVALID from here) from a missing GPU, driver or CUDA library.
    const cpu = await onCpu(`the CUDA provider did not start (${reason(cudaError)}; REFERENT_DEVICE=cuda says why)`);
    if (device === 'auto') return cpu;
    await cpu.close();
    throw cudaUnavailable(
      {
        problem: `ONNX Runtime's CUDA provider did not start (${reason(cudaError)}; its own line above names what it could not load)`,
        fix: 'it needs an NVIDIA GPU with its driver, and the CUDA 12 and cuDNN 9 libraries on the library path (LD_LIBRARY_PATH)',
      },
      cudaError,
    );
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

/** The first line of ONNX Runtime's message, without the wrapper ours adds. */
function reason(err: unknown): string {
  const inner = err instanceof ReferentError && err.cause instanceof Error ? err.cause : err;
  return (inner instanceof Error ? inner.message : String(inner)).split('\n')[0]!.trim();
}

/** Exposed for tests of the float16 path. */
export const float16 = { fromFloat: floatToHalf, toFloat: halfToFloat };
