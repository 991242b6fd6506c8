import { ErrorCode, ReferentError } from '../errors.js';
import type { VectorHit, VectorIndex } from './vector-index.js';

/**
 * Brute-force VectorIndex: every search scans every live vector. Exact, so it is the recall
 * baseline for HnswIndex and the right choice for tiny collections (a few thousand vectors scan
 * faster than the graph pays for itself).
 *
 * Vectors live in one contiguous Float32Array (slot i at [i*dim, (i+1)*dim)) so the scan is a
 * tight loop over memory; it doubles when full. Removal moves the last slot into the hole so the
 * live slots stay packed and the scan never skips tombstones.
 */
export class ExactIndex implements VectorIndex {
  readonly dim: number;
  private data: Float32Array;
  private slotIds: string[] = [];
  private readonly slotOf = new Map<string, number>();

  /** @param capacity initial number of slots; grows by doubling. */
  constructor(dim: number, capacity = 1024) {
    if (!Number.isInteger(dim) || dim <= 0) throw new RangeError(`dim must be a positive integer, got ${dim}`);
    this.dim = dim;
    this.data = new Float32Array(Math.max(1, capacity) * dim);
  }

  vector(id: string): Float32Array | undefined {
    const slot = this.slotOf.get(id);
    return slot === undefined ? undefined : this.data.slice(slot * this.dim, (slot + 1) * this.dim);
  }

  size(): number {
    return this.slotIds.length;
  }

  has(id: string): boolean {
    return this.slotOf.has(id);
  }

  /** Copies `vector`; re-adding an id overwrites its vector. Throws MODEL_MISMATCH on a wrong length. */
  add(id: string, vector: Float32Array): void {
    checkDim(this.dim, vector);
    let slot = this.slotOf.get(id);
    if (slot === undefined) {
      slot = this.slotIds.length;
      if ((slot + 1) * this.dim > this.data.length) this.grow();
      this.slotIds.push(id);
      this.slotOf.set(id, slot);
    }
    this.data.set(vector, slot * this.dim);
  }

  remove(id: string): boolean {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return false;
    const last = this.slotIds.length - 1;
    if (slot !== last) {
      const lastId = this.slotIds[last]!;
      this.data.copyWithin(slot * this.dim, last * this.dim, (last + 1) * this.dim);
      this.slotIds[slot] = lastId;
      this.slotOf.set(lastId, slot);
    }
    this.slotIds.pop();
    this.slotOf.delete(id);
    return true;
  }

  search(query: Float32Array, k: number, filter?: (id: string) => boolean): VectorHit[] {
    checkDim(this.dim, query);
    const count = this.slotIds.length;
    const want = Math.min(Math.floor(k), count);
    if (!(want > 0)) return []; // also catches a NaN k
    const heap = new TopK(want);
    const { data, dim } = this;
    for (let slot = 0; slot < count; slot++) {
      const base = slot * dim;
      let dot = 0;
      for (let i = 0; i < dim; i++) dot += query[i]! * data[base + i]!;
      if (dot > heap.floor() && (filter === undefined || filter(this.slotIds[slot]!))) heap.push(dot, slot);
    }
    return heap.sorted().map(([score, slot]) => ({ id: this.slotIds[slot]!, score }));
  }

  ids(): string[] {
    return [...this.slotIds];
  }

  private grow(): void {
    const next = new Float32Array(this.data.length * 2);
    next.set(this.data);
    this.data = next;
  }
}

/** The same wrong-dimension error from every index: a vector from another model is a model mismatch. */
export function checkDim(dim: number, vector: Float32Array): void {
  if (vector.length !== dim) {
    throw new ReferentError(ErrorCode.ModelMismatch, `Vector has ${vector.length} dimensions; this index holds ${dim}.`, {
      details: { expected: dim, got: vector.length },
    });
  }
}

/** Fixed-size min-heap of (score, slot): keeps the k best of a stream in O(n log k). */
class TopK {
  private readonly scores: Float64Array;
  private readonly slots: Int32Array;
  private length = 0;

  constructor(private readonly k: number) {
    this.scores = new Float64Array(k);
    this.slots = new Int32Array(k);
  }

  /** The score a candidate must beat to enter (-Infinity until the heap is full). */
  floor(): number {
    return this.length < this.k ? -Infinity : this.scores[0]!;
  }

  push(score: number, slot: number): void {
    if (this.length < this.k) {
      let i = this.length++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (this.scores[parent]! <= score) break;
        this.set(i, this.scores[parent]!, this.slots[parent]!);
        i = parent;
      }
      this.set(i, score, slot);
      return;
    }
    this.siftDown(score, slot);
  }

  sorted(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < this.length; i++) out.push([this.scores[i]!, this.slots[i]!]);
    return out.sort((a, b) => b[0] - a[0]);
  }

  /** Replaces the root (the current minimum) with a better entry and restores the heap. */
  private siftDown(score: number, slot: number): void {
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= this.length) break;
      const right = left + 1;
      const child = right < this.length && this.scores[right]! < this.scores[left]! ? right : left;
      if (this.scores[child]! >= score) break;
      this.set(i, this.scores[child]!, this.slots[child]!);
      i = child;
    }
    this.set(i, score, slot);
  }

  private set(i: number, score: number, slot: number): void {
    this.scores[i] = score;
    this.slots[i] = slot;
  }
}
