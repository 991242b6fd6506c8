/**
 * Inbound activities shaped as Microsoft Teams sends them to a bot (Bot Framework v3 activities,
 * from Teams' developer documentation: "Messages in bot conversations", "Conversation events",
 * "Universal Actions for Adaptive Cards", "Receive files"): channel mentions with the mention
 * entity and the message's own HTML attachment, personal and group chats, pasted pictures
 * (contentType `image/*` on the Bot Framework service), the bot added to a team, reactions,
 * installs, typing, `adaptiveCard/action` invokes (Action.Execute) and, from clients without
 * Universal Actions, Action.Submit messages. Only serviceUrl points somewhere else: the fake
 * connector on 127.0.0.1.
 */

export const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const TEAM = '19:team-general@thread.tacv2';
export const CHANNEL = '19:parts-desk@thread.tacv2';
export const BOT = { id: '28:9f1b2c3d-referent-bot', name: 'Referent' };

export interface TeamsUser {
  /** Teams' own user id (29:…). */
  id: string;
  name: string;
  /** The Azure AD object id: what REFERENT_ADMINS names (teams:<aadObjectId>). */
  aadObjectId: string;
}

export const ALICE: TeamsUser = { id: '29:1alice-teams-id', name: 'Alice Martin', aadObjectId: '0d6a1c2e-aaaa-4e6b-9a1e-000000000001' };
export const BOB: TeamsUser = { id: '29:1bob-teams-id', name: 'Bob Osei', aadObjectId: '0d6a1c2e-bbbb-4e6b-9a1e-000000000002' };
export const ADMIN: TeamsUser = { id: '29:1admin-teams-id', name: 'Ada Admin', aadObjectId: '0d6a1c2e-cccc-4e6b-9a1e-000000000003' };

/** Where a conversation happens. A channel thread's id names its root message. */
export type Where = { kind: 'channel'; root: string } | { kind: 'personal'; user: TeamsUser } | { kind: 'groupChat'; id: string };

export const inChannel = (root = '1700000000001'): Where => ({ kind: 'channel', root });
export const personal = (user: TeamsUser): Where => ({ kind: 'personal', user });

export interface Attachment {
  contentType: string;
  contentUrl?: string;
  content?: unknown;
  name?: string;
}

let seq = 0;
/** Teams' message ids are millisecond timestamps; event activities' ids start with "f:". */
const messageId = () => String(1_700_000_100_000 + ++seq);
const eventId = () => `f:${(++seq).toString(16).padStart(8, '0')}-4b6e-9a1e-teams`;

export class TeamsPayloads {
  constructor(private readonly serviceUrl: string) {}

  /** The fields every Teams activity has, for a user in a place. */
  private base(type: string, where: Where, from: TeamsUser, id: string): Record<string, unknown> {
    const tenant = { id: TENANT };
    const conversation =
      where.kind === 'channel'
        ? { isGroup: true, conversationType: 'channel', tenantId: TENANT, id: `${CHANNEL};messageid=${where.root}` }
        : where.kind === 'personal'
          ? { conversationType: 'personal', tenantId: TENANT, id: `a:1personal-${where.user.aadObjectId}` }
          : { isGroup: true, conversationType: 'groupChat', tenantId: TENANT, id: where.id };
    const channelData = where.kind === 'channel' ? { teamsChannelId: CHANNEL, teamsTeamId: TEAM, channel: { id: CHANNEL }, team: { id: TEAM }, tenant } : { tenant };
    return {
      type,
      id,
      timestamp: new Date().toISOString(),
      localTimestamp: new Date().toISOString(),
      serviceUrl: this.serviceUrl,
      channelId: 'msteams',
      from: { ...from },
      conversation,
      recipient: { ...BOT },
      entities: [{ type: 'clientInfo', locale: 'en-US', country: 'US', platform: 'Web', timezone: 'Europe/London' }],
      channelData,
      locale: 'en-US',
    };
  }

