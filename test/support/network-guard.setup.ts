/**
 * vitest setupFiles (vitest.config.ts): runs in every test worker before each test file, and makes
 * two promises of the suite checkable instead of hoped for:
 *
 * - Tests reach nothing outside 127.0.0.1. network-guard.mjs refuses any other lookup or
 *   connection; here, the test during which one was refused fails naming the host, in this worker
 *   or in a node child it started (each gets the guard through NODE_OPTIONS).
 * - No files are left behind. Every folder made with mkdtemp under os.tmpdir() must be gone when
 *   its test file ends; what is left fails the file, named, and is removed.
 */
import { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach } from 'vitest';
import { CHILD_LOG_ENV, installNetworkGuard, type NetworkGuardState, type NetworkViolation, takeViolations } from './network-guard.mjs';

const GUARD_URL = pathToFileURL(path.join(import.meta.dirname, 'network-guard.mjs')).href;

export interface WorkerGuards {
  /** The guard's record; its childLog is made on a file's first node child and removed at the file's end. */
  network: NetworkGuardState;
  /** Folders made with mkdtemp in os.tmpdir() since the current file started. */
  tempDirs: Set<string>;
}

// Patches go in once per process (a worker may run several files); the hooks below are per file.
const KEY = Symbol.for('referent.test.workerGuards');
const guards: WorkerGuards = ((globalThis as Record<symbol, WorkerGuards>)[KEY] ??= installWorkerGuards());

function installWorkerGuards(): WorkerGuards {
  const state: WorkerGuards = { network: installNetworkGuard(), tempDirs: new Set() };
  const mkdtempSync = fs.mkdtempSync.bind(fs);

  // Node children: vitest's setup does not reach them, and tests start them with a clean environment.
  // ChildProcess#spawn (internal, untyped) is where spawn, fork, exec and execFile all meet, with the
  // environment already flattened into envPairs. Only node itself is guarded: a node started through
  // a shell (exec) or spawnSync is not.
  const proto = ChildProcess.prototype as unknown as { spawn(options: { file?: string; envPairs?: string[] }): unknown };
  const spawn = proto.spawn;
  proto.spawn = function guardedSpawn(this: ChildProcess, options) {
    const isNode = options.file === process.execPath || path.basename(options.file ?? '') === 'node';
    if (isNode && Array.isArray(options.envPairs)) {
      state.network.childLog ??= path.join(mkdtempSync(path.join(os.tmpdir(), 'referent-netguard-')), 'children.jsonl');
      const at = options.envPairs.findIndex((pair) => pair.startsWith('NODE_OPTIONS='));
      if (at >= 0) options.envPairs[at] += ` --import=${GUARD_URL}`;
      else options.envPairs.push(`NODE_OPTIONS=--import=${GUARD_URL}`);
      options.envPairs.push(`${CHILD_LOG_ENV}=${state.network.childLog}`);
    }
    return spawn.call(this, options);
  };

  // Temporary folders: fs.mkdtemp, fs.mkdtempSync and fs/promises' mkdtemp.
  const tmp = os.tmpdir() + path.sep;
  const track = (dir: string) => void (path.resolve(dir).startsWith(tmp) && state.tempDirs.add(path.resolve(dir)));
  fs.mkdtempSync = ((...args: Parameters<typeof fs.mkdtempSync>) => {
    const dir = mkdtempSync(...args);
    track(String(dir));
    return dir;
  }) as typeof fs.mkdtempSync;
  const mkdtemp = fs.mkdtemp;
  fs.mkdtemp = ((...args: unknown[]) => {
    const callback = args.pop() as (err: Error | null, dir: string) => void;
    (mkdtemp as (...a: unknown[]) => void)(...args, (err: Error | null, dir: string) => {
      if (!err) track(dir);
      callback(err, dir);
    });
  }) as typeof fs.mkdtemp;
  const mkdtempPromise = fs.promises.mkdtemp;
  fs.promises.mkdtemp = (async (...args: Parameters<typeof fs.promises.mkdtemp>) => {
    const dir = await mkdtempPromise(...args);
    track(String(dir));
    return dir;
  }) as typeof fs.promises.mkdtemp;
  // Named imports (`import { mkdtemp } from 'node:fs/promises'`) read the ES module's bindings.
  syncBuiltinESMExports();
  return state;
}

function failOn(found: NetworkViolation[], during: string): void {
  if (!found.length) return;
  const hosts = [...new Set(found.map((v) => v.host))];
  const detail = found.map((v) => `${v.via} of ${v.host}${v.pid === process.pid ? '' : ` (child process ${v.pid})`}`);
  throw new Error(`${during} tried to reach ${hosts.join(', ')}: tests may reach only 127.0.0.1. Blocked: ${detail.join('; ')}`);
}

// Registered before the test file's own hooks, so these run after them (vitest runs after-hooks as a stack).
afterEach(() => failOn(takeViolations(), 'This test'));

afterAll(() => {
  const found = takeViolations();
  if (guards.network.childLog) fs.rmSync(path.dirname(guards.network.childLog), { recursive: true, force: true });
  guards.network.childLog = undefined;
  const left = [...guards.tempDirs].filter((dir) => fs.existsSync(dir));
  guards.tempDirs.clear();
  for (const dir of left) fs.rmSync(dir, { recursive: true, force: true });
  failOn(found, "This file's hooks (beforeAll/afterAll)");
  if (left.length) throw new Error(`This file left temporary folders behind (now removed): ${left.join(', ')}. Remove them in afterEach/afterAll.`);
});
