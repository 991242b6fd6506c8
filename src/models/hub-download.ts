/**
 * Pulls a model from a Hugging Face-compatible hub into `<modelsDir>/<owner>/<name>/`.
 * Protocol (the public hub API): `GET {hub}/api/models/{id}/tree/{rev}?recursive=true` lists files
 * (paged by a `Link: <...>; rel="next"` header), `GET {hub}/{id}/resolve/{rev}/{path}` serves one
 * (often by redirect to a CDN). Files stream into `<file>.partial`, resume with `Range`, are checked
 * against the listed size and hash, then renamed: a final name only ever holds a verified file, and
 * the manifest written last is what marks the folder complete.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { asDiskError, ErrorCode, ReferentError } from '../errors.js';
import { silentProgress, type Progress } from '../progress.js';
import { hubHttp, type HubHttp, type HubRequestContext, type HubStream } from './hub-http.js';
import {
  assertVariant, checkModelFolder, fileSize, hubModelDir, MODEL_MANIFEST_NAME, modelFiles,
  PARTIAL_SUFFIX, readModelManifest, variantsIn, type ModelManifest,
} from './model-files.js';

export interface PullOptions {
  /** "owner/name" on the hub; validated so nothing is written outside `modelsDir`. */
  hubId: string;
  modelsDir: string;
  /** 'fp32' (default) or the suffix of a quantised export: quantized, fp16, int8, uint8, q4, bnb4... */
  variant?: string;
  /** Default https://huggingface.co; a mirror or a test server works the same. */
  hubUrl?: string;
  /** Branch, tag or commit; default 'main'. */
  revision?: string;
  /** Access token for private or gated models (HF_TOKEN); sent only as a Bearer header. */
  token?: string;
  /** Receives one byte-counting bar over all files still to fetch (unit 'bytes'). */
  progress?: Progress;
  fetchImpl?: typeof fetch;
  signal?: AbortSignal;
  /** A request that receives nothing for this long is abandoned as a network failure. Default 60 s. */
  idleTimeoutMs?: number;
}

/** One file as the hub's tree listing describes it. */
interface TreeFile {
  path: string;
  size: number;
  /** Git blob id (sha1 over "blob <size>\0" + bytes) of the file, or of its LFS pointer. */
  oid?: string;
  /** Present for LFS-stored files: `oid` is the sha256 of the content. */
  lfs?: { oid: string; size: number };
}

type FileRecord = ModelManifest['files'][number];

interface PullContext extends HubRequestContext {
  http: HubHttp;
  meter: ByteMeter;
}

/**
 * Makes `<modelsDir>/<owner>/<name>/` a complete, verified copy of the model's files for `variant`
 * and returns that folder. When the folder is already complete for this id, revision and variant,
 * no request is made at all. Throws ReferentError: MODEL_NOT_FOUND (404, or the variant is not
 * published), MODEL_DOWNLOAD_FAILED (offline, token needed, interrupted, size/hash mismatch; its
 * details carry `folder`), DISK_FULL, USAGE_INVALID (malformed id or variant).
 */
export async function pullModel(options: PullOptions): Promise<string> {
  const variant = options.variant ?? 'fp32';
  assertVariant(variant);
  const ctx = createContext(options);
  const previous = await readModelManifest(ctx.dir);
  if (previous?.hubId === ctx.hubId && previous.revision === ctx.revision) {
    if ((await checkModelFolder(ctx.dir, variant, { requireManifest: true })).complete) return ctx.dir;
  }
  const wanted = selectFiles(ctx, await listTree(ctx), variant);
  const records: FileRecord[] = [];
  const todo: TreeFile[] = [];
  for (const entry of wanted) {
    const sha256 = await verifiedLocalCopy(ctx.dir, entry, previous);
    if (sha256) records.push({ path: entry.path, size: entry.size, sha256 });
    else todo.push(entry);
  }
  if (todo.length > 0) {
    ctx.meter.start(`Downloading ${ctx.hubId}`, todo.reduce((sum, f) => sum + f.size, 0));
    try {
      for (const entry of todo) records.push({ path: entry.path, size: entry.size, sha256: await downloadFile(ctx, entry) });
    } finally {
      ctx.meter.stop();
    }
  }
  await writeManifest(ctx, variant, previous, records);
  return ctx.dir;
}

