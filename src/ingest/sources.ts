/**
 * What to ingest: a folder of images, a JSONL manifest or a CSV manifest. Manifest paths are
 * relative to the manifest's folder. A bad manifest line does not stop the run: it becomes a
 * failed entry with its line number, so a summary can list every problem at once.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import type { ItemSource } from '../catalog/catalog.js';
import { ErrorCode, ReferentError } from '../errors.js';

export interface IngestSource {
  /** Absolute path of the image file; or, for images that arrive in memory (chat uploads), `bytes`. */
  path: string;
  bytes?: Uint8Array;
  /** Who posted it and where (chat); default: the CLI, with `origin` as the reference. */
  postedBy?: ItemSource;
  caption?: string;
  entity?: string;
  collection?: string;
  /** Where it came from, for messages: "manifest.jsonl:12" or the file path. */
  origin: string;
}

export interface SourceProblem {
  origin: string;
  reason: string;
}

export interface SourceList {
  sources: IngestSource[];
  problems: SourceProblem[];
}

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.heic', '.heif']);

/** Reads a folder (recursively), a .jsonl/.ndjson manifest or a .csv manifest. */
export async function readSources(input: string): Promise<SourceList> {
  const stat = await fs.stat(input).catch(() => null);
  if (!stat) throw new ReferentError(ErrorCode.ManifestInvalid, `Nothing to ingest at ${input}: no such file or folder.`, { details: { path: input } });
  if (stat.isDirectory()) return { sources: await walkFolder(path.resolve(input)), problems: [] };
  const ext = path.extname(input).toLowerCase();
  const text = await fs.readFile(input, 'utf8');
  const base = path.dirname(path.resolve(input));
  if (ext === '.jsonl' || ext === '.ndjson') return parseJsonl(text, base, path.basename(input));
  if (ext === '.csv') return parseCsvManifest(text, base, path.basename(input));
  throw new ReferentError(ErrorCode.ManifestInvalid, `Cannot ingest ${input}: give a folder, a .jsonl manifest or a .csv manifest.`, { details: { path: input } });
}

async function walkFolder(root: string): Promise<IngestSource[]> {
  const out: IngestSource[] = [];
  const entries = await fs.readdir(root, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile() || entry.name.startsWith('.')) continue;
    if (!IMAGE_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) continue;
    const file = path.join(entry.parentPath, entry.name);
    out.push({ path: file, origin: path.relative(root, file) });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

function optionalString(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new Error(`"${key}" must be a string`);
  return value;
}

function toSource(record: Record<string, unknown>, base: string, origin: string): IngestSource {
  const image = optionalString(record, 'image');
  if (!image) throw new Error('"image" is missing');
  const source: IngestSource = { path: path.resolve(base, image), origin };
  const caption = optionalString(record, 'caption');
  const entity = optionalString(record, 'entity');
  const collection = optionalString(record, 'collection');
  if (caption !== undefined) source.caption = caption;
  if (entity !== undefined) source.entity = entity;
  if (collection !== undefined) source.collection = collection;
  return source;
}

function parseJsonl(text: string, base: string, name: string): SourceList {
  const list: SourceList = { sources: [], problems: [] };
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const origin = `${name}:${i + 1}`;
    try {
      const record: unknown = JSON.parse(line);
      if (typeof record !== 'object' || record === null || Array.isArray(record)) throw new Error('not a JSON object');
      list.sources.push(toSource(record as Record<string, unknown>, base, origin));
    } catch (err) {
      list.problems.push({ origin, reason: err instanceof SyntaxError ? 'not valid JSON' : (err as Error).message });
    }
  });
  return list;
}

function parseCsvManifest(text: string, base: string, name: string): SourceList {
  let rows: Array<Record<string, string>>;
  try {
    rows = parseCsv(text, { columns: true, skip_empty_lines: true, trim: true, bom: true });
  } catch (err) {
    throw new ReferentError(ErrorCode.ManifestInvalid, `${name} is not valid CSV: ${(err as Error).message}`, { cause: err });
  }
  const list: SourceList = { sources: [], problems: [] };
  rows.forEach((row, i) => {
    const origin = `${name}:${i + 2}`; // +1 for the header, +1 for 1-based lines
    try {
      list.sources.push(toSource(row, base, origin));
    } catch (err) {
      list.problems.push({ origin, reason: (err as Error).message });
    }
  });
  return list;
}
