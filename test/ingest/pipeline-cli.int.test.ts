/**
 * `referent ingest` with its worker threads, as a person runs it: the process ends on its own when
 * the work is done or after Ctrl-C (no thread left behind keeps it alive: runCli waits for the exit),
 * and REFERENT_DEVICE=cuda without CUDA is one line, exit 2.
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cudaProviderProblem } from '../../src/encoder/onnx-runtime.js';
import { makeColourGallery, tempDir, tinyModelDir } from '../support/fixtures.js';
import { runCli, spawnCli } from '../support/run-cli.js';

describe('referent ingest with worker threads', () => {
  let dir: string;
  let img: string;
  const env = (extra: Record<string, string> = {}) => ({ REFERENT_DATA_DIR: path.join(dir, 'data'), REFERENT_BATCH_SIZE: '4', REFERENT_INGEST_WORKERS: '2', ...extra });

  beforeAll(async () => {
    dir = tempDir();
    img = path.join(dir, 'img');
    await makeColourGallery(img, 10, ['red', 'green', 'blue']);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('stops at Ctrl-C after the batch being committed, exits 130, and a re-run finishes', async () => {
    const child = spawnCli(['ingest', img, '--events', '--model', tinyModelDir], env());
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const added: number[] = [];
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as { event: string; itemId: number };
      if (event.event === 'added' && added.push(event.itemId) === 1) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(code).toBe(130);
    expect(stderr).toContain('2 worker threads');
    expect(stderr).toMatch(new RegExp(`Interrupted\\. Added ${added.length}, `));
    expect(added.length).toBeLessThan(30);

    const rest = await runCli(['ingest', img, '--model', tinyModelDir], env());
    expect(rest.code).toBe(0);
    expect(rest.stderr).toContain(`Added ${30 - added.length}, skipped ${added.length} (already there), failed 0`);
  });

  it.skipIf(cudaProviderProblem() === undefined)('says in one line what REFERENT_DEVICE=cuda lacks, and exits 2 (skipped where the CUDA provider is installed)', async () => {
    const result = await runCli(['ingest', img, '--model', tinyModelDir], env({ REFERENT_DEVICE: 'cuda' }));
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^referent: REFERENT_DEVICE=cuda, but onnxruntime-node's CUDA provider is not installed .*--onnxruntime-node-install=cuda12.*REFERENT_DEVICE=cpu\.$/);
  });
});
