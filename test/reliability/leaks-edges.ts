/**
 * Driving one probe through a real edge and collecting everything it sent back: signed Slack
 * events and button presses (every Web API call that followed, and the files uploaded), Teams
 * activities (every activity sent to the connector), the web chat's JSON. Each waits until the
 * edge has finished answering, so the catalogue can be read right after.
 */
import { FIND_SIMILAR } from '../../adapters/slack/slack-adapter.js';
import { postSigned } from '../support/fake-slack.js';
import type { SlackCall } from '../support/fake-slack.js';
import type { ConnectorCall } from '../support/fake-connector.js';
import { eventBody, nextTs, SIGNING_SECRET } from '../support/slack-world.js';
import type { ScopeSpec, World } from './leaks-world.js';
import { waitUntil } from '../support/wait.js';

export interface EdgeOutput {
  /** What the platform was sent (calls, activities or the JSON answer). */
  json: unknown;
  /** Files that went with it (Slack uploads). */
  blobs: Array<{ where: string; bytes: Uint8Array }>;
  /** What the edge itself found wrong (two answers that should have been alike). */
  problems?: string[];
}

/** A Teams answer with cards, remembered so a later probe can name it as the message a button was on. */
export interface TeamsAnswer {
  id: string;
  conversationId: string;
  scope: string;
}

const WAIT_MS = 20_000;

async function until(done: () => boolean, what: string): Promise<void> {
  if (!(await waitUntil(done, WAIT_MS))) throw new Error(`no answer from the ${what} within ${WAIT_MS} ms`);
}

/**
 * The answer is complete: its placeholder was edited or removed, or a reply was posted without one.
 * In a thread when there is one (a mention, a button); a slash command answers privately through
 * its response URL, done once its last post there is not the placeholder.
 */
function slackAnswered(calls: readonly SlackCall[], thread: string | null): boolean {
  const mine = thread === null ? calls : calls.filter((c) => c.args.thread_ts === thread);
  // That's it on a photo nobody labelled answers with a dialog asking for its label.
  if (calls.some((c) => c.method === 'views.open')) return true;
  const privately = thread === null ? mine.filter((c) => c.method === 'response_url') : [];
  if (privately.length > 0) return !/^(Searching|Adding)…$/.test(String(privately.at(-1)!.args.text));
  const placeholder = mine.find((c) => c.method === 'chat.postMessage' && /^(Searching|Adding)…$/.test(String(c.args.text)));
  if (placeholder) return calls.some((c) => (c.method === 'chat.update' || c.method === 'chat.delete') && c.args.ts === placeholder.response?.ts);
  return mine.some((c) => c.method === 'chat.postEphemeral' || c.method === 'chat.postMessage');
}

export class Edges {
  /** Photos the probes posted in Slack, by file id. */
  readonly posted = new Map<string, Uint8Array>();
  readonly teamsAnswers: TeamsAnswer[] = [];
  private seq = 0;

  constructor(private readonly world: World) {}

  /** The bytes behind a Slack file id: a thumbnail the bot uploaded, or a photo a probe posted. */
  slackFile = (id: string): { bytes: Uint8Array; posted: boolean } | undefined => {
    const uploaded = this.world.fake.uploaded.get(id);
    if (uploaded) return { bytes: uploaded, posted: false };
    const posted = this.posted.get(id);
    return posted ? { bytes: posted, posted: true } : undefined;
  };

  private async slackExchange(send: () => Promise<{ status: number }>, thread: string | null): Promise<EdgeOutput> {
    const { fake } = this.world;
    const start = fake.calls.length;
    const before = new Set(fake.uploaded.keys());
    const res = await send();
    if (res.status !== 200) throw new Error(`Slack endpoint answered ${res.status}`);
    await until(() => slackAnswered(fake.calls.slice(start), thread), 'Slack adapter');
    const calls = fake.calls.slice(start).map((c) => ({ method: c.method, args: c.args }));
    const blobs = [...fake.uploaded].filter(([id]) => !before.has(id)).map(([id, bytes]) => ({ where: `Slack upload ${id}`, bytes }));
    return { json: calls, blobs };
  }

