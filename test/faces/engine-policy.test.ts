/**
 * The face engine's policy and lifecycle without the models: which detections become faces
 * (chooseFaces), unit-length descriptors, and FaceRuntime's load-on-first-use and release-when-idle
 * with an engine handed in. engine-weights.int.test.ts runs the same on the real weights.
 */
import { describe, expect, it, vi } from 'vitest';
import { ErrorCode, ReferentError } from '../../src/errors.js';
import { chooseFaces, unitLength, type FaceEngine, type FacesFound } from '../../src/faces/face-engine.js';
import { FaceRuntime } from '../../src/faces/face-runtime.js';

const found = (x: number, size: number, score: number) => ({ box: { x, y: 10, width: size, height: size }, score });

describe('chooseFaces', () => {
  it('moves boxes to full-size pixels, clips them to the image and drops faces under minFacePixels', () => {
    const { kept, truncated } = chooseFaces([found(0, 20, 0.9), found(100, 10, 0.99), found(-5, 30, 0.8)], { width: 300, height: 200, scale: 2 }, { minFacePixels: 32, maxFaces: 10 });
    expect(kept.map((k) => k.box)).toEqual([
      { x: 0, y: 20, width: 40, height: 40 },
      { x: 0, y: 20, width: 50, height: 60 }, // starts at -10: clipped to the left edge
    ]);
    expect(truncated).toBe(false);
  });

  it('keeps the most confident faces up to maxFaces and says when more were there', () => {
    const many = [0.6, 0.9, 0.7, 0.95].map((s, i) => found(i * 50, 40, s));
    const capped = chooseFaces(many, { width: 1000, height: 100, scale: 1 }, { minFacePixels: 1, maxFaces: 2 });
    expect(capped.kept.map((k) => k.found.score)).toEqual([0.95, 0.9]);
    expect(capped.truncated).toBe(true);
    expect(chooseFaces(many, { width: 1000, height: 100, scale: 1 }, { minFacePixels: 1, maxFaces: 4 }).truncated).toBe(false);
    // A detector that returned all it was allowed may have seen more.
    expect(chooseFaces(many, { width: 1000, height: 100, scale: 1 }, { minFacePixels: 1, maxFaces: 4 }, true).truncated).toBe(true);
  });

  it('drops a box that lies outside the image', () => {
    expect(chooseFaces([found(500, 40, 0.9)], { width: 100, height: 100, scale: 1 }, { minFacePixels: 1, maxFaces: 5 }).kept).toEqual([]);
  });
});

describe('unitLength', () => {
  it('scales to unit length and leaves a zero vector zero', () => {
    expect([...unitLength(new Float32Array([3, 4]))]).toEqual([0.6000000238418579, 0.800000011920929]);
    expect([...unitLength(new Float32Array(3))]).toEqual([0, 0, 0]);
  });
});

/** An engine that answers at once and records whether it was closed. */
function fakeEngine(): FaceEngine & { closed: boolean } {
  const engine = {
    modelId: 'fake',
    closed: false,
    detect: async (): Promise<FacesFound> => {
      if (engine.closed) throw new ReferentError(ErrorCode.UsageInvalid, 'closed');
      return { width: 1, height: 1, faces: [], truncated: false };
    },
    close: async () => void (engine.closed = true),
  };
  return engine;
}

describe('FaceRuntime', () => {
  it('loads nothing until a photo needs faces, and closes the engine when idle', async () => {
    const engines: Array<ReturnType<typeof fakeEngine>> = [];
    const runtime = new FaceRuntime({ idleSeconds: 0.02, load: async () => engines[engines.push(fakeEngine()) - 1]! });
    expect(runtime.loaded).toBe(false);
    expect(engines).toHaveLength(0);
    await runtime.detect(new Uint8Array(1));
    await runtime.detect(new Uint8Array(1));
    expect(engines).toHaveLength(1);
    await vi.waitFor(() => expect(engines[0]!.closed).toBe(true));
    expect(runtime.loaded).toBe(false);
    await runtime.detect(new Uint8Array(1));
    expect(engines).toHaveLength(2);
    await runtime.close();
    expect(engines[1]!.closed).toBe(true);
    await expect(runtime.detect(new Uint8Array(1))).rejects.toMatchObject({ code: ErrorCode.UsageInvalid });
  });

  it('does not close an engine that is busy, and tries a failed load again on the next photo', async () => {
    let attempts = 0;
    let release: () => void = () => {};
    const slow = fakeEngine();
    slow.detect = () => new Promise((resolve) => (release = () => resolve({ width: 1, height: 1, faces: [], truncated: false })));
    const runtime = new FaceRuntime({
      idleSeconds: 0.01,
      load: async () => {
        if (++attempts === 1) throw new ReferentError(ErrorCode.ModelNotFound, 'no models');
        return slow;
      },
    });
    await expect(runtime.detect(new Uint8Array(1))).rejects.toMatchObject({ code: ErrorCode.ModelNotFound });
    expect(runtime.loaded).toBe(false);
    const busy = runtime.detect(new Uint8Array(1));
    await vi.waitFor(() => expect(attempts).toBe(2));
    await new Promise((r) => setTimeout(r, 50)); // longer than idleSeconds while the photo is in flight
    expect(slow.closed).toBe(false);
    release();
    await busy;
    await vi.waitFor(() => expect(slow.closed).toBe(true));
    await runtime.close();
  });
});
