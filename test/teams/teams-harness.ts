/**
 * Referent's server with the Teams adapter in local mode (switched on explicitly, as the Emulator
 * would have it) and a fake Bot Framework connector on 127.0.0.1. A POST returns once its turn is
 * over (CloudAdapter answers after the bot's logic), so what the connector received by then is
 * everything the activity caused.
 */
import { assistantFor } from '../../adapters/serve.js';
import { createTeamsAdapter } from '../../adapters/teams/teams-adapter.js';
import type { Config } from '../../src/config.js';
import type { Referent } from '../../src/open.js';
import { type ConnectorCall, type FakeConnector, startFakeConnector } from '../support/fake-connector.js';
import { startServer, type TestServer } from '../support/web.js';
import { TeamsPayloads } from './teams-payloads.js';

export type CardElement = Record<string, unknown> & { type: string };
export interface CardAction {
  type: string;
  title: string;
  verb?: string;
  style?: string;
  data: Record<string, unknown>;
  fallback?: CardAction;
}
export interface AdaptiveCard {
  type: 'AdaptiveCard';
  body: CardElement[];
  actions?: CardAction[];
}

export interface Posted {
  status: number;
  /** The HTTP body, parsed (an invoke response), or null when there was none. */
  body: unknown;
  /** What reached the connector while the activity was handled. */
  calls: ConnectorCall[];
}

export interface TeamsHarness {
  connector: FakeConnector;
  server: TestServer;
  payloads: TeamsPayloads;
  logged: string[];
  post(activity: unknown): Promise<Posted>;
  close(): Promise<void>;
}

export async function startTeams(referent: Referent, config: Config): Promise<TeamsHarness> {
  if (!config.teams.local) throw new Error('the harness needs REFERENT_TEAMS_LOCAL=true in its config');
  const logged: string[] = [];
  const log = (line: string) => void logged.push(line);
  const connector = await startFakeConnector();
  const assistant = assistantFor(referent, config, log);
  const teams = createTeamsAdapter(referent, assistant, config, { log });
  const server = await startServer(referent, config, { assistant, log, mounts: [teams.mount] });
  return {
    connector,
    server,
    payloads: new TeamsPayloads(connector.base),
    logged,
    async post(activity) {
      const before = connector.calls.length;
      const res = await fetch(`${server.base}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null, calls: connector.calls.slice(before) };
    },
    async close() {
      await server.close();
      await connector.close();
    },
  };
}

/** The Adaptive Cards of an activity the connector received. */
export const cardsOf = (call: ConnectorCall | undefined): AdaptiveCard[] => (call?.activity.attachments ?? []).map((a) => a.content as unknown as AdaptiveCard);

/** The text a card shows: each TextBlock, and each RichTextBlock's runs read as one line; blocks joined by a space. */
export function shownText(card: AdaptiveCard | undefined): string {
  const out: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (o.type === 'TextBlock' && typeof o.text === 'string') return void out.push(o.text);
    if (o.type === 'RichTextBlock' && Array.isArray(o.inlines)) return void out.push(o.inlines.map((r: { text?: unknown }) => (typeof r.text === 'string' ? r.text : '')).join(''));
    if (o.type === 'Image' || o.type?.toString().startsWith('Input.')) return;
    Object.entries(o).forEach(([key, value]) => key !== 'data' && key !== 'actions' && walk(value));
  };
  walk(card?.body);
  return out.join(' ');
}

/** The card's first text: its title. */
export const titleOf = (card: AdaptiveCard | undefined) => shownText({ type: 'AdaptiveCard', body: (card?.body ?? []).filter((e) => e.type !== 'Image').slice(0, 1) });

/** A card's button by its title. */
export function button(card: AdaptiveCard | undefined, title: string | RegExp): CardAction {
  const found = card?.actions?.find((a) => (typeof title === 'string' ? a.title === title : title.test(a.title)));
  if (!found) throw new Error(`no button ${String(title)} on a card with ${JSON.stringify(card?.actions?.map((a) => a.title))}`);
  return found;
}

/** The replies (new messages) among the calls, in order. */
export const messagesIn = (calls: readonly ConnectorCall[]) => calls.filter((c) => c.method === 'POST' && c.activity.type === 'message');
/** The message edits among the calls. */
export const editsIn = (calls: readonly ConnectorCall[]) => calls.filter((c) => c.method === 'PUT');

/** An invoke response body as Universal Actions define it. */
export interface InvokeResponse {
  statusCode: number;
  type: string;
  value: unknown;
}
