/**
 * Typed errors. Every error the core raises on purpose is a ReferentError with a stable `code`;
 * tests assert codes, never messages. One place (the CLI / chat front end) turns them into
 * friendly text; anything that is not a ReferentError is unexpected and gets logged.
 */
export const ErrorCode = {
  ConfigInvalid: 'CONFIG_INVALID',
  UsageInvalid: 'USAGE_INVALID',
  // untrusted images
  ImageEmpty: 'IMAGE_EMPTY',
  ImageTooLarge: 'IMAGE_TOO_LARGE',
  ImageTooManyPixels: 'IMAGE_TOO_MANY_PIXELS',
  ImageUnsupported: 'IMAGE_UNSUPPORTED',
  ImageCorrupt: 'IMAGE_CORRUPT',
  // text input
  TextTooLong: 'TEXT_TOO_LONG',
  // models
  ModelNotFound: 'MODEL_NOT_FOUND',
  ModelIncomplete: 'MODEL_INCOMPLETE',
  ModelInvalid: 'MODEL_INVALID',
  ModelDownloadFailed: 'MODEL_DOWNLOAD_FAILED',
  ModelMismatch: 'MODEL_MISMATCH',
  // storage
  CatalogNewerSchema: 'CATALOG_NEWER_SCHEMA',
  NotFound: 'NOT_FOUND',
  IndexCorrupt: 'INDEX_CORRUPT',
  DiskFull: 'DISK_FULL',
  /** The data folder is a file, under a file, or not writable by this user. */
  DataDirUnusable: 'DATA_DIR_UNUSABLE',
  /** PostgreSQL cannot be reached, refused the login, has no such database, or went away. */
  DatabaseUnavailable: 'DATABASE_UNAVAILABLE',
  /** PostgreSQL answers but lacks what Referent needs (the pgvector extension). */
  DatabaseUnsupported: 'DATABASE_UNSUPPORTED',
  // ingest
  ManifestInvalid: 'MANIFEST_INVALID',
  // entities and review
  LabelAmbiguous: 'LABEL_AMBIGUOUS',
  LabelNeeded: 'LABEL_NEEDED',
  Conflict: 'CONFLICT',
  // chat permissions
  Forbidden: 'FORBIDDEN',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class ReferentError extends Error {
  readonly code: ErrorCode;
  /** Extra facts for the reader of the error (a path, a limit); never secrets. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ReferentError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

export function isReferentError(err: unknown, code?: ErrorCode): err is ReferentError {
  return err instanceof ReferentError && (code === undefined || err.code === code);
}

/**
 * Node's ENOSPC (and EDQUOT) and SQLite's SQLITE_FULL become DISK_FULL so every writer reports a
 * full disk the same way.
 */
export function asDiskError(err: unknown, what: string): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL') {
    return new ReferentError(ErrorCode.DiskFull, `The disk is full while writing ${what}; nothing already stored was lost. Free some space and retry.`, { cause: err });
  }
  return err;
}
