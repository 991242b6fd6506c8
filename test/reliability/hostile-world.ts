/**
 * The world the hostile-request groups run against: one data folder (real SQLite, HNSW, the tiny
 * ONNX demo encoder) served by three HTTP servers on 127.0.0.1 (open, token-locked, and a Teams
 * endpoint with an app id), a fake Slack and two fake Bot Framework connectors. Canary files sit
 * next to and inside the data folder so a leak of any file outside media/ can be recognised.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import Database from 'better-sqlite3';
import { assistantFor } from '../../adapters/serve.js';
import { createSlackAdapter } from '../../adapters/slack/slack-adapter.js';
import { createTeamsAdapter } from '../../adapters/teams/teams-adapter.js';
import type { Config } from '../../src/config.js';
import { dataPaths, type Referent } from '../../src/open.js';
import { hostileLimits } from '../media/hostile-corpus.js';
import { type FakeConnector, startFakeConnector } from '../support/fake-connector.js';
import { type FakeOpenId, startFakeOpenId } from '../support/fake-openid.js';
import { type FakeSlack, postSigned, startFakeSlack } from '../support/fake-slack.js';
import { tempDir, testConfig } from '../support/fixtures.js';
import { BOT_TOKEN, buildWorld, SIGNING_SECRET, slackConfig, TEAM } from '../support/slack-world.js';
import { startServer, type TestServer } from '../support/web.js';

/** The locked server's REFERENT_WEB_TOKEN. */
export const WEB_TOKEN = 'hostile-requests-web-token';
/** The Teams tenant granted `parts`. */
export const TENANT = 'tenant-hostile';
export const APP_ID = '00000000-0000-0000-0000-00000000beef';
/** Slack uploads go to their own workspace and collection, so web and Slack never dedupe each other's bytes. */
export const SLACK_UPLOAD_TEAM = 'T0009';
export const SLACK_UPLOAD_COLLECTION = 'hostile-slack';

export interface HostileWorld {
  dir: string;
  config: Config;
  referent: Referent;
  slack: FakeSlack;
  /** Replies of the local-mode Teams endpoint. */
  connector: FakeConnector;
  /** Replies of the app-id Teams endpoint: must stay empty. */
  authConnector: FakeConnector;
  /** Web chat, Slack events and local-mode Teams, no token. */
  open: TestServer;
  /** The same data behind REFERENT_WEB_TOKEN. */
  locked: TestServer;
  /** Teams with MICROSOFT_APP_ID set. */
  teamsAuth: TestServer;
  /** Where teamsAuth reads the Bot Framework's signing keys (instead of login.botframework.com). */
  openId: FakeOpenId;
  /** Contents of the canary files: none may ever come back over HTTP. */
  canaries: string[];
  /** Everything the servers and adapters logged. */
  logged: string[];
  stop(): Promise<void>;
}

/** Builds the data folder and starts every server and fake; `stop()` undoes all of it. */
export async function startHostileWorld(seed: number): Promise<HostileWorld> {
  const dir = tempDir('referent-hostile-');
  const logged: string[] = [];
  const log = (line: string) => void logged.push(line);
  const slack = await startFakeSlack({ botToken: BOT_TOKEN, teamId: TEAM });
  const connector = await startFakeConnector();
  const authConnector = await startFakeConnector();
  const openId = await startFakeOpenId();
  const dataDir = path.join(dir, 'data');
  // Image limits as the hostile corpus's expectations are written for them.
  const env = { REFERENT_MAX_IMAGE_BYTES: String(hostileLimits.maxBytes), REFERENT_MAX_IMAGE_PIXELS: String(hostileLimits.maxPixels), REFERENT_WEB_COLLECTIONS: 'parts', REFERENT_OCR: '0', REFERENT_TEAMS_LOCAL: 'true' };
  const config = slackConfig(dataDir, slack.apiUrl, env);
  const referent = await buildWorld(dir, config);
  const { catalog } = referent;
  const parts = (await catalog.findCollection('parts'))!;
  await catalog.grant({ collectionId: parts.id, platform: 'teams', workspace: TENANT });
  await catalog.grant({ collectionId: (await catalog.ensureCollection(SLACK_UPLOAD_COLLECTION, 'part')).id, platform: 'slack', workspace: SLACK_UPLOAD_TEAM });

  const canaries = [`canary-beside-data-${seed}`, `canary-in-data-${seed}`, `canary-in-media-${seed}`];
  const media = dataPaths(dataDir).media;
  fs.mkdirSync(media, { recursive: true });
  [path.join(dir, 'canary.txt'), path.join(dataDir, 'canary.txt'), path.join(media, 'canary.txt')].forEach((file, i) => fs.writeFileSync(file, canaries[i]!));

  const assistant = assistantFor(referent, config, log);
  const slackAdapter = await createSlackAdapter(referent, assistant, { ...config, slack: config.slack! }, { log, retryConfig: { retries: 0 } });
  const teamsLocal = createTeamsAdapter(referent, assistant, config, { log });
  const open = await startServer(referent, config, { assistant, log, mounts: [slackAdapter.mount!, teamsLocal.mount] });
  const locked = await startServer(referent, { ...config, chat: { ...config.chat, webToken: WEB_TOKEN } }, { assistant, log });
  const authConfig = testConfig(dataDir, { ...env, MICROSOFT_APP_ID: APP_ID, MICROSOFT_APP_PASSWORD: 'not-a-real-secret' });
  const teamsAuthAdapter = createTeamsAdapter(referent, assistant, authConfig, { log, auth: openId.auth });
  const teamsAuth = await startServer(referent, authConfig, { assistant, log, mounts: [teamsAuthAdapter.mount] });

  const stop = async () => {
    for (const server of [open, locked, teamsAuth]) {
      server.server.closeAllConnections();
      await server.close();
    }
    await slack.close();
    await connector.close();
    await authConnector.close();
    await openId.close();
    await referent.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { dir, config, referent, slack, connector, authConnector, open, locked, teamsAuth, openId, canaries, logged, stop };
}

/** An answer as received, body unparsed. */
export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

/** A request as sent by rawRequest. */
export interface RawRequest {
  method?: string;
  /** Sent byte for byte: no client-side normalisation of `..` or percent escapes. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** One request on a fresh connection, its path exactly as given (fetch would resolve `../`). */
export function rawRequest(base: string, request: RawRequest): Promise<RawResponse> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method: request.method ?? 'GET', path: request.path, headers: request.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(request.body);
  });
}