function createContext(options: PullOptions): PullContext {
  const base: HubRequestContext = {
    hubId: options.hubId,
    dir: hubModelDir(options.modelsDir, options.hubId),
    hubUrl: (options.hubUrl ?? 'https://huggingface.co').replace(/\/+$/, ''),
    revision: options.revision ?? 'main',
    token: options.token,
    fetchImpl: options.fetchImpl ?? fetch,
    signal: options.signal,
    idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
  };
  return { ...base, http: hubHttp(base), meter: byteMeter(options.progress ?? silentProgress) };
}

/** All tree pages; only plain file entries are kept. */
async function listTree(ctx: PullContext): Promise<TreeFile[]> {
  let url: string | undefined = `${ctx.hubUrl}/api/models/${ctx.hubId}/tree/${encodeURIComponent(ctx.revision)}?recursive=true`;
  const files: TreeFile[] = [];
  // A hub that keeps sending "next" must not loop forever; 100 pages is far beyond any model repo.
  for (let page = 0; url !== undefined && page < 100; page++) {
    const { body, next } = await ctx.http.getJson(url);
    if (!Array.isArray(body)) throw ctx.http.failure(`${ctx.hubUrl} did not answer the file list with a JSON array: is hubUrl a Hugging Face hub?`);
    for (const item of body as Record<string, unknown>[]) {
      if (item?.type === 'file' && typeof item.path === 'string' && typeof item.size === 'number') files.push(item as unknown as TreeFile);
    }
    url = next;
  }
  return files;
}

/** The variant's files that the hub has; a required one it lacks means this variant is not published. */
function selectFiles(ctx: PullContext, tree: TreeFile[], variant: string): TreeFile[] {
  const byPath = new Map(tree.map((f) => [f.path, f]));
  const specs = modelFiles(variant);
  const missing = specs.filter((s) => s.required && !byPath.has(s.path)).map((s) => s.path);
  if (missing.length > 0) {
    const available = variantsIn(byPath.keys());
    throw new ReferentError(
      ErrorCode.ModelNotFound,
      `${ctx.hubId} (revision ${ctx.revision}) has no ${missing.join(', ')}: it is not a CLIP ONNX export with variant "${variant}"` +
        (available.length > 0 ? ` (variants there: ${available.join(', ')}).` : '.'),
      { details: { folder: ctx.dir, hubId: ctx.hubId, missing, available } },
    );
  }
  return specs.flatMap((s) => byPath.get(s.path) ?? []);
}

/** sha256 of the file already at its final name when it matches the hub's entry; undefined otherwise. */
async function verifiedLocalCopy(dir: string, entry: TreeFile, manifest: ModelManifest | undefined): Promise<string | undefined> {
  const path = join(dir, entry.path);
  if ((await fileSize(path)) !== entry.size || entry.size === 0) return undefined;
  const recorded = manifest?.files.find((f) => f.path === entry.path);
  // Rehashing hundreds of MB on every pull is slow; an LFS file our manifest already vouches for is trusted.
  if (entry.lfs && recorded?.size === entry.size && recorded.sha256 === entry.lfs.oid.toLowerCase()) return recorded.sha256;
  const hasher = createHasher(entry);
  await hasher.feedFile(path);
  const result = hasher.result(entry);
  return result.ok ? result.sha256 : undefined;
}

/** Streams one file to `<file>.partial` (resuming when the server allows), verifies, renames; returns its sha256. */
async function downloadFile(ctx: PullContext, entry: TreeFile): Promise<string> {
  const target = join(ctx.dir, entry.path);
  const partial = target + PARTIAL_SUFFIX;
  await mkdir(dirname(target), { recursive: true }).catch((err: unknown) => {
    throw asDiskError(err, target);
  });
  let offset = await fileSize(partial);
  if (offset >= entry.size) {
    await rm(partial, { force: true });
    offset = 0;
  }
  const url = `${ctx.hubUrl}/${ctx.hubId}/resolve/${encodeURIComponent(ctx.revision)}/${entry.path.split('/').map(encodeURIComponent).join('/')}`;
  const download = await ctx.http.getStream(url, offset, entry.path).catch(async (err: unknown) => {
    // 416, or a 206 for another range: the partial no longer fits what the hub serves; start clean next time.
    const status = err instanceof ReferentError ? err.details.status : undefined;
    if (status === 416 || status === 206) await rm(partial, { force: true });
    throw err;
  });
  const hasher = createHasher(entry);
  // A 200 answer to a Range request means the server ignored it: start over.
  await receive(ctx, download, hasher, partial, download.start === offset ? offset : 0);
  return finalize(ctx, entry, partial, target, hasher.result(entry));
}

/**
 * Appends the body to the partial from `offset`, hashing the bytes already there first. Each chunk is
 * written before the next is read, so whatever arrived before a dropped connection is kept for the resume.
 */
