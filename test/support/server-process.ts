/** `npm start`'s entry (adapters/main.ts) in a child process, as deployed: for tests that need the whole server. */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './fixtures.js';

export interface ServerProcess {
  /** http://127.0.0.1:PORT */
  base: string;
  process: ChildProcess;
  /** Everything it printed so far, stdout and stderr. */
  log(): string;
}

/**
 * Starts the server on an ephemeral port with `env` on top of a clean environment (the parent's
 * REFERENT_* settings never leak in); resolves once it printed its URL and, when given, `ready`
 * matches what it printed. `children` collects the process so a harness can kill what it started.
 */
export function startServerProcess(env: Record<string, string>, options: { ready?: RegExp; children?: ChildProcess[] } = {}): Promise<ServerProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'adapters', 'main.ts')], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', REFERENT_OFFLINE: '1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  options.children?.push(proc);
  let output = '';
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
      const base = /open (http:\/\/127\.0\.0\.1:\d+)\//.exec(output)?.[1];
      if (base && (!options.ready || options.ready.test(output))) resolve({ base, process: proc, log: () => output });
    });
    proc.once('exit', (code) => reject(new Error(`the server exited (${code}) before it was ready:\n${output}`)));
  });
}
