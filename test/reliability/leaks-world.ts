/**
 * The leak probes' world: five collections, each with its own distinctive strings (labels, a tag
 * word, a secret word nobody ever types, an identifier on one photo's label), granted to different
 * chat scopes; the real Slack (HTTP, fake Web API), Teams (local mode, fake connector, inline and
 * linked thumbnails) and web chat edges in front of one assistant.
 */
import fs from 'node:fs';
import path from 'node:path';
import { assistantFor } from '../../adapters/serve.js';
import { createSlackAdapter } from '../../adapters/slack/slack-adapter.js';
import { createTeamsAdapter } from '../../adapters/teams/teams-adapter.js';
import type { Assistant } from '../../src/chat/assistant.js';
import type { ChatScope } from '../../src/chat/message.js';
import type { Config } from '../../src/config.js';
import { describe as describeEntity } from '../../src/entities/entities.js';
import { solidPng } from '../../src/image/image-io.js';
import { ingest } from '../../src/ingest/ingest.js';
import { identifiersIn } from '../../src/ocr/identifiers.js';
import { openReferent, type Referent } from '../../src/open.js';
import { type FakeConnector, startFakeConnector } from '../support/fake-connector.js';
import { type FakeSlack, startFakeSlack } from '../support/fake-slack.js';
import { tempDir, testConfig } from '../support/fixtures.js';
import { BOT_TOKEN, SIGNING_SECRET } from '../support/slack-world.js';
import { startServer, type TestServer } from '../support/web.js';

export type CollectionKey = 'A' | 'B' | 'C' | 'P' | 'Q';

/** A collection and the strings that give it away wherever they turn up. */
export interface CollectionSpec {
  key: CollectionKey;
  name: string;
  kind: 'part' | 'person';
  /** Typed by probes (find), so only an occurrence beyond what was typed counts. */
  tag: string;
  /** In its captions, descriptions and labels; no probe ever types it. */
  secret: string;
  labels: [string, string];
  /** Printed on its first photo (OCR), with its first label. */
  ident: string;
}

export const SPECS: readonly CollectionSpec[] = [
  { key: 'A', name: 'parts-a', kind: 'part', tag: 'tagalpha', secret: 'secretalpha', labels: ['AX-4101', 'AX-4102'], ident: 'LA-9101' },
  { key: 'B', name: 'parts-b', kind: 'part', tag: 'tagbravo', secret: 'secretbravo', labels: ['BX-5201', 'BX-5202'], ident: 'LB-9201' },
  { key: 'C', name: 'parts-c', kind: 'part', tag: 'tagcharlie', secret: 'secretcharlie', labels: ['CX-6301', 'CX-6302'], ident: 'LC-9301' },
  { key: 'P', name: 'people-p', kind: 'person', tag: 'tagpapa', secret: 'secretpapa', labels: ['PX-7401', 'PX-7402'], ident: 'LP-9401' },
  { key: 'Q', name: 'people-q', kind: 'person', tag: 'tagquebec', secret: 'secretquebec', labels: ['QX-8501', 'QX-8502'], ident: 'LQ-9501' },
];

export type Edge = 'slack' | 'teams' | 'web';

/** A chat scope and what it was granted (the expectation, written out rather than asked of the code under test). */
export interface ScopeSpec {
  name: string;
  scope: ChatScope;
  sees: readonly CollectionKey[];
  edge: Edge;
  /** Ordinary member and admin, as the platform names them. */
  users: { member: string; admin: string };
}