  /**
   * A message. In a channel or group chat it @mentions the bot (Teams delivers nothing else to a
   * bot there): `<at>` in the text, a mention entity, and the HTML Teams attaches to every message.
   */
  message(text: string, options: { where?: Where; from?: TeamsUser; attachments?: Attachment[] } = {}): Record<string, unknown> {
    const where = options.where ?? inChannel();
    const activity = this.base('message', where, options.from ?? ALICE, messageId());
    const mentioned = where.kind !== 'personal';
    const at = `<at>${BOT.name}</at>`;
    const entities = activity.entities as unknown[];
    if (mentioned) entities.unshift({ type: 'mention', text: at, mentioned: { ...BOT } });
    const html = `<div>${mentioned ? `<span itemscope="" itemtype="http://schema.skype.com/Mention" itemid="0">${BOT.name}</span> ` : ''}${escapeHtml(text)}</div>`;
    return { ...activity, textFormat: 'plain', text: mentioned ? `${at} ${text}` : text, attachments: [...(options.attachments ?? []), { contentType: 'text/html', content: html }] };
  }

  /** A picture pasted into a message: `image/*` with its address on the Bot Framework service (fetched with the bot's token). */
  static pastedPicture(contentUrl: string): Attachment {
    return { contentType: 'image/*', contentUrl };
  }

  /** The bot added to a team (or a chat): conversationUpdate naming it among the members added. */
  botAdded(from: TeamsUser = ALICE): Record<string, unknown> {
    const activity = this.base('conversationUpdate', { kind: 'channel', root: '' }, from, eventId());
    const conversation = { isGroup: true, conversationType: 'channel', tenantId: TENANT, id: TEAM };
    return { ...activity, conversation, membersAdded: [{ id: BOT.id }], channelData: { team: { id: TEAM, name: 'Maintenance', aadGroupId: 'b1c2d3e4-0000-4000-8000-team' }, eventType: 'teamMemberAdded', tenant: { id: TENANT } } };
  }

  /** An app installed in (or removed from) a scope. Teams also sends conversationUpdate for the bot: the help card goes there. */
  installationUpdate(action: 'add' | 'remove', where: Where = inChannel()): Record<string, unknown> {
    return { ...this.base('installationUpdate', where, ALICE, eventId()), action };
  }

  /** A reaction to one of the bot's messages. */
  reaction(replyToId: string, type = 'like', where: Where = inChannel()): Record<string, unknown> {
    const activity = this.base('messageReaction', where, BOB, eventId());
    return { ...activity, replyToId, reactionsAdded: [{ type }], channelData: { ...(activity.channelData as object), legacy: { replyToId } } };
  }

  typing(where: Where = personal(ALICE)): Record<string, unknown> {
    return this.base('typing', where, ALICE, messageId());
  }

  /**
   * An Action.Execute press: an `adaptiveCard/action` invoke whose replyToId is the message the
   * card is on; Teams merges the card's inputs into the action's data.
   */
  execute(data: unknown, replyToId: string, options: { where?: Where; from?: TeamsUser; verb?: string; title?: string } = {}): Record<string, unknown> {
    const activity = this.base('invoke', options.where ?? inChannel(), options.from ?? ALICE, eventId());
    const action = { type: 'Action.Execute', id: `action-${seq}`, title: options.title ?? 'button', verb: options.verb ?? 'referent', data };
    return { ...activity, name: 'adaptiveCard/action', replyToId, value: { action, trigger: 'manual' } };
  }

  /** An invoke of another name (a messaging-extension search, which Referent's manifest does not declare). */
  composeExtensionQuery(): Record<string, unknown> {
    const value = { commandId: 'searchQuery', parameters: [{ name: 'searchQuery', value: 'brass elbow' }], queryOptions: { skip: 0, count: 25 } };
    return { ...this.base('invoke', personal(ALICE), ALICE, eventId()), name: 'composeExtension/query', value };
  }

  /** An Action.Submit press (Teams clients without Universal Actions): a message with no text whose value is the data. */
  submit(data: unknown, replyToId: string, options: { where?: Where; from?: TeamsUser } = {}): Record<string, unknown> {
    const activity = this.base('message', options.where ?? inChannel(), options.from ?? ALICE, messageId());
    return { ...activity, replyToId, value: data, channelData: { ...(activity.channelData as object), legacy: { replyToId }, source: { name: 'message' } } };
  }
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
