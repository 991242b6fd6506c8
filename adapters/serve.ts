/**
 * Starting Referent as a service: open the data folder (pulling the model on first start when the
 * network allows), bind the HTTP server with the web chat, and shut down cleanly on SIGINT/SIGTERM.
 */
import type http from 'node:http';
import { accessPolicy } from '../src/chat/access.js';
import { Assistant } from '../src/chat/assistant.js';
import { isLoopbackHost, type Config } from '../src/config.js';
import { describeInference } from '../src/encoder/encoder.js';
import { ErrorCode, ReferentError } from '../src/errors.js';
import { sweepOrphanMedia, SWEEP_GRACE_MS } from '../src/media/media-trash.js';
import { FaceQueue } from '../src/faces/face-queue.js';
import { FaceRuntime } from '../src/faces/face-runtime.js';
import type { FaceSearchDeps } from '../src/search/face-search.js';
import { OcrQueue } from '../src/ocr/ocr-queue.js';
import { PaddleOcr } from '../src/ocr/paddle-ocr.js';
import { openReferent, type Referent } from '../src/open.js';
import { describeOpen } from './cli/report.js';
import { createProgressBar } from './cli/progress-bar.js';
import { createSlackAdapter, SLACK_EVENTS_PATH, type SlackAdapter } from './slack/slack-adapter.js';
import { createTeamsAdapter, TEAMS_MESSAGES_PATH, type TeamsAdapter } from './teams/teams-adapter.js';
import { createHttpServer, type Mount } from './web/http-server.js';

/** `faces`: the face runtime, for face search and `who is this` in person collections with faces on. */
export function assistantFor(referent: Referent, config: Config, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`), onAdded?: () => void, faces?: FaceSearchDeps): Assistant {
  return new Assistant(faces ? { ...referent, faces } : referent, {
    policy: accessPolicy(config.chat),
    limits: { maxTextChars: config.maxTextChars, maxImageBytes: config.maxImageBytes, batchSize: config.batchSize },
    results: config.chat.results,
    log,
    ...(onAdded ? { onAdded } : {}),
  });
}

/** How often the server looks for images added by another process (`referent ingest`) to read their labels. */
const OCR_POLL_MS = 60_000;

/** Label reading in the background: at start, after every chat `add`, and every minute for other writers. */
function startOcr(referent: Referent, config: Config, log: (line: string) => void): { queue: OcrQueue | null; stop(): Promise<void> } {
  if (!config.ocr.enabled) return { queue: null, stop: async () => {} };
  const queue = new OcrQueue(referent, () => PaddleOcr.create({ minConfidence: config.ocr.minConfidence }), { minConfidence: config.ocr.minConfidence, log });
  queue.kick();
  const timer = setInterval(() => queue.kick(), OCR_POLL_MS);
  timer.unref();
  return {
    queue,
    stop: async () => {
      clearInterval(timer);
      await queue.close();
    },
  };
}

/**
 * Faces in the background, for the person collections with faces on: at start, after every chat
 * `add`, and every minute (images another process added, a collection switched on by the CLI). The
 * models load only when an image waits, and are let go when idle (FaceRuntime).
 */
function startFaces(referent: Referent, log: (line: string) => void): { queue: FaceQueue; runtime: FaceRuntime; stop(): Promise<void> } {
  const runtime = new FaceRuntime();
  const queue = new FaceQueue(referent, runtime, { log });
  queue.kick();
  const timer = setInterval(() => queue.kick(), OCR_POLL_MS);
  timer.unref();
  return {
    queue,
    runtime,
    stop: async () => {
      clearInterval(timer);
      await queue.close();
      await runtime.close();
    },
  };
}

/** Orphaned media (from a crash between a file write and its catalogue commit) is looked for this often. */
const SWEEP_EVERY_MS = 24 * 60 * 60 * 1000;

/**
 * The server's upkeep (Referent.maintain) every few seconds, and a media sweep at start and daily.
 * Rounds never overlap, and `stop` waits for the one in flight so shutdown saves after it.
 */
function startMaintenance(referent: Referent, config: Config, log: (line: string) => void): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  let busy = false;
  const round = (work: () => Promise<string[]>) => {
    if (busy) return;
    busy = true;
    running = work()
      .then((lines) => lines.forEach((line) => log(`upkeep: ${line}`)))
      .catch((err: unknown) => log(`upkeep failed: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => (busy = false));
  };
  const sweep = async () => {
    const { removed } = await sweepOrphanMedia(referent.catalog, referent.media, { olderThanMs: SWEEP_GRACE_MS });
    return removed > 0 ? [`deleted ${removed} media file(s) that no image uses (left by an interrupted upload)`] : [];
  };
  round(sweep);
  const timers = [setInterval(() => round(() => referent.maintain()), config.maintenanceSeconds * 1000), setInterval(() => round(sweep), SWEEP_EVERY_MS)];
  timers.forEach((t) => t.unref());
  return {
    stop: async () => {
      timers.forEach((t) => clearInterval(t));
      await running;
    },
  };
}