const teamsChannel = (n: number) => `19:c${n}@thread.tacv2`;
export const SCOPES: readonly ScopeSpec[] = [
  { name: 'slack:T1/C1', scope: { platform: 'slack', workspace: 'T1', channel: 'C1' }, sees: ['A'], edge: 'slack', users: { member: 'UALICE', admin: 'UADMIN' } },
  { name: 'slack:T1/C2', scope: { platform: 'slack', workspace: 'T1', channel: 'C2' }, sees: ['A', 'B'], edge: 'slack', users: { member: 'UALICE', admin: 'UADMIN' } },
  { name: 'slack:T1/C3', scope: { platform: 'slack', workspace: 'T1', channel: 'C3' }, sees: ['A', 'P'], edge: 'slack', users: { member: 'UALICE', admin: 'UADMIN' } },
  { name: 'slack:T2/C2', scope: { platform: 'slack', workspace: 'T2', channel: 'C2' }, sees: [], edge: 'slack', users: { member: 'UALICE', admin: 'UADMIN' } },
  { name: 'teams:tenant-2', scope: { platform: 'teams', workspace: 'tenant-2', channel: teamsChannel(2) }, sees: ['C'], edge: 'teams', users: { member: 'aad-alice', admin: 'aad-admin' } },
  { name: 'teams:tenant-3', scope: { platform: 'teams', workspace: 'tenant-3', channel: teamsChannel(3) }, sees: ['A'], edge: 'teams', users: { member: 'aad-alice', admin: 'aad-admin' } },
  { name: 'teams:tenant-1', scope: { platform: 'teams', workspace: 'tenant-1', channel: teamsChannel(1) }, sees: [], edge: 'teams', users: { member: 'aad-alice', admin: 'aad-admin' } },
  { name: 'web', scope: { platform: 'web', workspace: 'local', channel: 'chat' }, sees: ['B'], edge: 'web', users: { member: 'local', admin: 'local' } },
];

const COLOURS: Array<[string, [number, number, number]]> = [
  ['red', [220, 30, 30]],
  ['blue', [30, 60, 220]],
  ['green', [30, 180, 40]],
  ['yellow', [235, 215, 40]],
  ['white', [245, 245, 245]],
  ['black', [15, 15, 15]],
];
export const COLOUR_WORDS = COLOURS.map(([c]) => c);

/** One photo of the starting gallery, with the bytes that were posted. */
export interface WorldItem {
  id: number;
  key: CollectionKey;
  bytes: Buffer;
  mediaKey: string;
  label: string | null;
}

export interface World {
  dir: string;
  config: Config;
  referent: Referent;
  assistant: Assistant;
  fake: FakeSlack;
  connector: FakeConnector;
  /** Slack, Teams (inline thumbnails) and the web chat. */
  server: TestServer;
  /** Teams again, with REFERENT_PUBLIC_URL pointing at `server`: cards carry signed links. */
  linkServer: TestServer;
  token: string;
  collectionId: Record<CollectionKey, number>;
  items: WorldItem[];
  /** Everything the adapters and the assistant logged. */
  logged: string[];
  close(): Promise<void>;
}

export const ADMINS = 'slack:UADMIN,teams:aad-admin,web:local';
export const WEB_TOKEN = 'leak-probe-web-token-0123456789';

/** Photos per collection: two per label, two nobody labelled (what "That's it" with an entity id acts on). */
const PER_COLLECTION = 6;

async function fillCollections(referent: Referent): Promise<{ ids: Record<CollectionKey, number>; items: WorldItem[] }> {
  const { catalog } = referent;
  const ids = {} as Record<CollectionKey, number>;
  const items: WorldItem[] = [];
  for (const [ci, spec] of SPECS.entries()) {
    ids[spec.key] = (await catalog.ensureCollection(spec.name, spec.kind)).id;
    const sources = [];
    for (let i = 0; i < PER_COLLECTION; i++) {
      const [colour, rgb] = COLOURS[i]!;
      // Every collection holds every colour: a missing filter would bring its look-alikes in.
      const bytes = await solidPng(44 + ci * PER_COLLECTION + i, 40, rgb.map((c) => Math.max(0, Math.min(255, c + ci * 3 - 6))) as [number, number, number]);
      const label = i < 4 ? spec.labels[i >> 1]! : null;
      sources.push({ path: '', bytes, origin: `${spec.key}${i}`, collection: spec.name, caption: `a ${colour} part ${spec.tag} ${spec.secret}`, ...(label ? { entity: label } : {}) });
    }
    await ingest(referent, { sources, problems: [] }, { collection: spec.name, batchSize: 8, maxImageBytes: 1 << 20, maxTextChars: 500 });
    for (const s of sources) {
      const item = (await catalog.findLiveItemByHash(ids[spec.key], referent.media.hash(s.bytes)))!;
      items.push({ id: item.id, key: spec.key, bytes: s.bytes, mediaKey: item.mediaKey, label: s.entity ?? null });
    }
    await describeEntity(referent, { label: spec.labels[0], text: `${spec.secret} described, with a ${spec.tag} sticker`, collection: spec.name }, { maxTextChars: 500 });
    const first = items.find((it) => it.key === spec.key)!;
    const lines = [spec.ident, `${spec.labels[0]} ${spec.secret}`];
    await catalog.putOcr(first.id, {
      modelId: 'stand-in',
      lines: lines.map((text) => ({ text, confidence: 0.99, box: [[0, 0], [10, 0], [10, 10], [0, 10]] as Array<[number, number]> })),
      identifiers: lines.flatMap((l) => identifiersIn(l)),
    });
  }
  await referent.references.catchUp();
  return { ids, items };
}

