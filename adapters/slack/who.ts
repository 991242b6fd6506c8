/**
 * Who asks, and from where, read from Slack's payloads. Two workspaces matter and they can differ:
 * the one the request was delivered for (the app's installation: its files and uploads live
 * there), and the asker's own (its grants decide what they may search). In a Slack Connect channel
 * a guest from another organisation is answered from their own workspace's grants, never the
 * host's, unless a grant names their workspace.
 */
import type { ChatScope, ChatUser } from '../../src/chat/message.js';

export interface Where {
  /** The workspace the request came through (the app's installation): images and files are per this one. */
  team: string;
  /** The asker's own workspace: what they may see. Equal to `team` outside Slack Connect. */
  workspace: string;
  channel: string;
  /** Thread to answer in (a DM message outside a thread is answered in place). */
  thread?: string;
  user: ChatUser;
}

export const slackUser = (u: { id: string; name?: string; username?: string }): ChatUser => ({ platform: 'slack', id: u.id, ...(u.name || u.username ? { name: (u.name || u.username)! } : {}) });

export const scopeOf = (where: Where): ChatScope => ({ platform: 'slack', workspace: where.workspace, channel: where.channel });

const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

/**
 * The author's workspace of an event: `user_team` (set on messages and mentions, Slack Connect
 * included), else the author's profile team, else the workspace the event was delivered for.
 */
export function eventWhere(body: { team_id?: unknown }, event: Record<string, unknown>, thread: string | undefined): Where {
  const team = str(body.team_id) ?? '';
  const profile = event.user_profile as { team?: unknown } | undefined;
  const workspace = str(event.user_team) ?? str(profile?.team) ?? team;
  return { team, workspace, channel: str(event.channel) ?? '', ...(thread ? { thread } : {}), user: slackUser({ id: str(event.user) ?? '' }) };
}

/** Interactions (buttons, shortcuts, dialogs) carry the presser's own workspace as `user.team_id`. */
export function interactionWhere(
  body: { team?: { id?: string } | null; user: { id: string; name?: string; username?: string; team_id?: string } },
  channel: string,
  thread?: string,
): Where {
  const team = body.team?.id || body.user.team_id || '';
  return { team, workspace: body.user.team_id || team, channel, ...(thread ? { thread } : {}), user: slackUser(body.user) };
}

/** A slash command runs only where the app is installed, for someone of that workspace: its `team_id`. */
export function commandWhere(command: { team_id: string; channel_id: string; user_id: string; user_name?: string }): Where {
  return { team: command.team_id, workspace: command.team_id, channel: command.channel_id, user: slackUser({ id: command.user_id, ...(command.user_name ? { name: command.user_name } : {}) }) };
}