  /** An @mention with photos attached, as a signed Events API request. */
  async slackMention(spec: ScopeSpec, user: string, text: string, images: readonly Uint8Array[]): Promise<EdgeOutput> {
    const files = images.map((bytes) => {
      const file = this.world.fake.addFile(bytes, { name: `probe-${++this.seq}.png`, mimetype: 'image/png' });
      this.posted.set(file.id, bytes);
      return file;
    });
    const ts = nextTs();
    const event = { type: 'app_mention', user, text: `<@UBOT> ${text}`, ts, event_ts: ts, channel: spec.scope.channel, ...(files.length ? { files } : {}) };
    return this.slackExchange(() => postSigned(`${this.world.server.base}/slack/events`, SIGNING_SECRET, eventBody(event, spec.scope.workspace)), ts);
  }

  /** The "Find similar" message shortcut on a photo posted in the scope's channel. */
  async slackShortcut(spec: ScopeSpec, user: string, image: Uint8Array): Promise<EdgeOutput> {
    const file = this.world.fake.addFile(image, { name: `probe-${++this.seq}.png`, mimetype: 'image/png' });
    this.posted.set(file.id, image);
    const ts = nextTs();
    const { workspace, channel } = spec.scope;
    const payload = {
      type: 'message_action',
      callback_id: FIND_SIMILAR,
      trigger_id: '1.2.3',
      message_ts: ts,
      response_url: `${this.world.fake.base}/respond/shortcut`,
      team: { id: workspace, domain: 'fake' },
      channel: { id: channel, name: 'probe' },
      user: { id: user, name: user.toLowerCase(), team_id: workspace },
      message: { type: 'message', user, ts, text: '', files: [file] },
    };
    return this.slackExchange(() => postSigned(`${this.world.server.base}/slack/events`, SIGNING_SECRET, { form: { payload: JSON.stringify(payload) } }), ts);
  }

  /** `/referent <text>` in the scope's channel. */
  async slackCommand(spec: ScopeSpec, user: string, text: string): Promise<EdgeOutput> {
    const { workspace, channel } = spec.scope;
    const form = { command: '/referent', text, team_id: workspace, channel_id: channel, user_id: user, user_name: user.toLowerCase(), response_url: `${this.world.fake.base}/respond/command`, trigger_id: '1.2.3', api_app_id: 'A1' };
    return this.slackExchange(() => postSigned(`${this.world.server.base}/slack/events`, SIGNING_SECRET, { form }), null);
  }

