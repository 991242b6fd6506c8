/**
 * Configuration: one zod schema, parsed once from an env object handed in by the composition root.
 * Nothing else in Referent reads the process environment. Every bad variable is reported together.
 */
import path from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { ErrorCode, ReferentError } from './errors.js';
import { DEFAULT_FUSION_OPTIONS, DEFAULT_PIPELINE } from './method/defaults.js';
import type { FusionOptions } from './method/fusion.js';
import type { PipelineParams } from './method/pipeline.js';
import { DEFAULT_MODEL_ID } from './models/model-files.js';

export const DEFAULT_MODEL = DEFAULT_MODEL_ID;

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const num = (min: number, max: number) => z.coerce.number().min(min).max(max);
const P = DEFAULT_PIPELINE;
/** `auto` (left to the code that knows the machine: undefined after parsing) or a whole number. */
const autoOr = (min: number, max: number) =>
  z.union([z.literal('auto'), int(min, max)], { error: `auto, or a whole number from ${min} to ${max}` }).transform((v) => (v === 'auto' ? undefined : v));
const flag = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

/** name → [schema, default, description]; the README's config table is this list. */
export const configVariables = {
  REFERENT_DATA_DIR: [z.string().min(1), './index-data', 'Data folder: catalogue (SQLite), media, index snapshots.'],
  REFERENT_DATABASE_URL: [
    z.string().regex(/^postgres(ql)?:\/\//, 'a PostgreSQL URL: postgres://user:password@host:5432/database').optional(),
    undefined,
    'PostgreSQL + pgvector shared by several Referent servers (postgres://user:password@host:5432/database). Unset: the SQLite catalogue in the data folder. Media stay in REFERENT_DATA_DIR/media, which the servers then share.',
  ],
  REFERENT_DATABASE_READ_URL: [
    z.string().regex(/^postgres(ql)?:\/\//, 'a PostgreSQL URL: postgres://user:password@host:5432/database').optional(),
    undefined,
    'A streaming replica of REFERENT_DATABASE_URL\'s server (postgres://…): searches and other heavy reads go there whenever it has replayed what the primary had committed when the read began, to the primary otherwise (docs/postgres.md, read replicas).',
  ],
  REFERENT_DATABASE_SCHEMA: [z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'lower-case letters, digits and _'), 'public', 'PostgreSQL schema holding Referent\'s tables (with REFERENT_DATABASE_URL).'],
  REFERENT_INDEX_DIR: [z.string().min(1).optional(), undefined, 'Where this process keeps its index snapshots (SQLite catalogue only: on PostgreSQL the indexes are in the database and no snapshots are written). Unset: REFERENT_DATA_DIR/index.'],
  REFERENT_MODEL: [z.string().min(1), DEFAULT_MODEL, 'Encoder: a Hugging Face hub id (looked up in REFERENT_MODELS_DIR, pulled if missing and online) or a model folder path.'],
  REFERENT_MODEL_VARIANT: [z.string().regex(/^[a-z0-9_]+$/), 'fp32', 'ONNX variant: fp32, quantized, fp16, int8, uint8, q4, bnb4 (onnx/<tower>_model_<variant>.onnx).'],
  REFERENT_MODELS_DIR: [z.string().min(1), './models', 'Where pulled models live (<dir>/<owner>/<name>/).'],
  REFERENT_HUB_URL: [z.url(), 'https://huggingface.co', 'Model hub base URL (a mirror, or a local server in tests).'],
  REFERENT_OFFLINE: [flag, 'false', 'Never download: a missing model is an error that says where to copy it.'],
  HF_TOKEN: [z.string().optional(), undefined, 'Hub token for gated or private models (optional).'],
  HOST: [z.string().min(1), '127.0.0.1', 'Address the HTTP server binds to.'],
  PORT: [int(0, 65535), '3000', 'Port of the HTTP server.'],
  REFERENT_MAX_IMAGE_BYTES: [int(1024, 1 << 30), String(25 * 1024 * 1024), 'Largest accepted image file, in bytes.'],
  REFERENT_MAX_IMAGE_PIXELS: [int(1024, 1_000_000_000), '50000000', 'Largest accepted image, width × height.'],
  REFERENT_ORIGINAL_MAX_SIDE: [int(512, 100_000).optional(), undefined, 'Longest side of stored originals, in pixels: larger photos are re-encoded (JPEG q90) down to it, which saves disk and costs CPU during ingest. Unset: a JPEG or PNG is kept as posted, metadata removed (other formats are re-encoded at their size).'],
  REFERENT_MAX_TEXT_CHARS: [int(16, 100_000), '2000', 'Longest accepted query or caption, in characters.'],
  REFERENT_BATCH_SIZE: [int(1, 1024), '8', 'Images encoded per batch during ingest (8: the best measured for a ViT-B/16 on the CPU, docs/ingest-performance.md).'],
  REFERENT_DEVICE: [z.enum(['auto', 'cpu', 'cuda']), 'auto', 'Where the encoder runs. cpu; cuda: ONNX Runtime\'s CUDA provider on an NVIDIA GPU (needs the provider\'s files, which this project\'s install skips, and the CUDA 12 and cuDNN 9 libraries; without them it refuses to start, naming what is missing); auto: CUDA when its provider starts, else the CPU, and the start banner and `referent ingest` say which.'],
  REFERENT_INFERENCE_THREADS: [autoOr(1, 256), 'auto', 'Threads per ONNX Runtime operator on the CPU; auto: up to 4, never more than the machine has.'],
  REFERENT_INGEST_WORKERS: [autoOr(0, 64), 'auto', 'Worker threads that read, hash, decode and resize images during `referent ingest` while the encoder runs; 0 does it on the main thread. auto: the cores left beside the inference threads (one beside CUDA), at least 1, at most 4.'],
  REFERENT_HNSW_M: [int(4, 96), '16', 'HNSW graph degree (M).'],
  REFERENT_HNSW_EF_CONSTRUCTION: [int(10, 2000), '200', 'HNSW build-time candidate list size.'],
  REFERENT_HNSW_EF_SEARCH: [int(10, 5000), '64', 'HNSW query-time candidate list size (raised to the result count when smaller).'],
  REFERENT_REFINE: [flag, 'true', 'Refine search results against the entities\' references (MMRef); off gives plain cosine.'],
  REFERENT_REFINE_ENTITY_WEIGHT: [num(0, 100), String(P.entityWeight), 'λ_e: weight of the entity evidence in the refined score.'],
  REFERENT_REFINE_TEXT_WEIGHT: [num(0, 100), String(P.textWeight), 'Entity score: weight of the description reference.'],
  REFERENT_REFINE_IMAGE_WEIGHT: [num(0, 100), String(P.imageWeight), 'Entity score: weight of the photo reference.'],
  REFERENT_REFINE_NONE_LEVEL: [num(-10, 10), String(P.noneLevel), 'How far (in standard deviations) an entity must stand out before an unlabelled image is taken to be it.'],
  REFERENT_REFINE_PROFILE_TAU: [num(0.01, 10), String(P.profileTau), 'Softmax temperature of the entity profiles, in standard deviations.'],
  REFERENT_REFINE_CANDIDATES: [int(10, 10000), String(P.minCandidates), 'Minimum candidates refined per query (K0 = max(this, 5 × limit)).'],
  REFERENT_FUSION_TAU: [num(0.001, 10), String(DEFAULT_FUSION_OPTIONS.tau), 'Temperature of global fusion; smaller discounts inconsistent photos and descriptions harder.'],
  REFERENT_FEEDBACK_SIMILARITY: [num(0, 0.999), '0.9', 'A verdict applies to later queries at least this similar (cosine) to the query it was given on.'],
  REFERENT_FEEDBACK_WEIGHT: [num(0, 100), '3', 'How far past the pack a verdict moves its image for an identical query, in standard deviations of the candidates\' scores (Not it: below their median; That\'s it: above the best).'],
  REFERENT_ADMINS: [z.string().optional(), undefined, 'Chat admins (may forget entities), comma-separated: web:local, slack:<user id>, teams:<user id>. Unset: web:local when HOST is a loopback address, nobody otherwise.'],
  REFERENT_WEB_COLLECTIONS: [z.string().min(1), '*', 'Collections the local web chat may search: * for all, or comma-separated names (chat platforms use grants instead).'],
  REFERENT_WEB_TOKEN: [z.string().min(16).optional(), undefined, 'Access token for the web chat (at least 16 characters); open the page once as /?token=<token>. Required when HOST is not a loopback address (the server refuses to start without it).'],
  REFERENT_CHAT_RESULTS: [int(1, 20), '5', 'Result cards per chat answer.'],
  REFERENT_OCR: [flag, 'true', 'Read the text on images (labels, part numbers) in the background after they are added, for hybrid search.'],
  REFERENT_OCR_MIN_CONFIDENCE: [num(0, 1), '0.6', 'OCR lines below this confidence (0–1) are ignored.'],
  REFERENT_MAINTENANCE_SECONDS: [int(1, 3600), '30', 'How often the server checks its index snapshots (rewriting a deleted or damaged one) and saves the index when far behind.'],
  REFERENT_PUBLIC_URL: [z.url().optional(), undefined, 'Public base URL of this server (https://referent.example.com): chat cards then link images here (signed URLs) instead of uploading them.'],
  REFERENT_LINK_TTL_SECONDS: [int(60, 366 * 24 * 3600), String(7 * 24 * 3600), 'How long a signed image link (cards with REFERENT_PUBLIC_URL) opens its thumbnail, in seconds. Slack and Teams fetch an image each time a message is shown, so older messages then show no image.'],
  SLACK_BOT_TOKEN: [z.string().regex(/^xoxb-/, 'a bot token starts with xoxb-').optional(), undefined, 'Slack bot token (xoxb-…): turns the Slack adapter on.'],
  SLACK_SIGNING_SECRET: [z.string().min(8).optional(), undefined, 'Slack signing secret: verifies requests to POST /slack/events (HTTP mode).'],
  SLACK_APP_TOKEN: [z.string().regex(/^xapp-/, 'an app-level token starts with xapp-').optional(), undefined, 'Slack app-level token (xapp-…, scope connections:write): Socket Mode, no public URL needed.'],
  SLACK_API_URL: [z.url().optional(), undefined, 'Slack Web API base URL (default https://slack.com/api/): a proxy, or a fake Slack in tests.'],
  MICROSOFT_APP_ID: [z.string().min(1).optional(), undefined, 'Teams bot: the Azure Bot\'s app id. Set, POST /api/messages refuses requests without valid Bot Framework auth; unset, it runs in local mode (this machine only).'],
  MICROSOFT_APP_PASSWORD: [z.string().min(1).optional(), undefined, 'Teams bot: the app\'s client secret (not for UserAssignedMSI).'],
  MICROSOFT_APP_TENANT_ID: [z.string().min(1).optional(), undefined, 'Teams bot: the tenant id (required for SingleTenant and UserAssignedMSI).'],
  MICROSOFT_APP_TYPE: [z.enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI']), 'MultiTenant', 'Teams bot: MultiTenant, SingleTenant or UserAssignedMSI.'],
  REFERENT_TEAMS_LOCAL: [flag, 'false', 'Teams local mode, for the Bot Framework Emulator and tests: without MICROSOFT_APP_ID, POST /api/messages takes unauthenticated activities from this machine only. Off (the default), it answers 401 until MICROSOFT_APP_ID is set.'],
} as const;

type Vars = typeof configVariables;
export type ConfigVariable = keyof Vars;

const schema = z.object(
  Object.fromEntries(
    Object.entries(configVariables).map(([name, [s, dflt]]) => [name, dflt === undefined ? s : z.preprocess((v) => v ?? dflt, s)]),
  ) as unknown as { [K in keyof Vars]: Vars[K][0] },
);

export interface Config {
  dataDir: string;
  /** The shared PostgreSQL engine; absent: SQLite in the data folder. readUrl: a streaming replica for reads. */
  database?: { url: string; schema: string; readUrl?: string };
  /** This process's index snapshots. */
  indexDir: string;
  model: string;
  modelVariant: string;
  modelsDir: string;
  hubUrl: string;
  offline: boolean;
  hfToken?: string;
  host: string;
  port: number;
  maxImageBytes: number;
  maxImagePixels: number;
  /** Longest side of stored originals; undefined: JPEG and PNG kept as posted. */
  originalMaxSide?: number;
  maxTextChars: number;
  batchSize: number;
  /** REFERENT_DEVICE: where the encoder runs ('auto': CUDA when it starts, else the CPU). */
  device: 'auto' | 'cpu' | 'cuda';
  /** ONNX Runtime intra-op threads on the CPU; undefined: the runtime's default (up to 4). */
  inferenceThreads?: number;
  /** Ingest's preprocessing worker threads (0: the main thread); undefined: chosen for the machine (defaultWorkerCount). */
  ingestWorkers?: number;
  hnsw: { m: number; efConstruction: number; efSearch: number };
  /** OCR of labels after ingest (PaddleOCR models from the installed package). */
  ocr: { enabled: boolean; minConfidence: number };
  /** Seconds between a server's upkeep rounds (Referent.maintain). */
  maintenanceSeconds: number;
  method: MethodConfig;
  chat: ChatConfig;
  /** Present when SLACK_BOT_TOKEN is set. */
  slack?: SlackConfig;
  teams: TeamsConfig;
}

/** Without an app id the Teams endpoint is off (401), or in local mode (unauthenticated, this machine only) with `local`. */
export interface TeamsConfig {
  appId?: string;
  appPassword?: string;
  tenantId?: string;
  appType: 'MultiTenant' | 'SingleTenant' | 'UserAssignedMSI';
  /** REFERENT_TEAMS_LOCAL: local mode without an app id (otherwise the endpoint answers 401). */
  local?: true;
}

export interface SlackConfig {
  botToken: string;
  /** HTTP mode: verifies request signatures. Absent in Socket Mode only. */
  signingSecret?: string;
  /** Socket Mode when set. */
  appToken?: string;
  /** Ends in /api/. */
  apiUrl: string;
}

export interface ChatConfig {
  /** User keys ("web:local", "slack:U123"). */
  admins: string[];
  webCollections: '*' | string[];
  webToken?: string;
  results: number;
  /** Public base URL (no trailing slash): cards link images here. */
  publicUrl?: string;
  /** Seconds a signed image link stays valid after it was made. */
  linkTtlSeconds: number;
}

/** The retrieval method's settings (MMRef refinement, fusion, review feedback). */
export interface MethodConfig {
  refine: boolean;
  pipeline: PipelineParams;
  fusion: FusionOptions;
  feedback: { similarity: number; weight: number };
}

export interface ConfigSources {
  /** The process environment (or a test's object). Wins over the .env file. */
  env: Record<string, string | undefined>;
  /** Contents of an optional .env file. */
  dotenv?: string;
  /** Flags that win over both (the CLI's --data-dir and --model). */
  overrides?: Partial<Record<ConfigVariable, string>>;
  /** Base for relative paths; defaults to the current directory. */
  cwd?: string;
}

/** Parses and validates configuration; throws CONFIG_INVALID listing every bad variable at once. */
export function parseConfig(sources: ConfigSources): Config {
  const fromFile = sources.dotenv ? parseEnv(sources.dotenv) : {};
  const merged: Record<string, string | undefined> = {};
  for (const name of Object.keys(configVariables)) {
    const value = sources.overrides?.[name as ConfigVariable] ?? sources.env[name] ?? fromFile[name];
    // An empty variable means "not set", as in most shells' `VAR= cmd`.
    merged[name] = value === '' ? undefined : value;
  }
  const result = schema.safeParse(merged);
  // Secrets are never echoed back into logs.
  // Secrets are never repeated; a URL may carry a password, so only its scheme is shown.
  const shown = (name: string) =>
    /TOKEN|SECRET|PASSWORD/.test(name) ? 'a value (hidden)' : /_URL$/.test(name) && /@/.test(String(merged[name])) ? `a ${String(merged[name]).split(':')[0]}: URL with credentials (hidden)` : JSON.stringify(merged[name]);
  const problems = [...(result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message} (got ${shown(String(i.path[0]))})`)), ...slackProblems(merged), ...teamsProblems(merged), ...databaseProblems(merged)];
  if (!result.success || problems.length) {
    throw new ReferentError(ErrorCode.ConfigInvalid, `Invalid configuration:\n  ${problems.join('\n  ')}`, { details: { problems } });
  }
  const v = result.data;
  const slack = slackConfig(v);
  const cwd = sources.cwd ?? process.cwd();
  return {
    dataDir: path.resolve(cwd, v.REFERENT_DATA_DIR),
    ...(v.REFERENT_DATABASE_URL
      ? { database: { url: v.REFERENT_DATABASE_URL, schema: v.REFERENT_DATABASE_SCHEMA, ...(v.REFERENT_DATABASE_READ_URL ? { readUrl: v.REFERENT_DATABASE_READ_URL } : {}) } }
      : {}),
    indexDir: v.REFERENT_INDEX_DIR
      ? path.resolve(cwd, v.REFERENT_INDEX_DIR)
      : path.join(path.resolve(cwd, v.REFERENT_DATA_DIR), 'index'),
    model: v.REFERENT_MODEL,
    modelVariant: v.REFERENT_MODEL_VARIANT,
    modelsDir: path.resolve(cwd, v.REFERENT_MODELS_DIR),
    hubUrl: v.REFERENT_HUB_URL.replace(/\/+$/, ''),
    offline: v.REFERENT_OFFLINE,
    ...(v.HF_TOKEN ? { hfToken: v.HF_TOKEN } : {}),
    host: v.HOST,
    port: v.PORT,
    maxImageBytes: v.REFERENT_MAX_IMAGE_BYTES,
    maxImagePixels: v.REFERENT_MAX_IMAGE_PIXELS,
    ...(v.REFERENT_ORIGINAL_MAX_SIDE === undefined ? {} : { originalMaxSide: v.REFERENT_ORIGINAL_MAX_SIDE }),
    maxTextChars: v.REFERENT_MAX_TEXT_CHARS,
    batchSize: v.REFERENT_BATCH_SIZE,
    device: v.REFERENT_DEVICE,
    ...(v.REFERENT_INFERENCE_THREADS === undefined ? {} : { inferenceThreads: v.REFERENT_INFERENCE_THREADS }),
    ...(v.REFERENT_INGEST_WORKERS === undefined ? {} : { ingestWorkers: v.REFERENT_INGEST_WORKERS }),
    hnsw: { m: v.REFERENT_HNSW_M, efConstruction: v.REFERENT_HNSW_EF_CONSTRUCTION, efSearch: v.REFERENT_HNSW_EF_SEARCH },
    ocr: { enabled: v.REFERENT_OCR, minConfidence: v.REFERENT_OCR_MIN_CONFIDENCE },
    maintenanceSeconds: v.REFERENT_MAINTENANCE_SECONDS,
    method: {
      refine: v.REFERENT_REFINE,
      pipeline: {
        ...DEFAULT_PIPELINE,
        entityWeight: v.REFERENT_REFINE_ENTITY_WEIGHT,
        textWeight: v.REFERENT_REFINE_TEXT_WEIGHT,
        imageWeight: v.REFERENT_REFINE_IMAGE_WEIGHT,
        noneLevel: v.REFERENT_REFINE_NONE_LEVEL,
        profileTau: v.REFERENT_REFINE_PROFILE_TAU,
        minCandidates: v.REFERENT_REFINE_CANDIDATES,
      },
      fusion: { ...DEFAULT_FUSION_OPTIONS, tau: v.REFERENT_FUSION_TAU },
      feedback: { similarity: v.REFERENT_FEEDBACK_SIMILARITY, weight: v.REFERENT_FEEDBACK_WEIGHT },
    },
    chat: {
      // The page's user is the operator only when nobody else can reach the page; elsewhere an admin is named.
      admins: v.REFERENT_ADMINS === undefined ? (isLoopbackHost(v.HOST) ? ['web:local'] : []) : list(v.REFERENT_ADMINS),
      webCollections: v.REFERENT_WEB_COLLECTIONS.trim() === '*' ? '*' : list(v.REFERENT_WEB_COLLECTIONS),
      ...(v.REFERENT_WEB_TOKEN ? { webToken: v.REFERENT_WEB_TOKEN } : {}),
      results: v.REFERENT_CHAT_RESULTS,
      ...(v.REFERENT_PUBLIC_URL ? { publicUrl: v.REFERENT_PUBLIC_URL.replace(/\/+$/, '') } : {}),
      linkTtlSeconds: v.REFERENT_LINK_TTL_SECONDS,
    },
    ...(slack ? { slack } : {}),
    teams: {
      appType: v.MICROSOFT_APP_TYPE,
      ...(v.MICROSOFT_APP_ID ? { appId: v.MICROSOFT_APP_ID } : {}),
      ...(v.MICROSOFT_APP_PASSWORD ? { appPassword: v.MICROSOFT_APP_PASSWORD } : {}),
      ...(v.MICROSOFT_APP_TENANT_ID ? { tenantId: v.MICROSOFT_APP_TENANT_ID } : {}),
      ...(v.REFERENT_TEAMS_LOCAL ? { local: true as const } : {}),
    },
  };
}

/** A read replica needs the primary it replicates. */
function databaseProblems(v: Record<string, string | undefined>): string[] {
  return v.REFERENT_DATABASE_READ_URL && !v.REFERENT_DATABASE_URL ? ['REFERENT_DATABASE_READ_URL: set, but REFERENT_DATABASE_URL is not (the read replica serves a primary: name it)'] : [];
}

/** Teams credentials that only work together. */
function teamsProblems(v: Record<string, string | undefined>): string[] {
  const type = v.MICROSOFT_APP_TYPE ?? 'MultiTenant';
  if (!v.MICROSOFT_APP_ID) {
    return ['MICROSOFT_APP_PASSWORD', 'MICROSOFT_APP_TENANT_ID'].filter((name) => v[name]).map((name) => `${name}: set, but MICROSOFT_APP_ID is not`);
  }
  const problems: string[] = [];
  if (type !== 'UserAssignedMSI' && !v.MICROSOFT_APP_PASSWORD) problems.push(`MICROSOFT_APP_PASSWORD: required with MICROSOFT_APP_ID for a ${type} app`);
  if (type !== 'MultiTenant' && !v.MICROSOFT_APP_TENANT_ID) problems.push(`MICROSOFT_APP_TENANT_ID: required for a ${type} app`);
  return problems;
}

/** Slack settings that only work together. */
function slackProblems(v: Record<string, string | undefined>): string[] {
  if (!v.SLACK_BOT_TOKEN) {
    return ['SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN'].filter((name) => v[name]).map((name) => `${name}: set, but SLACK_BOT_TOKEN is not (the Slack adapter needs its bot token)`);
  }
  return v.SLACK_APP_TOKEN || v.SLACK_SIGNING_SECRET ? [] : ['SLACK_SIGNING_SECRET: required with SLACK_BOT_TOKEN in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)'];
}

function slackConfig(v: z.infer<typeof schema>): SlackConfig | undefined {
  if (!v.SLACK_BOT_TOKEN) return undefined;
  const apiUrl = (v.SLACK_API_URL ?? 'https://slack.com/api/').replace(/\/*$/, '/');
  return {
    botToken: v.SLACK_BOT_TOKEN,
    apiUrl: apiUrl.endsWith('/api/') ? apiUrl : `${apiUrl}api/`,
    ...(v.SLACK_SIGNING_SECRET ? { signingSecret: v.SLACK_SIGNING_SECRET } : {}),
    ...(v.SLACK_APP_TOKEN ? { appToken: v.SLACK_APP_TOKEN } : {}),
  };
}

/** A HOST that only this machine can reach (a name like 127.0.0.1.example.com is not one). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127(\.\d{1,3}){3}$/.test(h);
}

const list = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
