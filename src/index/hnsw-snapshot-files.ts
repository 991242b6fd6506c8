/**
 * The files of an HNSW snapshot: `<base>.hnsw` (hnswlib's own format) and `<base>.json` (the
 * sidecar that vouches for it with size and sha256), their paths, checks and durable writes.
 * No hnswlib import here: this is plain file work.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, stat, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ErrorCode, ReferentError } from '../errors.js';

export const SIDECAR_FORMAT = 'referent-hnsw';
export const SIDECAR_VERSION = 1;

/** The JSON written next to the .hnsw file; it vouches for that file (size + sha256). */
export interface Sidecar {
  format: typeof SIDECAR_FORMAT;
  version: number;
  dim: number;
  space: 'ip';
  m: number;
  efConstruction: number;
  watermark: number;
  live: number;
  /** labels[label] = id, or null for a deleted label (its slot is still in the graph). */
  labels: Array<string | null>;
  hnswBytes: number;
  hnswSha256: string;
}

export function snapshotPaths(basePath: string) {
  const hnsw = `${basePath}.hnsw`;
  const json = `${basePath}.json`;
  return { hnsw, json, hnswTmp: `${hnsw}.tmp`, jsonTmp: `${json}.tmp` };
}

/**
 * Which files a snapshot is right now (inode, size, time of both), or null when either is missing.
 * Compared with the value taken when the snapshot was written or loaded, it tells whether someone
 * deleted, truncated or replaced the files since, without reading them.
 */
export async function snapshotStamp(basePath: string): Promise<string | null> {
  const paths = snapshotPaths(basePath);
  try {
    const stamps = await Promise.all([paths.hnsw, paths.json].map(async (p) => {
      const s = await stat(p);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    }));
    return stamps.join('|');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export function corrupt(reason: string, path: string, cause?: unknown): ReferentError {
  return new ReferentError(ErrorCode.IndexCorrupt, `The vector index snapshot is unusable (${reason}): ${path}`, {
    cause,
    details: { reason, path },
  });
}

export function missingAsCorrupt(path: string): (err: NodeJS.ErrnoException) => never {
  return (err) => {
    throw err.code === 'ENOENT' ? corrupt('missing', path, err) : err;
  };
}

export function parseSidecar(text: string, dim: number, path: string): Sidecar {
  let s: Partial<Sidecar>;
  try {
    s = JSON.parse(text) as Partial<Sidecar>;
  } catch (err) {
    throw corrupt('sidecar-invalid', path, err);
  }
  if (s === null || typeof s !== 'object' || s.format !== SIDECAR_FORMAT) throw corrupt('sidecar-invalid', path);
  if (s.version !== SIDECAR_VERSION) throw corrupt('version', path);
  if (s.dim !== dim) throw corrupt('dim-mismatch', path);
  const wellFormed =
    s.space === 'ip' &&
    [s.m, s.efConstruction, s.live, s.hnswBytes].every((v) => Number.isSafeInteger(v)) &&
    typeof s.watermark === 'number' &&
    Number.isFinite(s.watermark) &&
    typeof s.hnswSha256 === 'string' &&
    Array.isArray(s.labels) &&
    s.labels.every((id) => id === null || typeof id === 'string');
  if (!wellFormed) throw corrupt('sidecar-invalid', path);
  const ids = s.labels!.filter((id) => id !== null);
  if (ids.length !== s.live || new Set(ids).size !== s.live) throw corrupt('count-mismatch', path);
  return s as Sidecar;
}

/**
 * Reads the sidecar and proves it vouches for the graph file beside it (size and sha256); throws
 * INDEX_CORRUPT with `details.reason` otherwise. The graph itself is not parsed here.
 */
export async function verifySnapshotFiles(basePath: string, dim: number): Promise<Sidecar> {
  const paths = snapshotPaths(basePath);
  const text = await readFile(paths.json, 'utf8').catch(missingAsCorrupt(paths.json));
  const sidecar = parseSidecar(text, dim, paths.json);
  const actual = await hashFile(paths.hnsw).catch(missingAsCorrupt(paths.hnsw));
  if (actual.bytes !== sidecar.hnswBytes) throw corrupt('size-mismatch', paths.hnsw);
  if (actual.sha256 !== sidecar.hnswSha256) throw corrupt('checksum-mismatch', paths.hnsw);
  return sidecar;
}

export async function hashFile(path: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/**
 * hnswlib writes through std::ofstream and never checks it, so a full disk yields a short file and
 * no error. Walk the file's own layout to prove it is whole, then hash it and fsync it.
 */
export async function sealGraphFile(path: string): Promise<{ bytes: number; sha256: string }> {
  const { size } = await stat(path);
  const expected = await graphFileLength(path);
  if (expected !== size) {
    const fs = await statfs(dirname(path));
    const err = new Error(`hnswlib wrote ${size} bytes of ${expected ?? 'an unknown length'} to ${path}`);
    // A short write with the disk (nearly) full is ENOSPC swallowed by the C++ stream.
    throw fs.bavail * fs.bsize < 1 << 20 ? Object.assign(err, { code: 'ENOSPC' }) : err;
  }
  const digest = await hashFile(path);
  const fh = await open(path, 'r+');
  await fh.sync().finally(() => fh.close());
  return digest;
}

/** Length implied by hnswlib's saveIndex layout (96-byte header, level-0 block, per-element link lists). */
export async function graphFileLength(path: string): Promise<number | undefined> {
  const fh = await open(path, 'r');
  try {
    const header = Buffer.alloc(96);
    if ((await fh.read(header, 0, 96, 0)).bytesRead < 96) return undefined;
    const count = Number(header.readBigUInt64LE(16));
    const perElement = Number(header.readBigUInt64LE(24));
    let pos = 96 + count * perElement;
    const window = Buffer.alloc(1 << 20);
    let windowStart = 0;
    let windowEnd = 0;
    for (let i = 0; i < count; i++) {
      if (pos + 4 > windowEnd) {
        const { bytesRead } = await fh.read(window, 0, window.length, pos);
        if (bytesRead < 4) return undefined;
        windowStart = pos;
        windowEnd = pos + bytesRead;
      }
      pos += 4 + window.readUInt32LE(pos - windowStart);
    }
    return pos;
  } finally {
    await fh.close();
  }
}
