/**
 * Many dot products at once: every row against every column, for the refinement's image profiles
 * (about 100 candidates × 16 photo references of 512 dimensions per query). A small WebAssembly
 * kernel with 128-bit SIMD does them about four times faster than a JavaScript loop; where the
 * runtime lacks wasm SIMD, or the dimension is not a multiple of 4, the loop is used. Sums are
 * float32 in four lanes (a cosine moves by ~1e-6), fine for profiles; exact scores use `dot`.
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

// matdot(a, na, b, nb, dim, out): out[i*nb + j] = Σ_k a[i*dim + k]·b[j*dim + k] (byte addresses).
const [A, NA, B, NB, DIM, OUT, I, J, PA, PB, END, ACC, ROW] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
const get = (l: number) => [0x20, l];
const set = (l: number) => [0x21, l];
const tee = (l: number) => [0x22, l];
const i32 = (n: number) => [0x41, ...leb(n)];
const [ADD, MUL, SHL, GE_U] = [0x6a, 0x6c, 0x74, 0x4f];
const simd = (op: number) => [0xfd, ...leb(op)];
const V128_LOAD = [...simd(0x00), 0x00, 0x00];
const [F32X4_ADD, F32X4_MUL] = [simd(0xe4), simd(0xe6)];
const lane = (l: number) => [...get(ACC), ...simd(0x1f), l];
const body = [
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
  ...get(ACC), ...get(PA), ...V128_LOAD, ...get(PB), ...V128_LOAD, ...F32X4_MUL, ...F32X4_ADD, ...set(ACC),
  ...get(PA), ...i32(16), ADD, ...set(PA),
  ...get(PB), ...i32(16), ADD, ...set(PB),
  0x0c, 0, 0x0b, 0x0b, // br loop; end loop; end block
  ...get(OUT), ...lane(0), ...lane(1), 0x92, ...lane(2), 0x92, ...lane(3), 0x92, 0x38, 0x02, 0x00, // f32.store
  ...get(OUT), ...i32(4), ADD, ...set(OUT),
  ...get(J), ...i32(1), ADD, ...set(J),
  0x0c, 0, 0x0b, 0x0b,
  ...get(I), ...i32(1), ADD, ...set(I),
  0x0c, 0, 0x0b, 0x0b,
  0x0b, // end function
];
const locals = [3, 5, 0x7f, 1, 0x7b, 1, 0x7f]; // i j pa pb end: i32; acc: v128; row: i32
const code = [...locals, ...body];
const bytes = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, [1, 0x60, 6, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0]),
  ...section(3, [1, 0]),
  ...section(5, [1, 0, 1]),
  ...section(7, [2, ...name('mem'), 2, 0, ...name('matdot'), 0, 0]),
  ...section(10, [1, ...leb(code.length), ...code]),
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
}

function compile(): Kernel | null {
  try {
    if (!wasm?.validate(bytes)) return null;
    const instance = new wasm.Instance(new wasm.Module(bytes), {});
    return { memory: instance.exports.mem as WasmMemory, matdot: instance.exports.matdot as Kernel['matdot'] };
  } catch {
    return null;
  }
}

const kernel = compile();

/** Whether the SIMD kernel is in use (false: the JavaScript loop). */
export const simdDot = kernel !== null;

/** rows × columns dot products, row-major: result[i * columns.length + j] = rows[i]·columns[j]. */
export function dotMatrix(rows: readonly Float32Array[], columns: readonly Float32Array[]): Float32Array {
  const dim = rows[0]?.length ?? 0;
  const out = new Float32Array(rows.length * columns.length);
  if (out.length === 0) return out;
  if (!kernel || dim % 4 !== 0) {
    rows.forEach((r, i) => columns.forEach((c, j) => (out[i * columns.length + j] = dot(r, c))));
    return out;
  }
  const floats = (rows.length + columns.length) * dim + out.length;
  const pages = Math.ceil((floats * 4) / 65536);
  const have = kernel.memory.buffer.byteLength / 65536;
  if (pages > have) kernel.memory.grow(pages - have);
  const mem = new Float32Array(kernel.memory.buffer);
  rows.forEach((r, i) => mem.set(r, i * dim));
  const b = rows.length * dim;
  columns.forEach((c, j) => mem.set(c, b + j * dim));
  const o = b + columns.length * dim;
  kernel.matdot(0, rows.length, b * 4, columns.length, dim, o * 4);
  out.set(mem.subarray(o, o + out.length));
  return out;
}