async function receive(ctx: PullContext, download: HubStream, hasher: Hasher, partial: string, offset: number): Promise<void> {
  let file: FileHandle | undefined;
  try {
    if (offset > 0) await hasher.feedFile(partial);
    ctx.meter.add(offset);
    file = await open(partial, offset > 0 ? 'a' : 'w');
    for await (const chunk of download.body) {
      download.alive();
      hasher.update(chunk);
      // write() may take less than the whole chunk; a short write would silently corrupt the file.
      for (let at = 0; at < chunk.length; ) at += (await file.write(chunk, at)).bytesWritten;
      ctx.meter.add(chunk.length);
    }
  } catch (err) {
    await download.body.cancel().catch(() => undefined); // frees the connection if we failed before reading
    throw download.interrupted(err, partial);
  } finally {
    download.done();
    await file?.close();
  }
}

/** Size and hash check, then the atomic rename; a mismatch deletes the partial. */
async function finalize(ctx: PullContext, entry: TreeFile, partial: string, target: string, hash: { sha256: string; ok: boolean }): Promise<string> {
  const size = await fileSize(partial);
  if (size !== entry.size || !hash.ok) {
    await rm(partial, { force: true });
    const what = size !== entry.size ? `${size} bytes instead of ${entry.size}` : 'content whose checksum differs from the hub listing';
    throw ctx.http.failure(`${entry.path} from ${ctx.hubUrl} arrived as ${what}; it was discarded. Run the pull again; if it keeps failing, the hub or a proxy is altering files.`, {
      file: entry.path,
      expectedSize: entry.size,
      size,
    });
  }
  await rename(partial, target).catch((err: unknown) => {
    throw asDiskError(err, target);
  });
  return hash.sha256;
}

/** Manifest last, through a temp file: its presence means every file it lists was verified. */
async function writeManifest(ctx: PullContext, variant: string, previous: ModelManifest | undefined, records: FileRecord[]): Promise<void> {
  const sameModel = previous?.hubId === ctx.hubId;
  const kept = sameModel ? previous.files.filter((f) => !records.some((r) => r.path === f.path)) : [];
  const manifest: ModelManifest = {
    hubId: ctx.hubId,
    revision: ctx.revision,
    variant,
    variants: [...new Set([...(sameModel ? previous.variants : []), variant])].sort(),
    files: [...kept, ...records].sort((a, b) => a.path.localeCompare(b.path)),
    pulledAt: new Date().toISOString(),
  };
  const path = join(ctx.dir, MODEL_MANIFEST_NAME);
  try {
    await writeFile(path + PARTIAL_SUFFIX, `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(path + PARTIAL_SUFFIX, path);
  } catch (err) {
    throw asDiskError(err, path);
  }
}

interface Hasher {
  update(chunk: Uint8Array): void;
  feedFile(path: string): Promise<void>;
  /** `ok` compares with the LFS sha256, or with the git blob id for small files. */
  result(entry: TreeFile): { sha256: string; ok: boolean };
}

function createHasher(entry: TreeFile): Hasher {
  const sha256 = createHash('sha256');
  // Non-LFS files carry only their git blob id, so that is what can be checked for them.
  const gitBlob: Hash | undefined = entry.lfs ? undefined : createHash('sha1').update(`blob ${entry.size}\0`);
  const update = (chunk: Uint8Array): void => {
    sha256.update(chunk);
    gitBlob?.update(chunk);
  };
  return {
    update,
    async feedFile(path) {
      for await (const chunk of createReadStream(path)) update(chunk as Uint8Array);
    },
    result(e) {
      const sha = sha256.digest('hex');
      if (e.lfs) return { sha256: sha, ok: sha === e.lfs.oid.toLowerCase() };
      const blob = gitBlob?.digest('hex');
      return { sha256: sha, ok: !/^[0-9a-f]{40}$/i.test(e.oid ?? '') || blob === e.oid?.toLowerCase() };
    },
  };
}

interface ByteMeter {
  start(label: string, total: number): void;
  add(bytes: number): void;
  stop(): void;
}

/** One bar across all files: positions are absolute so a renderer's rate and ETA stay right. */
function byteMeter(progress: Progress): ByteMeter {
  let position = 0;
  return {
    start(label, total) {
      position = 0;
      progress.start(label, total, 'bytes');
    },
    add(bytes) {
      if (bytes === 0) return;
      position += bytes;
      if (progress.update) progress.update(position);
      else progress.tick(bytes);
    },
    stop: () => progress.stop(),
  };
}