  /** A card button pressed in the scope's channel (block_actions), on a message of ours with no blocks. */
  async slackButton(spec: ScopeSpec, user: string, kind: string, value: string): Promise<EdgeOutput> {
    const ts = nextTs();
    const { workspace, channel } = spec.scope;
    const payload = {
      type: 'block_actions',
      team: { id: workspace, domain: 'fake' },
      user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: workspace },
      api_app_id: 'A1',
      container: { type: 'message', message_ts: ts, channel_id: channel, is_ephemeral: false },
      channel: { id: channel, name: 'probe' },
      message: { type: 'message', ts, thread_ts: ts, text: '', blocks: [] },
      actions: [{ type: 'button', action_id: `referent.${kind}`, block_id: 'card:1:act:0', value, action_ts: '1' }],
      response_url: `${this.world.fake.base}/respond/probe`,
      trigger_id: '1.2.3',
    };
    return this.slackExchange(() => postSigned(`${this.world.server.base}/slack/events`, SIGNING_SECRET, { form: { payload: JSON.stringify(payload) } }), ts);
  }

  /**
   * A Teams activity in the scope's channel: a mention with photos, or a submitted card button
   * (`value`), optionally on an earlier answer (`replyTo`). `linked`: the server whose cards link
   * their pictures instead of inlining them.
   */
  async teams(spec: ScopeSpec, user: string, options: { text?: string; images?: readonly Uint8Array[]; value?: string; replyTo?: string; linked: boolean }): Promise<EdgeOutput> {
    const { connector } = this.world;
    const n = ++this.seq;
    const id = `probe-${n}`;
    const conversationId = `${spec.scope.channel};messageid=${n}`;
    const attachments = (options.images ?? []).map((bytes, i) => ({ contentType: 'image/png', contentUrl: connector.addAttachment(bytes, 'inline', `p${n}-${i}.png`), name: `p${n}-${i}.png` }));
    const mention = '<at>Referent</at>';
    const activity = {
      type: 'message',
      id,
      timestamp: new Date().toISOString(),
      serviceUrl: connector.base,
      channelId: 'msteams',
      from: { id: `29:${user}`, name: user, aadObjectId: user },
      recipient: { id: '28:referent', name: 'Referent' },
      conversation: { id: conversationId, conversationType: 'channel', tenantId: spec.scope.workspace },
      channelData: { tenant: { id: spec.scope.workspace }, channel: { id: spec.scope.channel }, team: { id: '19:team' } },
      ...(options.value !== undefined
        ? { text: '', value: { referent: options.value }, ...(options.replyTo ? { replyToId: options.replyTo } : {}) }
        : { text: `${mention} ${options.text ?? ''}`, entities: [{ type: 'mention', text: mention, mentioned: { id: '28:referent', name: 'Referent' } }], attachments }),
    };
    const start = connector.calls.length;
    const base = options.linked ? this.world.linkServer.base : this.world.server.base;
    const res = await fetch(`${base}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) });
    if (res.status !== 200) throw new Error(`Teams endpoint answered ${res.status}: ${await res.text()}`);
    const answered = (c: ConnectorCall) => c.method === 'PUT' || (c.activity.type === 'message' && c.activityId === id);
    await until(() => connector.calls.slice(start).some(answered), 'Teams adapter');
    const calls = connector.calls.slice(start);
    for (const c of calls) {
      if (c.method === 'POST' && c.activity.type === 'message' && (c.activity.attachments ?? []).some((a) => Array.isArray(a.content.actions) && a.content.actions.length > 0)) {
        this.teamsAnswers.push({ id: c.id, conversationId: c.conversationId, scope: spec.name });
      }
    }
    return { json: calls.map((c) => ({ method: c.method, conversationId: c.conversationId, activityId: c.activityId, activity: c.activity })), blobs: [] };
  }

  /**
   * The search API the web chat's scope also governs: the query alone, then within a collection it
   * may not see and within one that does not exist, which must be answered alike (404).
   */
  async webSearch(q: string, foreign: string, absent: string): Promise<EdgeOutput & { problems: string[] }> {
    const get = async (params: Record<string, string>) => {
      const res = await fetch(`${this.world.server.base}/api/search?${new URLSearchParams(params)}`, { headers: { authorization: `Bearer ${this.world.token}` } });
      return { status: res.status, body: (await res.json()) as unknown };
    };
    const plain = await get({ q, limit: '10' });
    const named = await get({ q, limit: '10', collection: foreign });
    const none = await get({ q, limit: '10', collection: absent });
    const problems: string[] = [];
    if (plain.status !== 200) problems.push(`search answered ${plain.status}`);
    if (named.status !== none.status || JSON.stringify(named.body).split(foreign).join('<NAME>') !== JSON.stringify(none.body).split(absent).join('<NAME>')) {
      problems.push(`search in ${foreign} answered ${named.status} ${JSON.stringify(named.body).slice(0, 200)}, in ${absent} ${none.status} ${JSON.stringify(none.body).slice(0, 200)}`);
    }
    return { json: { plain, named }, blobs: [], problems };
  }

  /** The web chat's JSON API, with the access token. */
  async web(path: '/api/chat' | '/api/action', body: unknown): Promise<EdgeOutput> {
    const res = await fetch(`${this.world.server.base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.world.token}` },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as unknown;
    if (res.status !== 200) throw new Error(`web chat answered ${res.status}: ${JSON.stringify(json)}`);
    return { json, blobs: [] };
  }
}
