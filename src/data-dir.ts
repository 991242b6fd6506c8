/**
 * The data folder's start-up checks. What goes wrong with the folder itself (it is a file, it sits
 * under a file, this user may not write it, the disk is full) becomes one ReferentError with one
 * line that names the folder and the setting to change, instead of an errno from deep in SQLite or
 * the media store (which the CLI and the server would report as unexpected, with a stack trace).
 */
import fs from 'node:fs';
import path from 'node:path';
import { asDiskError, ErrorCode, isReferentError, ReferentError } from './errors.js';

const SETTING = 'REFERENT_DATA_DIR (or --data-dir)';

/** Creates the data folder when missing and checks that this user may write it. */
export function prepareDataDir(dataDir: string): void {
  try {
    fs.mkdirSync(dataDir, { recursive: true });
    if (!fs.statSync(dataDir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR', path: dataDir });
    // Root passes this on any folder but a read-only mount; everyone else learns here, not at the first write.
    fs.accessSync(dataDir, fs.constants.W_OK);
  } catch (err) {
    throw asDataDirError(err, dataDir, { always: true });
  }
}

/** The nearest existing part of `target`'s path that is not a folder (what keeps mkdir from working). */
function blockingFile(target: string): string | undefined {
  for (let p = target; p !== path.dirname(p); p = path.dirname(p)) {
    try {
      if (!fs.statSync(p).isDirectory()) return p;
    } catch {
      // Missing, or not reachable: look further up.
    }
  }
  return undefined;
}

/** Whether the file system of `dir` (or its nearest existing parent) has no block left for this user. */
function noSpaceLeft(dir: string): boolean {
  for (let p = dir; ; p = path.dirname(p)) {
    try {
      return fs.statfsSync(p).bavail === 0;
    } catch {
      if (p === path.dirname(p)) return false;
    }
  }
}

const errnoOf = (err: unknown) => err as NodeJS.ErrnoException & { code?: string };

/**
 * `err` as a one-line DATA_DIR_UNUSABLE or DISK_FULL when it is about the data folder: file-system
 * errors on a path inside it and SQLite's open errors (`always` when the caller knows the data
 * folder was being opened). Anything else, a ReferentError included, comes back unchanged.
 */
export function asDataDirError(err: unknown, dataDir: string, options: { always?: boolean } = {}): unknown {
  if (isReferentError(err)) return err;
  const { code, path: at, syscall } = errnoOf(err);
  if (typeof code !== 'string') return err;
  const inside = typeof at === 'string' && (path.resolve(at) + path.sep).startsWith(path.resolve(dataDir) + path.sep);
  const sqlite = code.startsWith('SQLITE_');
  if (!inside && !options.always && !sqlite) return err;
  const disk = asDiskError(err, `the data folder ${dataDir}`);
  if (disk !== err) return disk;
  // SQLite says "disk I/O error" (SQLITE_IOERR_SHMSIZE, …) when it cannot grow its files on a full disk.
  if ((code.startsWith('SQLITE_IOERR') || code === 'EIO') && noSpaceLeft(dataDir)) {
    return new ReferentError(ErrorCode.DiskFull, `The disk is full while opening the data folder ${dataDir}; nothing already stored was lost. Free some space and retry.`, { cause: err });
  }
  const unusable = (message: string) => new ReferentError(ErrorCode.DataDirUnusable, message, { cause: err, details: { dataDir, code } });
  if (code === 'ENOTDIR' || code === 'EEXIST') {
    const file = blockingFile(typeof at === 'string' ? at : dataDir);
    if (file === path.resolve(dataDir)) return unusable(`The data folder ${dataDir} is a file, not a folder: point ${SETTING} at a folder.`);
    if (file) return unusable(`The data folder ${dataDir} cannot be created: ${file} is a file, not a folder. Point ${SETTING} at a folder.`);
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return unusable(`The data folder ${dataDir} is not writable by this user (${syscall ?? 'access'} ${at ?? dataDir}: ${code}): give this user write access, or point ${SETTING} elsewhere.`);
  }
  if (code === 'EROFS') return unusable(`The data folder ${dataDir} is on a read-only file system: point ${SETTING} at a writable folder.`);
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return unusable(`The catalogue in the data folder ${dataDir} is damaged or not a Referent catalogue (${code}: ${firstLine(err)}): restore catalog.sqlite from a backup, or point ${SETTING} elsewhere.`);
  }
  if (/^SQLITE_(CANTOPEN|READONLY|PERM|AUTH|IOERR)/.test(code)) {
    return unusable(`The catalogue in the data folder ${dataDir} cannot be opened for writing (${code}: ${firstLine(err)}): check that this user may write the folder, or point ${SETTING} elsewhere.`);
  }
  // Other errno codes on the folder itself (ELOOP, ENAMETOOLONG, EISDIR…): Node's message is one line.
  if (/^E[A-Z]+$/.test(code) && (inside || options.always)) return unusable(`The data folder ${dataDir} cannot be used: ${firstLine(err)}.`);
  return err;
}

const firstLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
