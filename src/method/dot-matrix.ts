/**
 * Many dot products at once: every row against every column, for the refinement's image profiles
 * (about 100 candidates × 16 photo references of 512 dimensions per query). A small WebAssembly
 * kernel with 128-bit SIMD does them about four times faster than a JavaScript loop; where the
 * runtime lacks wasm SIMD, or the dimension is not a multiple of 4, the loop is used. Sums are
 * float32 in four lanes (a cosine moves by ~1e-6), fine for profiles; exact scores use `dot`.
 * `dotMatrixInt8` does the same straight from int8 rows (the in-memory candidate vectors).
 * Pure: no I/O, synchronous; the module is compiled once from the bytes below.
 */
import { dot } from '../vectors.js';

/** Unsigned LEB128. */
function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
const name = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];

// matdot(a, na, b, nb, dim, out): out[i*nb + j] = Σ_k a[i*dim + k]·b[j*dim + k], float32 (byte addresses).
// widen(a, len, out): out[k] = a[k] for int8 a, len a multiple of 8 (eight lanes at a time).
const [A, NA, B, NB, DIM, OUT, I, J, PA, PB, END, ACC, ROW] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
const get = (l: number) => [0x20, l];
const set = (l: number) => [0x21, l];
const tee = (l: number) => [0x22, l];
const i32 = (n: number) => [0x41, ...leb(n)];
const [ADD, MUL, SHL, GE_U] = [0x6a, 0x6c, 0x74, 0x4f];
const simd = (op: number) => [0xfd, ...leb(op)];
const v128Load = (offset: number) => [...simd(0x00), 0x00, ...leb(offset)];
const v128Store = (offset: number) => [...simd(0x0b), 0x00, ...leb(offset)];
const LOAD_8X8_S = [...simd(0x01), 0x00, 0x00];
const [F32X4_ADD, F32X4_MUL, EXTEND_LOW, EXTEND_HIGH, CONVERT] = [simd(0xe4), simd(0xe6), simd(0xa7), simd(0xa8), simd(0xfa)];
const lane = (l: number) => [...get(ACC), ...simd(0x1f), l];
const add = (l: number, n: number) => [...get(l), ...i32(n), ADD, ...set(l)];
const matdotBody = [
  ...get(DIM), ...i32(2), SHL, ...set(ROW),
  ...i32(0), ...set(I),
  0x02, 0x40, 0x03, 0x40, // block, loop (rows)
  ...get(I), ...get(NA), GE_U, 0x0d, 1,
  ...i32(0), ...set(J),
  0x02, 0x40, 0x03, 0x40, // block, loop (columns)
  ...get(J), ...get(NB), GE_U, 0x0d, 1,
  ...get(A), ...get(I), ...get(ROW), MUL, ADD, ...tee(PA), ...get(ROW), ADD, ...set(END),
  ...get(B), ...get(J), ...get(ROW), MUL, ADD, ...set(PB),
  ...simd(0x0c), ...new Array<number>(16).fill(0), ...set(ACC),
  0x02, 0x40, 0x03, 0x40, // block, loop (4 lanes at a time)
  ...get(PA), ...get(END), GE_U, 0x0d, 1,
  ...get(ACC), ...get(PA), ...v128Load(0), ...get(PB), ...v128Load(0), ...F32X4_MUL, ...F32X4_ADD, ...set(ACC),
  ...add(PA, 16), ...add(PB, 16),
  0x0c, 0, 0x0b, 0x0b, // br loop; end loop; end block
  ...get(OUT), ...lane(0), ...lane(1), 0x92, ...lane(2), 0x92, ...lane(3), 0x92, 0x38, 0x02, 0x00, // f32.store
  ...add(OUT, 4),
  ...add(J, 1),
  0x0c, 0, 0x0b, 0x0b,
  ...add(I, 1),
  0x0c, 0, 0x0b, 0x0b,
  0x0b, // end function
];
// widen's locals: p (=a), end, out (=param 2), x: v128. Params a=0, len=1, out=2; locals 3 (end), 4 (x).
const [W_A, W_LEN, W_OUT, W_END, W_X] = [0, 1, 2, 3, 4];
const widenBody = [
  ...get(W_A), ...get(W_LEN), ADD, ...set(W_END),
  0x02, 0x40, 0x03, 0x40,
  ...get(W_A), ...get(W_END), GE_U, 0x0d, 1,
  ...get(W_A), ...LOAD_8X8_S, ...set(W_X),
  ...get(W_OUT), ...get(W_X), ...EXTEND_LOW, ...CONVERT, ...v128Store(0),
  ...get(W_OUT), ...get(W_X), ...EXTEND_HIGH, ...CONVERT, ...v128Store(16),
  ...add(W_A, 8), ...add(W_OUT, 32),
  0x0c, 0, 0x0b, 0x0b,
  0x0b,
];
const codes = [
  [3, 5, 0x7f, 1, 0x7b, 1, 0x7f, ...matdotBody], // i j pa pb end: i32; acc: v128; row: i32
  [2, 1, 0x7f, 1, 0x7b, ...widenBody], // end: i32; x: v128
];
const bytes = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, [2, 0x60, 6, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0, 0x60, 3, 0x7f, 0x7f, 0x7f, 0]),
  ...section(3, [2, 0, 1]),
  ...section(5, [1, 0, 1]),
  ...section(7, [3, ...name('mem'), 2, 0, ...name('matdot'), 0, 0, ...name('widen'), 0, 1]),
  ...section(10, [2, ...codes.flatMap((code) => [...leb(code.length), ...code])]),
]);

