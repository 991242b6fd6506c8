/**
 * Slack's inbound payloads, shaped as Slack's documentation shows them (docs.slack.dev: Events API
 * envelope and event types, interaction payloads, slash commands, view submissions, options
 * requests), with every field Slack sends and Referent may not read. One builder per kind; tests
 * override only what they check.
 */
import { TEAM } from '../support/slack-world.js';

let seq = 0;
const next = () => ++seq;
/** A message timestamp, as Slack writes them (unique per call). */
export const slackTs = () => `1710000${String(next()).padStart(3, '0')}.00${String(seq).padStart(4, '0')}`;

const team = (id = TEAM) => ({ id, domain: id === TEAM ? 'fake' : `ws-${id.toLowerCase()}` });
const userOf = (id: string, teamId = TEAM) => ({ id, username: id.slice(1).toLowerCase(), name: id.slice(1).toLowerCase(), team_id: teamId });

// ── Events API (HTTP body, or the payload of a Socket Mode `events_api` envelope) ──────────────

/** The event_callback envelope (https://docs.slack.dev/apis/events-api/#callback-field). */
export function eventCallback(event: Record<string, unknown>, options: { team?: string; shared?: boolean } = {}): Record<string, unknown> {
  const teamId = options.team ?? TEAM;
  return {
    token: 'XXYYZZ',
    team_id: teamId,
    context_team_id: teamId,
    context_enterprise_id: null,
    api_app_id: 'A0REFERENT',
    event,
    type: 'event_callback',
    event_id: `Ev${String(next()).padStart(8, '0')}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ enterprise_id: null, team_id: teamId, user_id: 'UBOT', is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: options.shared ?? false,
    event_context: `4-${next()}`,
  };
}

/** app_mention (https://docs.slack.dev/reference/events/app_mention). `userTeam`: a Slack Connect guest's own workspace. */
export function appMention(text: string, options: { user?: string; channel?: string; ts?: string; threadTs?: string; files?: unknown[]; userTeam?: string } = {}): Record<string, unknown> {
  const ts = options.ts ?? slackTs();
  const teamId = options.userTeam ?? TEAM;
  return {
    type: 'app_mention',
    client_msg_id: `c0ffee00-${next()}`,
    text: `<@UBOT> ${text}`,
    user: options.user ?? 'UALICE',
    ts,
    team: teamId,
    ...(options.userTeam ? { user_team: options.userTeam, source_team: options.userTeam } : {}),
    blocks: [{ type: 'rich_text', block_id: 'b1', elements: [{ type: 'rich_text_section', elements: [{ type: 'user', user_id: 'UBOT' }, { type: 'text', text: ` ${text}` }] }] }],
    channel: options.channel ?? 'CGENERAL',
    ...(options.threadTs ? { thread_ts: options.threadTs } : {}),
    ...(options.files ? { files: options.files, upload: false, display_as_bot: false } : {}),
    event_ts: ts,
  };
}

/** message.im with a photo attached (https://docs.slack.dev/reference/events/message/file_share). */
export function directMessage(text: string, options: { user?: string; channel?: string; files?: unknown[] } = {}): Record<string, unknown> {
  const ts = slackTs();
  return {
    type: 'message',
    ...(options.files ? { subtype: 'file_share', files: options.files, upload: true, display_as_bot: false } : {}),
    text,
    user: options.user ?? 'UALICE',
    ts,
    team: TEAM,
    channel: options.channel ?? 'DALICE',
    event_ts: ts,
    channel_type: 'im',
  };
}

/** url_verification (https://docs.slack.dev/reference/events/url_verification). */
export const urlVerification = (challenge: string) => ({ token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl', challenge, type: 'url_verification' });

/** app_rate_limited: no inner event (https://docs.slack.dev/reference/events/app_rate_limited). */
export const appRateLimited = () => ({ token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl', type: 'app_rate_limited', team_id: TEAM, minute_rate_limited: 1518467820, api_app_id: 'A0REFERENT' });

// ── Interactivity (HTTP: form field `payload` holding this JSON; Socket Mode: an `interactive` envelope) ──

/** block_actions on a message (https://docs.slack.dev/reference/interaction-payloads/block_actions-payload). An ephemeral message comes without `message`. */
export function blockActions(options: {
  actionId: string;
  value?: string;
  blockId?: string;
  user?: string;
  userTeam?: string;
  channel?: string;
  message?: { ts: string; thread_ts?: unknown; text?: unknown; blocks: unknown[] };
  ephemeralTs?: string;
  responseUrl: string;
  triggerId?: string;
}): Record<string, unknown> {
  const channel = options.channel ?? 'CGENERAL';
  const ts = options.message?.ts ?? options.ephemeralTs ?? slackTs();
  return {
    type: 'block_actions',
    user: userOf(options.user ?? 'UALICE', options.userTeam),
    api_app_id: 'A0REFERENT',
    token: 'Shh_its_a_seekrit',
    container: { type: 'message', message_ts: ts, channel_id: channel, is_ephemeral: !options.message },
    trigger_id: options.triggerId ?? `${next()}.123.abc`,
    team: team(),
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channel, name: channel.toLowerCase() },
    ...(options.message ? { message: { type: 'message', user: 'UBOT', bot_id: 'BBOT', app_id: 'A0REFERENT', team: TEAM, ...options.message } } : {}),
    state: { values: {} },
    response_url: options.responseUrl,
    actions: [{ action_id: options.actionId, block_id: options.blockId ?? 'b', text: { type: 'plain_text', text: 'Button', emoji: true }, value: options.value ?? 'v', type: 'button', action_ts: `${Date.now() / 1000}` }],
  };
}

/** A message shortcut (https://docs.slack.dev/reference/interaction-payloads/shortcuts-interaction-payload). */
export function messageShortcut(callbackId: string, options: { ts?: string; text?: string; files?: unknown[]; poster?: string; user?: string; responseUrl: string; triggerId?: string }): Record<string, unknown> {
  const ts = options.ts ?? slackTs();
  return {
    type: 'message_action',
    token: 'Shh_its_a_seekrit',
    action_ts: `${Date.now() / 1000}`,
    team: team(),
    user: userOf(options.user ?? 'UBOB'),
    channel: { id: 'CGENERAL', name: 'general' },
    is_enterprise_install: false,
    enterprise: null,
    callback_id: callbackId,
    trigger_id: options.triggerId ?? `${next()}.123.abc`,
    response_url: options.responseUrl,
    message_ts: ts,
    message: { type: 'message', user: options.poster ?? 'UBOB', ts, text: options.text ?? '', team: TEAM, ...(options.files ? { files: options.files } : {}) },
  };
}

/** A global shortcut (same reference): no channel, no response URL. */
export const globalShortcut = (callbackId: string) => ({
  type: 'shortcut',
  token: 'Shh_its_a_seekrit',
  action_ts: `${Date.now() / 1000}`,
  team: team(),
  user: userOf('UALICE'),
  is_enterprise_install: false,
  enterprise: null,
  callback_id: callbackId,
  trigger_id: `${next()}.123.abc`,
});

/** A slash command's form fields (https://docs.slack.dev/interactivity/implementing-slash-commands). */
export function slashCommand(command: string, text: string, options: { channel?: string; user?: string; team?: string; responseUrl: string }): Record<string, string> {
  const user = options.user ?? 'UALICE';
  return {
    token: 'gIkuvaNzQIHg97ATvDxqgjtO',
    team_id: options.team ?? TEAM,
    team_domain: team(options.team).domain,
    channel_id: options.channel ?? 'CGENERAL',
    channel_name: (options.channel ?? 'CGENERAL').toLowerCase(),
    user_id: user,
    user_name: user.slice(1).toLowerCase(),
    command,
    text,
    api_app_id: 'A0REFERENT',
    is_enterprise_install: 'false',
    response_url: options.responseUrl,
    trigger_id: `${next()}.123.abc`,
  };
}

/** The view object inside view_submission / view_closed / block_suggestion payloads (https://docs.slack.dev/reference/views). */
function viewOf(callbackId: string, values: Record<string, Record<string, { type: string; value: string | null }>>, privateMetadata: string) {
  return {
    id: `V${next()}`,
    team_id: TEAM,
    type: 'modal',
    blocks: [],
    private_metadata: privateMetadata,
    callback_id: callbackId,
    state: { values },
    hash: `${next()}.abc`,
    title: { type: 'plain_text', text: 'A dialog', emoji: true },
    clear_on_close: false,
    notify_on_close: true,
    close: null,
    submit: null,
    previous_view_id: null,
    root_view_id: 'V0ROOT',
    app_id: 'A0REFERENT',
    external_id: '',
    app_installed_team_id: TEAM,
    bot_id: 'BBOT',
  };
}

/** view_submission (https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload). `inputs`: block id → typed text. */
export function viewSubmission(callbackId: string, inputs: Record<string, string | null>, privateMetadata = '', options: { user?: string; userTeam?: string } = {}): Record<string, unknown> {
  const values = Object.fromEntries(Object.entries(inputs).map(([block, value]) => [block, { value: { type: 'plain_text_input', value } }]));
  return {
    type: 'view_submission',
    team: team(),
    user: userOf(options.user ?? 'UBOB', options.userTeam),
    api_app_id: 'A0REFERENT',
    token: 'Shh_its_a_seekrit',
    trigger_id: `${next()}.123.abc`,
    view: viewOf(callbackId, values, privateMetadata),
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

/** view_closed (same reference): sent only for views with notify_on_close. */
export const viewClosed = (callbackId: string) => ({ type: 'view_closed', team: team(), user: userOf('UBOB'), api_app_id: 'A0REFERENT', token: 'Shh_its_a_seekrit', view: viewOf(callbackId, {}, ''), is_cleared: false, is_enterprise_install: false, enterprise: null });

/** block_suggestion: an external select asking for options (https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element#external_select). */
export const blockSuggestion = (actionId: string, value: string) => ({
  type: 'block_suggestion',
  user: userOf('UALICE'),
  container: { type: 'view', view_id: 'V0ROOT' },
  api_app_id: 'A0REFERENT',
  token: 'Shh_its_a_seekrit',
  action_id: actionId,
  block_id: 'pick',
  value,
  team: team(),
  enterprise: null,
  is_enterprise_install: false,
  view: viewOf('someone_elses_dialog', {}, ''),
});

/** A Slack file as an event carries it (https://docs.slack.dev/reference/objects/file-object). */
export const fileObject = (file: { id: string; name: string; mimetype: string; filetype: string; size: number; url_private: string; url_private_download: string }) => ({
  ...file,
  created: 1710000000,
  timestamp: 1710000000,
  title: file.name,
  pretty_type: file.filetype.toUpperCase(),
  user: 'UALICE',
  user_team: TEAM,
  editable: false,
  mode: 'hosted',
  is_external: false,
  external_type: '',
  is_public: false,
  public_url_shared: false,
  display_as_bot: false,
  username: '',
  permalink: `https://fake.slack.com/files/UALICE/${file.id}/${file.name}`,
  is_starred: false,
  has_rich_preview: false,
  file_access: 'visible',
});