async function grantAll(referent: Referent, ids: Record<CollectionKey, number>): Promise<void> {
  const { catalog } = referent;
  await catalog.grant({ collectionId: ids.A, platform: 'slack', workspace: 'T1' });
  await catalog.grant({ collectionId: ids.A, platform: 'teams', workspace: 'tenant-3' });
  await catalog.grant({ collectionId: ids.B, platform: 'slack', workspace: 'T1', channel: 'C2' });
  await catalog.grant({ collectionId: ids.C, platform: 'teams', workspace: 'tenant-2' });
  await catalog.grant({ collectionId: ids.P, platform: 'slack', workspace: 'T1', channel: 'C3' });
  await catalog.grant({ collectionId: ids.Q, platform: 'slack', workspace: 'T1', channel: 'C3' });
  await catalog.setCollectionEnabled(ids.P, true);
}

/**
 * Builds the world and starts every edge; `close` stops them and deletes the folder. `engineEnv` points
 * its catalogue at an engine other than the data folder's SQLite (engines.ts).
 */
export async function startWorld(engineEnv: Record<string, string> = {}): Promise<World> {
  const dir = tempDir('referent-leaks-');
  const logged: string[] = [];
  const log = (line: string) => void logged.push(line);
  const cleanup: Array<() => Promise<void>> = [async () => fs.rmSync(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const step of cleanup.reverse()) await step().catch(() => {});
  };
  try {
    const fake = await startFakeSlack({ botToken: BOT_TOKEN });
    cleanup.push(() => fake.close());
    const connector = await startFakeConnector();
    cleanup.push(() => connector.close());
    const env = { SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: fake.apiUrl, REFERENT_ADMINS: ADMINS, REFERENT_WEB_COLLECTIONS: 'parts-b', REFERENT_WEB_TOKEN: WEB_TOKEN, REFERENT_OCR: '0', REFERENT_TEAMS_LOCAL: 'true', ...engineEnv };
    const config = testConfig(path.join(dir, 'data'), env);
    const referent = await openReferent(config);
    cleanup.push(() => referent.shutdown());
    const { ids, items } = await fillCollections(referent);
    await grantAll(referent, ids);
    const assistant = assistantFor(referent, config, log);
    const slack = await createSlackAdapter(referent, assistant, { ...config, slack: config.slack! }, { log, retryConfig: { retries: 1, factor: 1, minTimeout: 10, maxTimeout: 20 } });
    const teams = createTeamsAdapter(referent, assistant, config, { log });
    const server = await startServer(referent, config, { assistant, log, mounts: [slack.mount!, teams.mount] });
    cleanup.push(() => server.close());
    const linked = testConfig(path.join(dir, 'data'), { ...env, REFERENT_PUBLIC_URL: server.base });
    const linkServer = await startServer(referent, linked, { assistant, log, mounts: [createTeamsAdapter(referent, assistant, linked, { log }).mount] });
    cleanup.push(() => linkServer.close());
    return { dir, config, referent, assistant, fake, connector, server, linkServer, token: WEB_TOKEN, collectionId: ids, items, logged, close };
  } catch (err) {
    await close();
    throw err;
  }
}

export const specOf = (key: CollectionKey) => SPECS.find((s) => s.key === key)!;
