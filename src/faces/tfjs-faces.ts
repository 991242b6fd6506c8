/**
 * The only file that loads TensorFlow.js: @vladmandic/face-api's node-wasm build on
 * @tensorflow/tfjs with the WebAssembly backend (the package's default entry needs
 * @tensorflow/tfjs-node, a native build that cannot install offline). It runs inside the face
 * worker only (face-worker.ts), so the main thread never loads it and never waits on it.
 * The three packages are loaded with `require`, not `import`: face-api's build is CommonJS and
 * `require`s tfjs itself, and an ESM import would give a second copy whose backend settings
 * face-api would never see.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ErrorCode, ReferentError } from '../errors.js';

const require = createRequire(import.meta.url);
type FaceApi = typeof import('@vladmandic/face-api/dist/face-api.node-wasm.js');
type Tf = typeof import('@tensorflow/tfjs');

/** Pixels as image-io decodes them: interleaved RGB, row-major. */
export interface RgbPixels {
  data: Uint8Array;
  width: number;
  height: number;
}

/** A face the detector found, in the pixels it was given. */
export interface LocatedFace {
  box: { x: number; y: number; width: number; height: number };
  score: number;
}

/** A located face with its 128-d descriptor as the network gives it (not normalised). */
export interface DescribedFace extends LocatedFace {
  descriptor: Float32Array;
}

export interface DetectOptions {
  minScore: number;
  maxDetections: number;
  /** The caller's policy (size, count): which of the located faces get landmarks and a descriptor. */
  choose: (found: LocatedFace[]) => LocatedFace[];
}

export interface TfjsFaces {
  /**
   * Detects faces (SSD-MobileNetV1 at 512×512, at most `maxDetections` at `minScore` or more), lets
   * `choose` keep some, then finds the 68 landmarks of each kept face and computes its descriptor
   * on the crop the landmarks align. Only kept faces cost landmarks and a descriptor.
   */
  detect(image: RgbPixels, options: DetectOptions): Promise<DescribedFace[]>;
  /**
   * The same through face-api's own composition (detectAllFaces().withFaceLandmarks()
   * .withFaceDescriptors()), which `detect` re-implements with faster crops: kept so a test can
   * show the two agree. Not used in production.
   */
  detectWithLibrary(image: RgbPixels, options: Omit<DetectOptions, 'choose'>): Promise<DescribedFace[]>;
  /** Tensors alive (models included): a leak shows as growth between images. */
  tensorCount(): number;
}

/** Where the weights are: shipped inside the npm package (13 MB), nothing is downloaded. */
function modelFolder(): string {
  return path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
}

const MODELS = ['ssd_mobilenetv1_model', 'face_landmark_68_model', 'face_recognition_model'];