/**
 * Settings the server refuses to start with (CONFIG_INVALID, one line each). Bound to an address
 * others can reach, the web chat answers anyone there, so it needs a token: closed by default.
 */
export function serveProblems(config: Config): string[] {
  if (isLoopbackHost(config.host) || config.chat.webToken) return [];
  return [`Set REFERENT_WEB_TOKEN (a secret of at least 16 characters) to serve on HOST=${config.host}: without it, anyone who can reach that address could search and teach. Or bind HOST=127.0.0.1.`];
}

/** Why the socket could not be bound, as the setting to change (the common cases; others pass as they are). */
function listenError(err: unknown, config: Config): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const where = `${config.host}:${config.port}`;
  const reasons: Record<string, string> = {
    EADDRINUSE: `${where} is already in use (another Referent?): stop it, or set PORT to a free port.`,
    EACCES: `This user may not listen on ${where} (ports below 1024 need privileges): set PORT to 1024 or more.`,
    EADDRNOTAVAIL: `HOST=${config.host} is not an address of this machine: set HOST to one of its addresses, or 127.0.0.1.`,
    ENOTFOUND: `HOST=${config.host} does not resolve to an address: set HOST to an address of this machine, or 127.0.0.1.`,
  };
  const reason = code ? reasons[code] : undefined;
  return reason ? new ReferentError(ErrorCode.ConfigInvalid, reason, { cause: err, details: { problems: [reason] } }) : err;
}