/** A JSON POST through fetch, answered as status and text. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
}

/** A signed Slack request (JSON event or interactivity form) to the open server. */
export const slackPost = (world: HostileWorld, body: Parameters<typeof postSigned>[2], options?: Parameters<typeof postSigned>[3]) =>
  postSigned(`${world.open.base}/slack/events`, SIGNING_SECRET, body, options);

/**
 * What a person must never see in an answer: a stack frame, a path of this machine, a canary, a
 * source file. Returns the first such thing found, or null.
 */
export function leakIn(world: HostileWorld, text: string): string | null {
  const patterns: Array<[string, RegExp]> = [
    ['a stack frame', /\n\s+at [^\n]+[(:]\d+/],
    ['a source file', /\.(ts|js|mjs|cjs):\d+/],
    ['node_modules', /node_modules/],
    ['an error class name', /\b(TypeError|ReferenceError|RangeError|SyntaxError|FetchError|ZodError)\b/],
    ['SQLite', /SQLite format 3|SQLITE_/],
    ['a network error', /getaddrinfo|ENOTFOUND|ECONNREFUSED|login\.botframework\.com|login\.microsoftonline\.com/],
  ];
  for (const [what, pattern] of patterns) if (pattern.test(text)) return what;
  if (text.includes(world.dir)) return 'the data folder path';
  for (const canary of world.canaries) if (text.includes(canary)) return `canary "${canary}"`;
  return null;
}

/** What a refused request must leave as it was. Read on a second, read-only connection: what is committed, not what is cached. */
export interface CatalogueCounts {
  feedback: number;
  items: number;
  entities: number;
  texts: number;
}

/** The counts now, from the catalogue file. */
export function catalogueCounts(world: HostileWorld): CatalogueCounts {
  const db = new Database(dataPaths(world.config.dataDir).catalog, { readonly: true, fileMustExist: true });
  try {
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    return {
      feedback: count('SELECT COUNT(*) AS n FROM feedback'),
      items: count('SELECT COUNT(*) AS n FROM items WHERE deleted_at IS NULL'),
      entities: count('SELECT COUNT(*) AS n FROM entities'),
      texts: count('SELECT COUNT(*) AS n FROM texts'),
    };
  } finally {
    db.close();
  }
}

/** True when nothing was added, removed or recorded between two readings. */
export const sameCounts = (a: CatalogueCounts, b: CatalogueCounts) => a.feedback === b.feedback && a.items === b.items && a.entities === b.entities && a.texts === b.texts;

/** Short enough for a failure line: hostile inputs can be megabytes. */
export function clip(text: string, max = 160): string {
  const flat = text.replace(/[\u0000-\u001f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return flat.length <= max ? flat : `${flat.slice(0, max)}… (${flat.length} chars)`;
}

/** True when the server still answers its health check. */
export async function healthy(world: HostileWorld): Promise<boolean> {
  try {
    return (await fetch(`${world.open.base}/api/health`)).status === 200;
  } catch {
    return false;
  }
}
