import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, ReferentError } from '../../src/errors.js';
import type { Progress } from '../../src/progress.js';
import { pullModel, type PullOptions } from '../../src/models/hub-download.js';
import { checkModelFolder, MODEL_MANIFEST_NAME, modelFiles, PARTIAL_SUFFIX } from '../../src/models/model-files.js';
import { listModels, resolveModel } from '../../src/models/model-resolver.js';
import { startFakeHub, type FakeHub } from './fake-hub.js';

const FIXTURE = resolve('test/fixtures/tiny-clip');
const HUB_ID = 'test-org/tiny-clip';

let hub: FakeHub;
let source: string;
let work: string;
let modelsDir: string;
let modelDir: string;

beforeAll(async () => {
  source = FIXTURE;
  hub = await startFakeHub({ [HUB_ID]: source });
});
afterAll(async () => {
  await hub.close();
});
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'referent-pull-'));
  modelsDir = join(work, 'models');
  modelDir = resolve(modelsDir, 'test-org', 'tiny-clip');
  hub.requests.length = 0;
  hub.faults = {};
});
afterEach(async () => rm(work, { recursive: true, force: true }));

function pull(extra: Partial<PullOptions> = {}): Promise<string> {
  return pullModel({ hubId: HUB_ID, modelsDir, hubUrl: hub.url, idleTimeoutMs: 5_000, ...extra });
}

async function rejection(promise: Promise<unknown>): Promise<ReferentError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ReferentError);
  return err as ReferentError;
}

async function expectSameFiles(dir: string): Promise<void> {
  for (const file of modelFiles('fp32')) {
    if (!existsSync(join(source, file.path))) continue;
    expect(Buffer.compare(await readFile(join(dir, file.path)), await readFile(join(source, file.path))), file.path).toBe(0);
  }
}

function recordingProgress(): Progress & { total: number; position: number; stopped: boolean } {
  const p = {
    total: 0,
    position: 0,
    stopped: false,
    start(_label: string, total?: number) {
      p.total = total ?? 0;
    },
    tick(delta = 1) {
      p.position += delta;
    },
    update(value: number) {
      p.position = value;
    },
    stop() {
      p.stopped = true;
    },
  };
  return p;
}

const failingFetch: typeof fetch = () => {
  throw new Error('the network must not be used');
};