/** Binds the server; resolves with its base URL. */
export async function listen(server: http.Server, config: Config): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(listenError(err, config)));
    server.listen(config.port, config.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  return `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
}

/** The chat platforms: Slack when its settings are present, Teams always (local mode without an app id). They share the web chat's server. */
export async function chatAdapters(referent: Referent, assistant: Assistant, config: Config, log: (line: string) => void): Promise<{ slack?: SlackAdapter; teams: TeamsAdapter; mounts: Mount[] }> {
  const teams = createTeamsAdapter(referent, assistant, config, { log });
  if (!config.slack) return { teams, mounts: [teams.mount] };
  const slack = await createSlackAdapter(referent, assistant, { ...config, slack: config.slack }, { log });
  return { slack, teams, mounts: [teams.mount, ...(slack.mount ? [slack.mount] : [])] };
}

export async function serve(config: Config, options: { banner?: string } = {}): Promise<void> {
  // Before the data folder is opened or a model pulled: a refused start changes nothing.
  const problems = serveProblems(config);
  // One line per problem, no header: it names the variable to set.
  if (problems.length) throw new ReferentError(ErrorCode.ConfigInvalid, problems.join('\n'), { details: { problems } });
  const referent = await openReferent(config, { progress: createProgressBar() });
  describeOpen(referent);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const ocr = startOcr(referent, config, log);
  const faces = startFaces(referent, log);
  const upkeep = startMaintenance(referent, config, log);
  const assistant = assistantFor(referent, config, log, () => {
    ocr.queue?.kick();
    faces.queue.kick();
  }, { runtime: faces.runtime });
  let adapters: Awaited<ReturnType<typeof chatAdapters>>;
  let server: http.Server | undefined;
  let url: string;
  // A start that fails part-way releases what it opened, so the process can exit with its error.
  try {
    adapters = await chatAdapters(referent, assistant, config, log);
    server = createHttpServer(referent, config, { assistant, log, mounts: adapters.mounts });
    url = await listen(server, config);
    await adapters.slack?.start();
  } catch (err) {
    if (server?.listening) await new Promise<void>((resolve) => server!.close(() => resolve()));
    await upkeep.stop();
    await ocr.stop();
    await faces.stop();
    await referent.shutdown();
    throw err;
  }
  const lines = [`Referent is running: open ${url}/${config.chat.webToken ? '?token=<REFERENT_WEB_TOKEN>' : ''} for the web chat`];
  const where = config.database ? `catalogue: PostgreSQL ${referent.catalog.location} (schema ${config.database.schema}) · media: ${config.dataDir}` : `data: ${config.dataDir}`;
  lines.push(`  ${where} · model: ${referent.encoder.displayName} on ${describeInference(referent.encoder)} · ${await referent.catalog.countItems()} images`);
  lines.push(`  labels (OCR): ${config.ocr.enabled ? `on, ${(await referent.catalog.countOcr()).pending} images waiting to be read` : 'off (REFERENT_OCR)'}`);
  const faceCollections = (await referent.catalog.faceCollectionIds()).length;
  lines.push(`  faces: ${faceCollections ? `on in ${faceCollections} collection(s), ${(await referent.catalog.countFaces()).pending} images waiting` : 'off (referent faces on <collection>)'}`);
  const { slack, teams } = adapters;
  lines.push(
    teams.mode === 'local'
      ? `  Teams: ${url}${TEAMS_MESSAGES_PATH} in local mode (no MICROSOFT_APP_ID), switched on by REFERENT_TEAMS_LOCAL: unauthenticated, so it answers this machine only (Bot Framework Emulator)`
      : teams.mode === 'off'
        ? `  Teams: off (${TEAMS_MESSAGES_PATH} answers 401): set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD for an Azure Bot (docs/teams.md), or REFERENT_TEAMS_LOCAL=true for the Bot Framework Emulator on this machine`
        : `  Teams: ${config.chat.publicUrl ?? url}${TEAMS_MESSAGES_PATH} for bot ${config.teams.appId} (Bot Framework auth required)`,
  );
  if (slack) {
    lines.push(
      slack.mode === 'socket'
        ? `  Slack: connected in Socket Mode as <@${slack.botUserId}> in workspace ${slack.team}`
        : `  Slack: events, interactivity and /referent at ${config.chat.publicUrl ?? url}${SLACK_EVENTS_PATH} (bot <@${slack.botUserId}> in workspace ${slack.team})`,
    );
  }
  if (config.chat.publicUrl && !config.chat.webToken) {
    // A proxy may rightly forward only the platform paths; if it forwards everything, the page is open.
    lines.push(`  Note: REFERENT_PUBLIC_URL without REFERENT_WEB_TOKEN: anyone your proxy lets through to / or /api/ may use the web chat. Set a token unless it forwards only ${SLACK_EVENTS_PATH}, ${TEAMS_MESSAGES_PATH} and /media/.`);
  }
  if (options.banner) lines.push(options.banner);
  process.stdout.write(`${lines.join('\n')}\nPress Ctrl+C to stop.\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  process.stdout.write('Shutting down…\n');
  await adapters.slack?.stop();
  await ocr.stop();
  await faces.stop();
  await upkeep.stop();
  server.closeAllConnections?.();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await referent.shutdown();
}
