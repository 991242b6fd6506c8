/**
 * tfjs-faces.ts cuts face crops from the decoded bytes itself instead of through face-api's
 * extractFaceTensors (which the WebAssembly backend runs one pixel at a time). This checks that the
 * shortcut changes nothing: on a real demo photo, the same boxes, scores and descriptors as
 * face-api's own detectAllFaces().withFaceLandmarks().withFaceDescriptors(). Loads TensorFlow.js
 * in the test process, as the worker does.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTfjsFaces } from '../../src/faces/tfjs-faces.js';
import { decodeForModel } from '../../src/image/image-io.js';

const demo = path.resolve(import.meta.dirname, '../../node_modules/@vladmandic/face-api/demo');

describe('tfjs-faces', () => {
  it("gives exactly what face-api's own pipeline gives", async () => {
    const faces = await openTfjsFaces();
    const image = await decodeForModel(fs.readFileSync(path.join(demo, 'sample5.jpg')), { kernel: 'lanczos3' });
    const tensors = faces.tensorCount();
    const ours = await faces.detect(image, { minScore: 0.5, maxDetections: 100, choose: (found) => found });
    const library = await faces.detectWithLibrary(image, { minScore: 0.5, maxDetections: 100 });
    expect(ours).toHaveLength(5);
    expect(ours.map((f) => f.box)).toEqual(library.map((f) => f.box));
    expect(ours.map((f) => f.score)).toEqual(library.map((f) => f.score));
    ours.forEach((f, i) => expect([...f.descriptor]).toEqual([...library[i]!.descriptor]));
    // Every crop and intermediate tensor was released.
    expect(faces.tensorCount()).toBe(tensors);
  }, 120_000);
});