describe('pullModel against a fake hub', () => {
  it('produces a complete folder byte-identical to the source, with the bar reaching the total', async () => {
    const progress = recordingProgress();
    const dir = await pull({ progress });
    expect(dir).toBe(modelDir);
    expect(await checkModelFolder(dir, 'fp32', { requireManifest: true })).toEqual({ complete: true, missing: [] });
    await expectSameFiles(dir);
    expect(progress.total).toBeGreaterThan(0);
    expect(progress.position).toBe(progress.total);
    expect(progress.stopped).toBe(true);
    expect(hub.requests.some((r) => r.url.startsWith('/cdn/'))).toBe(true); // followed the LFS redirect
    expect(existsSync(join(dir, 'README.md'))).toBe(false); // only the files a model needs
    const manifest = JSON.parse(await readFile(join(dir, MODEL_MANIFEST_NAME), 'utf8'));
    expect(manifest).toMatchObject({ hubId: HUB_ID, revision: 'main', variant: 'fp32', variants: ['fp32'] });
  });

  it('makes no request at all once the model is present', async () => {
    await pull();
    hub.requests.length = 0;
    await pull();
    const resolved = await resolveModel({ model: HUB_ID, modelsDir, allowDownload: true, pull: { hubUrl: hub.url } });
    expect(resolved).toEqual({ dir: modelDir, hubId: HUB_ID, source: 'models-dir' });
    const offline = await resolveModel({ model: HUB_ID, modelsDir, allowDownload: true, pull: { fetchImpl: failingFetch } });
    expect(offline.source).toBe('models-dir');
    expect(hub.requests).toHaveLength(0);
  });

  it('resumes a download cut halfway with a Range request and ends byte-identical', async () => {
    hub.faults.cutOnce = 'onnx/vision_model.onnx';
    const err = await rejection(pull());
    expect(err.code).toBe(ErrorCode.ModelDownloadFailed);
    expect(err.details.folder).toBe(modelDir);
    const target = join(modelDir, 'onnx/vision_model.onnx');
    expect(existsSync(target)).toBe(false);
    const kept = (await stat(target + PARTIAL_SUFFIX)).size;
    expect(kept).toBeGreaterThan(0);
    expect(existsSync(join(modelDir, MODEL_MANIFEST_NAME))).toBe(false);

    hub.requests.length = 0;
    const progress = recordingProgress();
    await pull({ progress });
    expect(hub.requests.some((r) => r.url.includes('vision_model.onnx') && r.range === `bytes=${kept}-`)).toBe(true);
    expect(existsSync(target + PARTIAL_SUFFIX)).toBe(false);
    expect(progress.position).toBe(progress.total);
    await expectSameFiles(modelDir);
  });

  it('starts over when the server ignores the Range', async () => {
    hub.faults.cutOnce = 'onnx/text_model.onnx';
    await rejection(pull());
    hub.faults.ignoreRange = true;
    await pull();
    await expectSameFiles(modelDir);
  });

  it('gives up on a stalled download after the idle timeout, as a network failure', async () => {
    hub.faults.stallOnce = 'onnx/text_model.onnx';
    const err = await rejection(pull({ idleTimeoutMs: 300 }));
    expect(err.code).toBe(ErrorCode.ModelDownloadFailed);
    expect(err.details).toMatchObject({ folder: modelDir, code: 'ETIMEDOUT' });
  });

  it.each(['onnx/text_model.onnx', 'config.json'])('rejects corrupted bytes in %s and leaves nothing under the final name', async (file) => {
    hub.faults.corrupt = file;
    const err = await rejection(pull());
    expect(err.code).toBe(ErrorCode.ModelDownloadFailed);
    expect(existsSync(join(modelDir, file))).toBe(false);
    expect(existsSync(join(modelDir, file + PARTIAL_SUFFIX))).toBe(false);
    expect((await checkModelFolder(modelDir, 'fp32')).complete).toBe(false);
  });

  it('reports an unknown model, revision or variant as MODEL_NOT_FOUND', async () => {
    expect((await rejection(pull({ hubId: 'test-org/nope' }))).code).toBe(ErrorCode.ModelNotFound);
    expect((await rejection(pull({ revision: 'v9' }))).code).toBe(ErrorCode.ModelNotFound);
    const variant = await rejection(pull({ variant: 'nosuchvariant' }));
    expect(variant.code).toBe(ErrorCode.ModelNotFound);
    expect(variant.details.available).toContain('fp32');
    // huggingface.co answers 401 + RepoNotFound for a missing repo when no token is sent
    hub.faults = { status: 401, errorCode: 'RepoNotFound' };
    expect((await rejection(pull())).code).toBe(ErrorCode.ModelNotFound);
  });

  it('says a token is needed on 401/403, and sends it as a Bearer header', async () => {
    hub.faults.token = 'hf_secret';
    const err = await rejection(pull());
    expect(err.code).toBe(ErrorCode.ModelDownloadFailed);
    expect(err.details).toMatchObject({ status: 401, folder: modelDir });
    expect(JSON.stringify(err.details)).not.toContain('hf_secret');
    await pull({ token: 'hf_secret' });
    await expectSameFiles(modelDir);
  });

  it('reports an unreachable hub as offline, naming the folder to copy a model into', async () => {
    const err = await rejection(pull({ hubUrl: `http://127.0.0.1:${await closedPort()}` }));
    expect(err.code).toBe(ErrorCode.ModelDownloadFailed);
    expect(err.details).toMatchObject({ folder: modelDir, code: 'ECONNREFUSED' });
    expect(err.message).toContain(modelDir);
  });

  it('follows a paged file list', async () => {
    hub.faults.pageSize = 2;
    await pull();
    expect(hub.requests.filter((r) => r.url.includes('/tree/')).length).toBeGreaterThan(1);
    await expectSameFiles(modelDir);
  });

  it.each(['../x', 'a/../../x', '/etc/x', 'a/b/c', 'a\\b/c', '..', 'a/..', '.a/b'])('refuses the id %s before any request', async (hubId) => {
    expect((await rejection(pull({ hubId }))).code).toBe(ErrorCode.UsageInvalid);
    expect(hub.requests).toHaveLength(0);
    expect(existsSync(join(work, 'x'))).toBe(false);
  });

  it('refuses a variant that is not a plain word', async () => {
    expect((await rejection(pull({ variant: '../../x' }))).code).toBe(ErrorCode.UsageInvalid);
    expect(hub.requests).toHaveLength(0);
  });
});

describe('resolveModel and listModels', () => {
  it('uses an existing folder path as is, without touching the network', async () => {
    const opts = { modelsDir, allowDownload: true, pull: { fetchImpl: failingFetch } };
    expect(await resolveModel({ ...opts, model: source })).toEqual({ dir: source, source: 'folder' });
    const rel = `./${relative(process.cwd(), source)}`;
    expect((await resolveModel({ ...opts, model: rel })).dir).toBe(source);
    // A relative path to a folder that is surely not there (not '../x', which a machine may have).
    const missing = await rejection(resolveModel({ ...opts, model: `./${relative(process.cwd(), join(work, 'no-such-model'))}` }));
    expect(missing.code).toBe(ErrorCode.ModelNotFound);
    expect(hub.requests).toHaveLength(0);
  });

  it('downloads when allowed, and otherwise says where to copy the folder', async () => {
    const offline = await rejection(resolveModel({ model: HUB_ID, modelsDir, allowDownload: false, pull: { fetchImpl: failingFetch } }));
    expect(offline.code).toBe(ErrorCode.ModelNotFound);
    expect(offline.details.folder).toBe(modelDir);
    const resolved = await resolveModel({ model: HUB_ID, modelsDir, allowDownload: true, pull: { hubUrl: hub.url } });
    expect(resolved).toEqual({ dir: modelDir, hubId: HUB_ID, source: 'downloaded' });
    await expectSameFiles(resolved.dir);
  });

  it('treats a pull that stopped halfway as incomplete when downloading is off', async () => {
    hub.faults.cutOnce = 'onnx/vision_model.onnx';
    await rejection(pull());
    const err = await rejection(resolveModel({ model: HUB_ID, modelsDir, allowDownload: false }));
    expect(err.code).toBe(ErrorCode.ModelIncomplete);
    expect(err.details.folder).toBe(modelDir);
  });

  it('lists pulled models with their variants and size', async () => {
    expect(await listModels(modelsDir)).toEqual([]);
    await pull();
    const [listed, ...rest] = await listModels(modelsDir);
    expect(rest).toEqual([]);
    expect(listed).toMatchObject({ id: HUB_ID, dir: modelDir, variants: ['fp32'], complete: true });
    expect(listed?.bytes).toBeGreaterThan(0);
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}
