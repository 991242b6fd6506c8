/**
 * What a model folder (Hugging Face ONNX layout) must hold, and checks over it. Pure file-system
 * work, never network: the resolver and `referent models list` rely on these to decide that a
 * model is present without asking any hub.
 */
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ErrorCode, ReferentError } from '../errors.js';

/** Hub id of the model used when none is configured. */
export const DEFAULT_MODEL_ID = 'Xenova/clip-vit-base-patch16';
/** Written last by a pull: its presence is what makes a folder in the models dir "complete". */
export const MODEL_MANIFEST_NAME = '.referent-model.json';
/** Suffix of a file still being downloaded; never counted as the file itself. */
export const PARTIAL_SUFFIX = '.partial';

/** One file of a model folder, by its path relative to the folder (forward slashes). */
export interface ModelFile {
  readonly path: string;
  readonly required: boolean;
}

/** Record of a pull, stored as `.referent-model.json`. `files` covers every variant pulled so far. */
export interface ModelManifest {
  hubId: string;
  revision: string;
  /** The variant of the latest pull; `variants` lists all pulled into this folder. */
  variant: string;
  variants: string[];
  files: { path: string; size: number; sha256: string }[];
  pulledAt: string;
}

export interface ModelFolderCheck {
  complete: boolean;
  /** Paths (relative to the folder) that are absent, empty, or not vouched for by the manifest. */
  missing: string[];
}

// The variant becomes part of a file name: keep it to a plain word so it cannot walk out of onnx/.
const VARIANT_RE = /^[A-Za-z0-9_]{1,32}$/;
// Hugging Face repo names: letters, digits, '.', '_', '-', not starting with a separator.
const HUB_PART_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;

/** Throws USAGE_INVALID for a variant that is not a plain word (fp32, quantized, fp16, q4, ...). */
export function assertVariant(variant: string): void {
  if (!VARIANT_RE.test(variant)) {
    throw new ReferentError(ErrorCode.UsageInvalid, `"${variant}" is not a model variant: use fp32, quantized, fp16, int8, uint8, q4, bnb4...`, {
      details: { variant },
    });
  }
}

/** File-name suffix of a variant's ONNX files: '' for fp32, `_${variant}` otherwise. */
export function onnxSuffix(variant: string): string {
  assertVariant(variant);
  return variant === 'fp32' ? '' : `_${variant}`;
}

/** Every file a model needs for `variant`, required ones first. */
export function modelFiles(variant: string): readonly ModelFile[] {
  const suffix = onnxSuffix(variant);
  return [
    { path: 'config.json', required: true },
    { path: 'tokenizer.json', required: true },
    { path: 'tokenizer_config.json', required: true },
    { path: 'preprocessor_config.json', required: true },
    { path: `onnx/text_model${suffix}.onnx`, required: true },
    { path: `onnx/vision_model${suffix}.onnx`, required: true },
    { path: 'special_tokens_map.json', required: false },
  ];
}

/** Variants for which both towers appear among `paths` (relative, forward slashes), sorted. */
export function variantsIn(paths: Iterable<string>): string[] {
  const all = new Set(paths);
  const found = new Set<string>();
  for (const p of all) {
    const m = /^onnx\/text_model(_[A-Za-z0-9_]+)?\.onnx$/.exec(p);
    if (m && all.has(`onnx/vision_model${m[1] ?? ''}.onnx`)) found.add(m[1]?.slice(1) ?? 'fp32');
  }
  return [...found].sort();
}

/**
 * Is `dir` a usable model for `variant`? A required file that is absent or empty counts as missing
 * (a `.partial` leftover is not the file). With `requireManifest`, as for folders in the models dir,
 * the pull manifest must also exist and list each required file with its current size, so a pull
 * that stopped halfway, or a file changed since, is not taken for a complete model.
 */
export async function checkModelFolder(dir: string, variant: string, options: { requireManifest?: boolean } = {}): Promise<ModelFolderCheck> {
  const required = modelFiles(variant).filter((f) => f.required);
  const sizes = new Map<string, number>();
  const missing: string[] = [];
  for (const file of required) {
    const size = await fileSize(join(dir, file.path));
    if (size > 0) sizes.set(file.path, size);
    else missing.push(file.path);
  }
  if (options.requireManifest) {
    const manifest = await readModelManifest(dir);
    if (!manifest) {
      missing.push(MODEL_MANIFEST_NAME);
    } else {
      const recorded = new Map(manifest.files.map((f) => [f.path, f.size]));
      for (const [path, size] of sizes) if (recorded.get(path) !== size) missing.push(path);
    }
  }
  return { complete: missing.length === 0, missing };
}

/** The manifest of a pulled folder, or undefined when absent or unreadable (treated as not pulled). */
export async function readModelManifest(dir: string): Promise<ModelManifest | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, MODEL_MANIFEST_NAME), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Partial<ModelManifest>;
    if (typeof parsed.hubId !== 'string' || !Array.isArray(parsed.files)) return undefined;
    return { ...parsed, variants: parsed.variants ?? [], files: parsed.files } as ModelManifest;
  } catch {
    return undefined;
  }
}

/**
 * Splits and validates a hub id ("owner/name"). Anything that could escape the models dir
 * (`..`, a leading slash, backslashes, extra segments) is refused with USAGE_INVALID.
 */
export function parseHubId(hubId: string): { owner: string; name: string } {
  const parts = hubId.split('/');
  const [owner, name] = parts;
  const ok = parts.length === 2 && owner !== undefined && name !== undefined && HUB_PART_RE.test(owner) && HUB_PART_RE.test(name) && !hubId.includes('..');
  if (!ok) {
    throw new ReferentError(ErrorCode.UsageInvalid, `"${hubId}" is not a model id: expected owner/name (letters, digits, '.', '_', '-'), e.g. ${DEFAULT_MODEL_ID}.`, {
      details: { hubId },
    });
  }
  return { owner, name };
}

/** `<modelsDir>/<owner>/<name>`, absolute; validates the id first. */
export function hubModelDir(modelsDir: string, hubId: string): string {
  const { owner, name } = parseHubId(hubId);
  return resolve(modelsDir, owner, name);
}

/** The sentence every "model not here" error ends with: where to put a folder, and how to make one. */
export function copyModelHint(hubId: string, dir: string): string {
  return (
    `To install it without network here, run \`referent models pull ${hubId}\` on a machine that is connected ` +
    `and copy the folder it creates into ${dir}/ on this machine.`
  );
}

/** Size of a regular file, 0 when it is absent or not a file. */
export async function fileSize(path: string): Promise<number> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : 0;
  } catch {
    return 0;
  }
}
