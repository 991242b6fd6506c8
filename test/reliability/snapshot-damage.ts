/**
 * Index snapshots deleted, truncated or overwritten under a running server (`npm start`'s entry in
 * a child process, upkeep every second): the server keeps answering, writes a whole snapshot again
 * and says so in its log; photos taught meanwhile are in it. Killed with -9 afterwards, the next
 * start loads that snapshot (no rebuild) with every item. One round also kills the server right
 * after the damage, before upkeep can mend it: the next start rebuilds from the catalogue.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { HnswIndex } from '../../src/index/hnsw-index.js';
import { ingest } from '../../src/ingest/ingest.js';
import { readSources } from '../../src/ingest/sources.js';
import { encodePixels } from '../../src/image/image-io.js';
import { openReferent } from '../../src/open.js';
import { mulberry32 } from '../../src/random.js';
import { makeColourGallery, tempDir, testConfig, tinyModelDir } from '../support/fixtures.js';
import { type ServerProcess, startServerProcess } from '../support/server-process.js';
import { waitUntil } from '../support/wait.js';
import { emptyTally, type Tally } from './tally.js';

export interface SnapshotDamageOptions {
  seed: number;
  /** Damage rounds against one running server. */
  rounds: number;
  progress?: (line: string) => void;
}

type Damage = { name: string; apply(base: string): void };

const DAMAGES: Damage[] = [
  { name: 'graph file deleted', apply: (b) => fs.rmSync(`${b}.hnsw`) },
  { name: 'sidecar deleted', apply: (b) => fs.rmSync(`${b}.json`) },
  { name: 'both files deleted', apply: (b) => (fs.rmSync(`${b}.hnsw`), fs.rmSync(`${b}.json`)) },
  { name: 'graph file truncated to half', apply: (b) => fs.truncateSync(`${b}.hnsw`, Math.floor(fs.statSync(`${b}.hnsw`).size / 2)) },
  { name: 'graph file emptied', apply: (b) => fs.truncateSync(`${b}.hnsw`, 0) },
  { name: 'sidecar truncated', apply: (b) => fs.truncateSync(`${b}.json`, 10) },
  {
    name: 'bytes overwritten in the graph file',
    apply: (b) => {
      const fd = fs.openSync(`${b}.hnsw`, 'r+');
      fs.writeSync(fd, Buffer.alloc(64, 0xa5), 0, 64, Math.floor(fs.statSync(`${b}.hnsw`).size / 2));
      fs.closeSync(fd);
    },
  },
];

/** Every snapshot base under the index folder (the image index and the two reference graphs). */
function snapshotBases(dataDir: string): { items: string; references: string[] } {
  const root = path.join(dataDir, 'index');
  const files = (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('.json')).map((f) => path.join(root, f.slice(0, -5)));
  return { items: files.find((f) => path.basename(f) === 'items')!, references: files.filter((f) => path.basename(f).startsWith('references-')) };
}

const whole = (base: string) => HnswIndex.loadSnapshot(base, { dim: 64 }).then(() => true, () => false);