/** Loads the backend and the three networks (about 1.5 s). A missing file → MODEL_NOT_FOUND; anything else → MODEL_INVALID. */
export async function openTfjsFaces(): Promise<TfjsFaces> {
  let folder: string;
  try {
    folder = modelFolder();
  } catch (err) {
    throw new ReferentError(ErrorCode.ModelNotFound, 'The face models are not installed (@vladmandic/face-api is missing from node_modules); run npm ci.', { cause: err });
  }
  const missing = MODELS.flatMap((m) => [`${m}-weights_manifest.json`, `${m}.bin`]).filter((f) => !existsSync(path.join(folder, f)));
  if (missing.length > 0) {
    throw new ReferentError(ErrorCode.ModelNotFound, `The face models are incomplete: ${missing.join(', ')} missing from ${folder}; run npm ci.`, { details: { folder, missing } });
  }
  try {
    const tf = require('@tensorflow/tfjs') as Tf;
    const wasm = require('@tensorflow/tfjs-backend-wasm') as { setWasmPaths(prefix: string, usePlatformFetch?: boolean): void };
    const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
    // The .wasm binaries sit in the backend's own dist/ folder; without this it would fetch them from a CDN.
    wasm.setWasmPaths(`${path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist')}${path.sep}`);
    await tf.setBackend('wasm');
    await tf.ready();
    await faceapi.nets.ssdMobilenetv1.loadFromDisk(folder);
    await faceapi.nets.faceLandmark68Net.loadFromDisk(folder);
    await faceapi.nets.faceRecognitionNet.loadFromDisk(folder);
    return engine(tf, faceapi);
  } catch (err) {
    throw new ReferentError(ErrorCode.ModelInvalid, `The face models could not be loaded: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

type Rect = { x: number; y: number; width: number; height: number };

/**
 * A face's pixels as face-api's extractFaceTensors cuts them (clipped to the image, then x, y,
 * width and height each floored: Box.clipAtImageBorders), but copied row by row from the decoded
 * bytes. face-api slices the whole-image tensor instead, and the WebAssembly backend does that one
 * pixel at a time in JavaScript: about 100 ms a face, more than the descriptor network itself.
 * Same values either way, so the networks see identical input (a test checks).
 */
function cropOf(tf: Tf, image: RgbPixels, box: Rect) {
  const cx = Math.max(box.x, 0);
  const cy = Math.max(box.y, 0);
  const width = Math.floor(Math.min(box.x + box.width - cx, image.width - cx));
  const height = Math.floor(Math.min(box.y + box.height - cy, image.height - cy));
  if (!(width > 0 && height > 0)) return null;
  const x = Math.floor(cx);
  const y = Math.floor(cy);
  const out = new Uint8Array(width * height * 3);
  for (let row = 0; row < height; row++) {
    const from = ((y + row) * image.width + x) * 3;
    out.set(image.data.subarray(from, from + width * 3), row * width * 3);
  }
  return tf.tensor3d(out, [height, width, 3], 'int32');
}

const plain = (b: Rect): Rect => ({ x: b.x, y: b.y, width: b.width, height: b.height });

function engine(tf: Tf, faceapi: FaceApi): TfjsFaces {
  const { ssdMobilenetv1, faceLandmark68Net, faceRecognitionNet } = faceapi.nets;
  const locate = async (image: RgbPixels, minScore: number, maxDetections: number) => {
    const input = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
    try {
      return await ssdMobilenetv1.locateFaces(input, { minConfidence: minScore, maxResults: maxDetections });
    } finally {
      input.dispose();
    }
  };
  /** face-api's steps for one face, one at a time (memory stays at one crop): landmarks on the detected box, then the descriptor on the box they align. */
  const describe = async (image: RgbPixels, box: Rect): Promise<Float32Array | null> => {
    const face = cropOf(tf, image, box);
    if (!face) return null;
    let landmarks: Awaited<ReturnType<typeof faceLandmark68Net.detectLandmarks>>;
    try {
      landmarks = await faceLandmark68Net.detectLandmarks(face);
    } finally {
      face.dispose();
    }
    if (Array.isArray(landmarks)) return null; // a batch answer to a single face: never happens
    const aligned = cropOf(tf, image, landmarks.shiftBy(box.x, box.y).align(null, { useDlibAlignment: true }));
    if (!aligned) return null;
    try {
      return (await faceRecognitionNet.computeFaceDescriptor(aligned)) as Float32Array;
    } finally {
      aligned.dispose();
    }
  };
  return {
    tensorCount: () => tf.memory().numTensors,
    async detect(image, { minScore, maxDetections, choose }) {
      const located = (await locate(image, minScore, maxDetections)).map((d) => ({ box: plain(d.box), score: d.score }));
      const out: DescribedFace[] = [];
      for (const face of choose(located)) {
        const descriptor = await describe(image, face.box);
        if (descriptor) out.push({ ...face, descriptor });
      }
      return out;
    },
    async detectWithLibrary(image, { minScore, maxDetections }) {
      const input = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
      try {
        const options = new faceapi.SsdMobilenetv1Options({ minConfidence: minScore, maxResults: maxDetections });
        const found = await faceapi.detectAllFaces(input, options).withFaceLandmarks().withFaceDescriptors();
        return found.map((f) => ({ box: plain(f.detection.box), score: f.detection.score, descriptor: f.descriptor }));
      } finally {
        input.dispose();
      }
    },
  };
}
