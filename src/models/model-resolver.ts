/**
 * Turns the configured model (a folder path or a hub id) into a folder on disk. The rule that
 * matters for air-gapped sites: a folder path, or a complete folder in the models dir, is used
 * without any network call; only a missing model with downloading allowed reaches the hub.
 */
import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { ErrorCode, ReferentError } from '../errors.js';
import { pullModel, type PullOptions } from './hub-download.js';
import { assertVariant, checkModelFolder, copyModelHint, hubModelDir, parseHubId, variantsIn } from './model-files.js';

export interface ResolveModelOptions {
  /** A hub id ("owner/name") or a path to a model folder. */
  model: string;
  modelsDir: string;
  /** Default 'fp32'. */
  variant?: string;
  /** False on sites that must never reach a hub: a missing model is then an error, not a download. */
  allowDownload: boolean;
  /** Passed to pullModel when a download happens (hub URL, token, progress...). */
  pull?: Omit<PullOptions, 'hubId' | 'modelsDir' | 'variant'>;
}

export interface ResolvedModel {
  /** Absolute folder holding the model files. */
  dir: string;
  /** Set when the model was named by hub id. */
  hubId?: string;
  source: 'folder' | 'models-dir' | 'downloaded';
}

/** One entry of `referent models list`. */
export interface ListedModel {
  id: string;
  dir: string;
  /** Variants whose two ONNX towers are present (possibly not yet verified). */
  variants: string[];
  /** At least one variant is complete and vouched for by a finished pull. */
  complete: boolean;
  /** Disk use of the folder, leftovers included. */
  bytes: number;
}

/**
 * Finds (and, if allowed and needed, downloads) the model. Folder paths are used as they are and must
 * hold the variant's files (MODEL_INCOMPLETE otherwise); a folder path that does not exist is
 * MODEL_NOT_FOUND. A hub id not complete in the models dir is MODEL_NOT_FOUND (no folder) or
 * MODEL_INCOMPLETE (a partial one) when downloading is off; both say where to copy a model folder.
 */
export async function resolveModel(options: ResolveModelOptions): Promise<ResolvedModel> {
  const variant = options.variant ?? 'fp32';
  assertVariant(variant);
  const folder = await asFolderPath(options.model);
  if (folder !== undefined) {
    const check = await checkModelFolder(folder, variant);
    if (!check.complete) {
      throw new ReferentError(ErrorCode.ModelIncomplete, `The model folder ${folder} lacks ${check.missing.join(', ')} (variant ${variant}).`, {
        details: { folder, variant, missing: check.missing },
      });
    }
    return { dir: folder, source: 'folder' };
  }
  const hubId = options.model;
  const dir = hubModelDir(options.modelsDir, hubId);
  const check = await checkModelFolder(dir, variant, { requireManifest: true });
  if (check.complete) return { dir, hubId, source: 'models-dir' };
  if (!options.allowDownload) throw notInstalledError(hubId, dir, variant, check.missing, await isDirectory(dir));
  const pulled = await pullModel({ ...options.pull, hubId, modelsDir: options.modelsDir, variant });
  return { dir: pulled, hubId, source: 'downloaded' };
}

/** The models in `<modelsDir>/<owner>/<name>/`, sorted by id; an absent models dir lists nothing. */
export async function listModels(modelsDir: string): Promise<ListedModel[]> {
  const listed: ListedModel[] = [];
  for (const owner of await subfolders(modelsDir)) {
    for (const name of await subfolders(join(modelsDir, owner))) {
      const id = `${owner}/${name}`;
      try {
        parseHubId(id);
      } catch {
        continue; // not something a pull could have made
      }
      listed.push(await describeFolder(id, resolve(modelsDir, owner, name)));
    }
  }
  return listed.sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * The model as a folder path, or undefined for a hub id. Explicit paths (absolute, ./, ../) must
 * exist; anything else is a path only when such a folder exists, so hub ids keep working.
 */
async function asFolderPath(model: string): Promise<string | undefined> {
  const explicit = isAbsolute(model) || /^\.\.?([\\/]|$)/.test(model);
  const abs = resolve(model);
  if (await isDirectory(abs)) return abs;
  if (explicit) {
    throw new ReferentError(ErrorCode.ModelNotFound, `There is no model folder at ${abs}.`, { details: { folder: abs } });
  }
  return undefined;
}

/** `partial`: the folder exists, so a copy or pull did not finish (or was made by hand). */
function notInstalledError(hubId: string, dir: string, variant: string, missing: string[], partial: boolean): ReferentError {
  const code = partial ? ErrorCode.ModelIncomplete : ErrorCode.ModelNotFound;
  const what = partial
    ? `The folder ${dir} does not hold a complete, verified ${hubId} (variant ${variant}): missing ${missing.join(', ')}. ` +
      `(To use files that came from elsewhere as they are, give the folder path itself as the model.) `
    : `The model ${hubId} (variant ${variant}) is not installed, and downloading is turned off. `;
  return new ReferentError(code, what + copyModelHint(hubId, dir), { details: { folder: dir, hubId, variant, missing } });
}

async function describeFolder(id: string, dir: string): Promise<ListedModel> {
  const files = await filesUnder(dir);
  const variants = variantsIn(files.filter((f) => f.size > 0).map((f) => f.path));
  let complete = false;
  for (const variant of variants) {
    if ((await checkModelFolder(dir, variant, { requireManifest: true })).complete) complete = true;
  }
  return { id, dir, variants, complete, bytes: files.reduce((sum, f) => sum + f.size, 0) };
}

async function filesUnder(dir: string): Promise<{ path: string; size: number }[]> {
  const names = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  const files: { path: string; size: number }[] = [];
  for (const name of names) {
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (info?.isFile()) files.push({ path: name.split(sep).join('/'), size: info.size });
  }
  return files;
}

async function subfolders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}