async function chat(server: ServerProcess, text: string, images: Buffer[] = []): Promise<{ status: number; kind?: string; cards: number }> {
  const res = await fetch(`${server.base}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text, images: images.map((b, i) => ({ name: `p${i}.png`, type: 'image/png', data: b.toString('base64') })) }) });
  const body = (await res.json().catch(() => ({}))) as { replies?: Array<{ kind: string; cards: unknown[] }> };
  return { status: res.status, kind: body.replies?.[0]?.kind, cards: body.replies?.[0]?.cards.length ?? 0 };
}

export async function runSnapshotDamage(options: SnapshotDamageOptions): Promise<Tally> {
  const tally = emptyTally('index snapshots damaged under a running server');
  const random = mulberry32(options.seed);
  const dir = tempDir('referent-snapshots-');
  const dataDir = path.join(dir, 'data');
  const env = { REFERENT_DATA_DIR: dataDir, REFERENT_MODEL: tinyModelDir, REFERENT_OCR: '0', REFERENT_MAINTENANCE_SECONDS: '1', REFERENT_ADMINS: 'web:local' };
  const children: ChildProcess[] = [];
  const taught: string[] = [];
  try {
    const seeded = await openReferent(testConfig(dataDir));
    await ingest(seeded, await readSources(await makeColourGallery(path.join(dir, 'g'), 6, ['red', 'blue'])), { collection: 'parts', batchSize: 4, maxImageBytes: 1 << 20, maxTextChars: 500 });
    await seeded.shutdown();
    let server = await startServerProcess(env, { children });
    for (let round = 1; round <= options.rounds; round++) {
      const damage = DAMAGES[(round - 1) % DAMAGES.length]!;
      const bases = snapshotBases(dataDir);
      const target = round % 3 === 0 && bases.references.length ? bases.references[0]! : bases.items;
      damage.apply(target);
      tally.faultsInjected++;
      const problems: string[] = [];
      // Taught while the snapshot is broken: the rewritten snapshot (or the replay) must hold it.
      const label = `SNAP-${round}`;
      const photo = await encodePixels({ data: Uint8Array.from({ length: 16 * 16 * 3 }, () => Math.floor(random() * 256)), width: 16, height: 16, channels: 3 }, 'png');
      const added = await chat(server, `add ${label} in parts: snapshot round ${round}`, [photo]);
      if (added.kind === 'info') taught.push(label);
      else problems.push(`add ${label} answered ${added.status} ${added.kind}`);
      const asked = await chat(server, 'red');
      if (asked.status !== 200 || asked.kind !== 'results' || asked.cards === 0) problems.push(`a search answered ${asked.status} ${asked.kind} with ${asked.cards} cards`);
      if (!(await waitUntil(() => whole(target), 30_000, 100))) problems.push(`${path.basename(target)} was not written again`);
      else if (!/snapshot was (deleted|altered) under the server: written again/.test(server.log())) problems.push('the server did not say it rewrote the snapshot');
      if (problems.length === 0) tally.faultsSurvived++;
      tally.failures.push(...problems.map((p) => `round ${round} (${damage.name}, ${path.basename(target)}): ${p}`));
      options.progress?.(`snapshot round ${round}: ${damage.name} in ${path.basename(target)}: ${problems.length ? problems.join('; ') : 'rewritten, server answered'}`);
    }
    // A whole snapshot written by someone else (new files, same content, as a `referent ingest`
    // beside the server leaves) is kept, not rewritten. The reference snapshot deleted at the same
    // time proves an upkeep round has looked at both.
    {
      const bases = snapshotBases(dataDir);
      const imageRewrites = () => (server.log().match(/image index snapshot was/g) ?? []).length;
      const before = imageRewrites();
      for (const ext of ['.hnsw', '.json']) {
        fs.copyFileSync(`${bases.items}${ext}`, `${bases.items}${ext}.copy`);
        fs.renameSync(`${bases.items}${ext}.copy`, `${bases.items}${ext}`);
      }
      const refs = bases.references[0]!;
      fs.rmSync(`${refs}.hnsw`);
      tally.faultsInjected++;
      const mended = await waitUntil(() => whole(refs), 30_000, 100);
      const problems = [
        ...(mended ? [] : ['the deleted reference snapshot was not written again']),
        ...(imageRewrites() === before ? [] : ['a whole snapshot written by another process was reported and rewritten']),
      ];
      if (problems.length === 0) tally.faultsSurvived++;
      tally.failures.push(...problems.map((p) => `foreign whole snapshot: ${p}`));
    }
    // kill -9 now: the next start must load the rewritten snapshot, not rebuild.
    server.process.kill('SIGKILL');
    await new Promise((r) => server.process.once('close', r));
    const checkStart = async (expectSource: 'snapshot' | 'rebuilt', when: string) => {
      const referent = await openReferent(testConfig(dataDir));
      try {
        if (referent.indexReport.source !== expectSource) tally.failures.push(`${when}: the index was ${referent.indexReport.source} (${referent.indexReport.reason ?? ''}), expected ${expectSource}`);
        if ((await referent.index.count()) !== await referent.catalog.countItems()) tally.failures.push(`${when}: index ${(await referent.index.count())} vs catalogue ${await referent.catalog.countItems()}`);
        for (const label of taught) {
          const [entity] = await referent.catalog.findEntities(label);
          const items = entity ? await referent.catalog.entityItems(entity.id) : [];
          if (items.length === 0 || !(await Promise.all(items.map((i) => referent.index.holds(i.id)))).every(Boolean)) {
            tally.itemsLost++;
            tally.failures.push(`${when}: ${label}, taught while the snapshot was damaged, is missing`);
          }
        }
      } finally {
        await referent.shutdown();
      }
    };
    await checkStart('snapshot', 'start after kill -9');
    // Damage, then kill before upkeep can run: the start rebuilds from the catalogue.
    server = await startServerProcess({ ...env, REFERENT_MAINTENANCE_SECONDS: '3600' }, { children });
    fs.truncateSync(`${snapshotBases(dataDir).items}.hnsw`, 100);
    tally.faultsInjected++;
    server.process.kill('SIGKILL');
    await new Promise((r) => server.process.once('close', r));
    const before = tally.failures.length;
    await checkStart('rebuilt', 'start after damage and kill -9');
    if (tally.failures.length === before) tally.faultsSurvived++;
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return tally;
}
