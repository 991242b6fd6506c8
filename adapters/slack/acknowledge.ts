/**
 * Every Slack request is acknowledged within Slack's 3 seconds, whatever its kind. Bolt acks only
 * what a listener acks (events excepted): a shortcut with another callback id, another slash
 * command, a dialog or button of another app or version, an options request, would wait for
 * Bolt's timeout (HTTP 404 after 3 s; over Socket Mode, never), and Slack shows the person an
 * error. Bodies Bolt cannot route at all (`app_rate_limited`, which has no inner event) are dropped
 * unacknowledged, and over Socket Mode such an envelope even throws inside the client.
 * Here: what Referent does not handle is acknowledged (empty) and ignored, with one log line.
 */
import { App, type AppOptions, type ReceiverEvent } from '@slack/bolt';

type Log = (line: string) => void;
type Body = Record<string, unknown> | undefined;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v.slice(0, 80)) : '(none)');

/** Mirrors Bolt's own routing (helpers.getTypeAndConversation), but only for well-formed bodies. */
function routable(body: Body): boolean {
  if (!isObject(body)) return false;
  if (body.event !== undefined) return isObject(body.event) && typeof body.event.type === 'string';
  if (body.command !== undefined) return typeof body.command === 'string';
  if (body.actions !== undefined) return Array.isArray(body.actions) && body.actions.every(isObject);
  if (body.type === 'view_submission' || body.type === 'view_closed') return isObject(body.view);
  return body.type === 'block_suggestion' || body.name !== undefined || body.type === 'dialog_submission' || body.type === 'shortcut' || body.type === 'message_action';
}

/** One line naming a request: its kind and the id a listener would have matched on. */
export function describeRequest(body: Body): string {
  if (!isObject(body)) return 'a request without a body';
  const event = isObject(body.event) ? body.event : undefined;
  if (event) return `event ${str(event.type)}${event.subtype ? ` (${str(event.subtype)})` : ''}`;
  if (body.command !== undefined) return `slash command ${str(body.command)}`;
  const type = typeof body.type === 'string' ? body.type : undefined;
  if (type === 'app_rate_limited') return `app_rate_limited: Slack is dropping this app's events for workspace ${str(body.team_id)} since minute ${String(body.minute_rate_limited ?? '?')}`;
  if (type === 'shortcut' || type === 'message_action') return `${type} with callback_id ${str(body.callback_id)}`;
  if ((type === 'view_submission' || type === 'view_closed') && isObject(body.view)) return `${type} with callback_id ${str(body.view.callback_id)}`;
  if (Array.isArray(body.actions)) return `${type ?? 'action'} with action_id ${str(isObject(body.actions[0]) ? body.actions[0].action_id : undefined)}`;
  if (type === 'block_suggestion') return `block_suggestion with action_id ${str(body.action_id)}`;
  return `request of type ${str(type)}`;
}

/** A Bolt app that acknowledges whatever no listener acknowledged. */
export class AcknowledgingApp extends App {
  private readonly logLine: Log;

  constructor(options: AppOptions, log: Log) {
    super(options);
    this.logLine = log;
  }

  override async processEvent(event: ReceiverEvent): Promise<void> {
    const body = event.body as Body;
    if (!routable(body)) {
      this.logLine(`slack: acknowledged and ignored ${describeRequest(body)}`);
      return event.ack();
    }
    let acked = false;
    const ack = (response?: unknown) => {
      acked = true;
      return event.ack(response);
    };
    try {
      // Bolt awaits every matching listener: the check below runs once they are done (ours ack first, then work).
      await super.processEvent({ ...event, ack });
    } catch (err) {
      this.logLine(`slack: could not process ${describeRequest(body)}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!acked) {
      this.logLine(`slack: acknowledged and ignored ${describeRequest(body)}`);
      await ack().catch(() => {});
    }
  }
}

/** The parts of the Socket Mode client used here (an EventEmitter; `ws_message` carries each frame). */
interface SocketClient {
  listeners(event: string): Array<(...args: unknown[]) => unknown>;
  removeAllListeners(event: string): unknown;
  on(event: string, fn: (...args: unknown[]) => unknown): unknown;
}

/**
 * The Socket Mode client reads `payload.event.type` of every `events_api` envelope, and throws on
 * one without an inner event (`app_rate_limited` has none), leaving it unacknowledged. Such an
 * envelope is handed on under another type, so it reaches AcknowledgingApp as an unroutable body
 * and is acknowledged there, through the client's own ack.
 */
export function guardSocketEnvelopes(client: SocketClient): void {
  const originals = client.listeners('ws_message');
  if (originals.length === 0) return;
  client.removeAllListeners('ws_message');
  client.on('ws_message', (data: unknown, isBinary: unknown) => {
    const frame = typeof data === 'string' ? withoutBadEvent(data) : data;
    return Promise.all(originals.map((fn) => fn(frame, isBinary)));
  });
}

function withoutBadEvent(frame: string): string {
  let envelope: unknown;
  try {
    envelope = JSON.parse(frame);
  } catch {
    return frame;
  }
  if (!isObject(envelope) || envelope.type !== 'events_api' || typeof envelope.envelope_id !== 'string') return frame;
  const payload = envelope.payload;
  if (isObject(payload) && isObject(payload.event) && typeof payload.event.type === 'string') return frame;
  return JSON.stringify({ ...envelope, type: 'events_api_without_event' });
}