/** The part of the WebAssembly API used here (Node's types declare it for DOM builds only). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

interface Kernel {
  memory: WasmMemory;
  matdot: (a: number, na: number, b: number, nb: number, dim: number, out: number) => void;
  widen: (a: number, len: number, out: number) => void;
}

function compile(): Kernel | null {
  try {
    if (!wasm?.validate(bytes)) return null;
    const instance = new wasm.Instance(new wasm.Module(bytes), {});
    const { mem, matdot, widen } = instance.exports as unknown as { mem: WasmMemory } & Omit<Kernel, 'memory'>;
    return { memory: mem, matdot, widen };
  } catch {
    return null;
  }
}

const kernel = compile();

/** Whether the SIMD kernel is in use (false: the JavaScript loop). */
export const simdDot = kernel !== null;

/** Kernel memory of at least `bytes` bytes (grown as needed; views must be taken after this). */
function memoryOf(k: Kernel, bytes: number): ArrayBuffer {
  const pages = Math.ceil(bytes / 65536);
  const have = k.memory.buffer.byteLength / 65536;
  if (pages > have) k.memory.grow(pages - have);
  return k.memory.buffer;
}

/** Copies the columns to byte offset `at` (a multiple of 16) and returns where the output goes. */
function placeColumns(mem: ArrayBuffer, at: number, columns: readonly Float32Array[], dim: number): number {
  const floats = new Float32Array(mem, at, columns.length * dim);
  columns.forEach((c, j) => floats.set(c, j * dim));
  return at + columns.length * dim * 4;
}

/** rows × columns dot products, row-major: result[i * columns.length + j] = rows[i]·columns[j]. */
export function dotMatrix(rows: readonly Float32Array[], columns: readonly Float32Array[]): Float32Array {
  const dim = rows[0]?.length ?? 0;
  const out = new Float32Array(rows.length * columns.length);
  if (out.length === 0) return out;
  if (!kernel || dim % 4 !== 0) {
    rows.forEach((r, i) => columns.forEach((c, j) => (out[i * columns.length + j] = dot(r, c))));
    return out;
  }
  const mem = memoryOf(kernel, (rows.length + columns.length) * dim * 4 + out.length * 4);
  const a = new Float32Array(mem, 0, rows.length * dim);
  rows.forEach((r, i) => a.set(r, i * dim));
  const b = rows.length * dim * 4;
  const o = placeColumns(mem, b, columns, dim);
  kernel.matdot(0, rows.length, b, columns.length, dim, o);
  out.set(new Float32Array(mem, o, out.length));
  return out;
}

/**
 * The same for int8 rows with one scale each (vector i = rows[i·dim …]·scales[i]), packed in one
 * array: the quantised candidate vectors are never widened into JavaScript arrays.
 */
export function dotMatrixInt8(rows: Int8Array, scales: ArrayLike<number>, dim: number, columns: readonly Float32Array[]): Float32Array {
  const n = dim > 0 ? rows.length / dim : 0;
  const nb = columns.length;
  const out = new Float32Array(n * nb);
  if (out.length === 0) return out;
  if (!kernel || dim % 8 !== 0) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < nb; j++) {
        const c = columns[j]!;
        let s = 0;
        for (let k = 0; k < dim; k++) s += rows[i * dim + k]! * c[k]!;
        out[i * nb + j] = s * scales[i]!;
      }
    }
    return out;
  }
  // Layout: int8 rows, then the rows widened to float32 (once, not once per column), columns, output.
  const wide = Math.ceil(rows.length / 16) * 16;
  const b = wide + rows.length * 4;
  const mem = memoryOf(kernel, b + nb * dim * 4 + out.length * 4);
  new Int8Array(mem, 0, rows.length).set(rows);
  kernel.widen(0, rows.length, wide);
  const o = placeColumns(mem, b, columns, dim);
  kernel.matdot(wide, n, b, nb, dim, o);
  out.set(new Float32Array(mem, o, out.length));
  for (let i = 0; i < n; i++) {
    const scale = scales[i]!;
    for (let j = 0; j < nb; j++) out[i * nb + j]! *= scale;
  }
  return out;
}
