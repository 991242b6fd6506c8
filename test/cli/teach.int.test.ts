/** The teaching and review commands end to end through the CLI, on one data folder. */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeColourGallery, tempDir, tinyModelDir } from '../support/fixtures.js';
import { runCli } from '../support/run-cli.js';

const dir = tempDir();
const data = path.join(dir, 'data');
const cli = (...args: string[]) => runCli([...args, '--data-dir', data, '--model', tinyModelDir]);
let images: string;

beforeAll(async () => {
  const manifest = await makeColourGallery(path.join(dir, 'img'), 6, ['red', 'blue']);
  images = path.dirname(manifest);
  expect((await cli('ingest', manifest, '--collection', 'parts')).code).toBe(0);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface JsonHit {
  itemId: number;
  components?: { initial: number; entity: number; feedback: number; final: number };
  why?: { summary: string; carriedBy: string };
}
const hits = async (...args: string[]): Promise<JsonHit[]> => JSON.parse((await cli('search', ...args, '--json')).stdout).hits;

describe('referent CLI: references and review', () => {
  it('search refines by default (components and why) and --no-refine gives plain cosine', async () => {
    const refined = await hits('red', '--limit', '3');
    expect(refined[0]!.components).toEqual({ initial: expect.any(Number), entity: expect.any(Number), feedback: 0, final: expect.any(Number) });
    expect(refined[0]!.why!.summary).toEqual(expect.any(String));
    const plain = await hits('red', '--limit', '3', '--no-refine');
    expect(plain[0]!.components).toBeUndefined();
    expect(plain[0]!.why).toBeUndefined();
  });

  it('add, describe, show and forget an entity', async () => {
    const add = await cli('add', 'P-20417', '--image', path.join(images, 'blue-1.png'), '--image', path.join(images, 'blue-2.png'), '--text', 'hex bolt M8, zinc', '--collection', 'bolts');
    if (add.code !== 0) console.log("ADD", add.stdout, add.stderr);
    expect(add.code).toBe(0);
    expect(add.stdout).toMatch(/Added 2 photos of P-20417/);
    expect((await cli('describe', 'P-20417', 'blue', 'bolt', 'from', 'lot', '4471')).code).toBe(0);
    const show = JSON.parse((await cli('show', 'P-20417', '--json')).stdout);
    expect(show.items).toHaveLength(2);
    expect(show.descriptions.map((d: { text: string }) => d.text)).toEqual(['hex bolt M8, zinc', 'hex bolt M8, zinc', 'blue bolt from lot 4471']);
    expect(show.details).toEqual(expect.arrayContaining(['hex bolt M8', 'zinc']));
    // Not a terminal and no --yes: it says what would go, keeps it, and exits 1.
    const asked = await cli('forget', 'P-20417');
    expect(asked.code).toBe(1);
    expect(asked.stdout).toMatch(/Kept P-20417\. \(Not a terminal: pass --yes/);
    expect(JSON.parse((await cli('show', 'P-20417', '--json')).stdout).items).toHaveLength(2);
    const forget = await cli('forget', 'P-20417', '--yes');
    expect(forget.code).toBe(0);
    expect(forget.stdout).toMatch(/Forgot P-20417: 2 photos/);
    const gone = await cli('show', 'P-20417');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/Nothing is called "P-20417"/);
  });

  it('add with a photo already in the gallery links it to the label and keeps the description', async () => {
    const again = await cli('add', 'TEST-1', '--image', path.join(images, 'red-3.png'), '--text', 'a small red widget', '--collection', 'parts');
    expect(again.code).toBe(0);
    // red-3 came in with the gallery labelled RED-elbow-fitting: it stays there, and the reply says whose it is.
    expect(again.stdout).toMatch(/already RED-elbow-fitting .*it stays there/);
    expect(again.stdout).toMatch(/Kept the description for TEST-1/);
    const unlabelled = path.join(dir, 'plain.jsonl');
    fs.writeFileSync(unlabelled, `${JSON.stringify({ image: path.join(images, 'red-3.png') })}\n`);
    expect((await cli('ingest', unlabelled, '--collection', 'loose')).code).toBe(0);
    const linked = await cli('add', 'TEST-2', '--image', path.join(images, 'red-3.png'), '--text', 'a loose red part', '--collection', 'loose');
    expect(linked.code).toBe(0);
    expect(linked.stdout).toMatch(/Linked 1 photo already in the gallery to TEST-2/);
    const shown = JSON.parse((await cli('show', 'TEST-2', '--json')).stdout);
    expect(shown.items).toHaveLength(1);
    expect(shown.descriptions.map((d: { text: string }) => d.text)).toEqual(['a loose red part']);
    // Every photo another entity's and no words: nothing taught, exit 4.
    const nothing = await cli('add', 'TEST-3', '--image', path.join(images, 'red-4.png'), '--collection', 'parts');
    expect(nothing.code).toBe(4);
    expect((await cli('show', 'TEST-3')).code).toBe(1);
  });

  it('review reject changes the next search, and undo puts it back', async () => {
    const [top] = await hits('blue', '--limit', '5');
    const review = await cli('review', 'blue', String(top!.itemId), 'reject');
    expect(review.code).toBe(0);
    const id = /verdict #(\d+)/.exec(review.stdout)![1]!;
    // Below the candidates' median now: look for it in the whole ranking.
    const after = await hits('blue', '--limit', '50');
    expect(after[0]!.itemId).not.toBe(top!.itemId);
    expect(after.find((h) => h.itemId === top!.itemId)!.components!.feedback).toBeLessThan(0);
    expect((await cli('review', 'undo', id)).code).toBe(0);
    expect((await hits('blue', '--limit', '5'))[0]!.itemId).toBe(top!.itemId);
  });

  it('rejects malformed review commands with usage', async () => {
    const r = await cli('review', 'blue', 'x', 'maybe');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Usage: referent review/);
  });
});
