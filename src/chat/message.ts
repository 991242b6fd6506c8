/**
 * A chat message as every platform delivers it, and what it asks for. Adapters strip their own
 * markup (mentions, formatting) before handing the text over; the parser below only reads words.
 */

export interface ChatUser {
  platform: string;
  /** The platform's id for the person (Slack "U123", a Teams AAD id, "local" on the web chat). */
  id: string;
  /** Display name, for "Confirmed by …". */
  name?: string;
}

/** Where a message was posted: a workspace/team and a channel (or conversation) in it. */
export interface ChatScope {
  platform: string;
  workspace: string;
  channel: string;
}

export interface ChatMessage {
  text: string;
  /** Attached photos, as bytes (untrusted: the media store checks them). */
  images: readonly Uint8Array[];
  user: ChatUser;
  scope: ChatScope;
}

export const userKey = (u: ChatUser) => `${u.platform}:${u.id}`;
export const scopeKey = (s: ChatScope) => `${s.platform}:${s.workspace}/${s.channel}`;

export type Command =
  | { kind: 'help' }
  | { kind: 'stats' }
  /** A description, a photo, or both (text may be empty when there are photos). */
  | { kind: 'find'; text: string }
  | { kind: 'add'; label: string; collection?: string; text: string }
  | { kind: 'describe'; label: string; text: string }
  | { kind: 'show'; label: string }
  | { kind: 'forget'; label: string }
  /** `faces`: the unknown face groups; `faces name <group> <label>` names one (src/faces/face-clusters.ts). */
  | { kind: 'faces' }
  | { kind: 'name-faces'; group: number; label: string }
  /** `who is this` with a photo: the labelled person whose face it is, or nobody (src/faces/face-match.ts). */
  | { kind: 'who' }
  | { kind: 'usage'; problem: string };

const unquote = (s: string) => s.trim().replace(/^(["'“”‘’])(.*)\1$/s, '$2').replace(/^["“](.*)["”]$/s, '$1').trim();

/**
 * Reads a message's text. Free text is a search; the explicit forms are `find …`, `add <label>
 * [in <collection>]: <description>`, `describe <label>: <text>`, `show <label>`, `forget <label>`,
 * `help` and `stats`. Keywords are case-insensitive; a label may be quoted.
 */
export function parseCommand(text: string, hasImages: boolean): Command {
  const trimmed = text.trim();
  const match = /^([A-Za-z]+)\b[\s:]*(.*)$/s.exec(trimmed);
  const word = match?.[1]?.toLowerCase();
  const rest = match?.[2]?.trim() ?? '';
  if (!trimmed) return hasImages ? { kind: 'find', text: '' } : { kind: 'help' };
  if ((word === 'help' || trimmed === '?') && rest === '') return { kind: 'help' };
  if (word === 'stats' && rest === '') return { kind: 'stats' };
  switch (word) {
    case 'find':
    case 'search':
      return rest || hasImages ? { kind: 'find', text: rest } : { kind: 'usage', problem: 'Say what to find: `find brass elbow, 1/2 inch`.' };
    case 'add': {
      const [head, ...tail] = rest.split(':');
      const body = tail.join(':').trim();
      // The label ends on a non-space: with `(.*?)` a long run of spaces made this quadratic.
      const inCollection = /^(.*?\S)\s+in\s+(\S.*)$/i.exec(head ?? '');
      const label = unquote(inCollection ? inCollection[1]! : (head ?? ''));
      if (!label) return { kind: 'usage', problem: 'Say what it is: `add P-20417: hex bolt M8, zinc` (with photos, or just a description).' };
      if (!body && !hasImages) return { kind: 'usage', problem: `Attach a photo of ${label}, or describe it: \`add ${label}: …\`.` };
      const collection = inCollection ? unquote(inCollection[2]!) : undefined;
      if (collection === '') return { kind: 'usage', problem: `Name the collection: \`add ${label} in parts: …\`.` };
      return { kind: 'add', label, text: body, ...(collection !== undefined ? { collection } : {}) };
    }
    case 'describe': {
      const colon = rest.indexOf(':');
      const label = unquote(colon < 0 ? '' : rest.slice(0, colon));
      const body = colon < 0 ? '' : rest.slice(colon + 1).trim();
      if (!label || !body) return { kind: 'usage', problem: 'Usage: `describe <label>: <what it looks like>`.' };
      return { kind: 'describe', label, text: body };
    }
    case 'show':
    case 'forget': {
      // "show me the red ones" is a search, not an entity called "me the red ones".
      if (word === 'show' && /^me\b/i.test(rest)) return { kind: 'find', text: trimmed };
      const label = unquote(rest);
      if (!label) return { kind: 'usage', problem: `Usage: \`${word} <label>\`.` };
      return { kind: word, label };
    }
    case 'faces': {
      if (rest === '') return { kind: 'faces' };
      // "faces at the party" is a search; only `faces name …` is the command.
      if (!/^name\b/i.test(rest)) return { kind: 'find', text: trimmed };
      const naming = /^name\s+#?(\d{1,15})\s+(.+)$/is.exec(rest);
      const label = naming ? unquote(naming[2]!) : '';
      if (naming && label && !/[:\r\n]/.test(label)) return { kind: 'name-faces', group: Number(naming[1]), label };
      return { kind: 'usage', problem: 'Usage: `faces` lists the faces nobody has named; `faces name <group> <label>` names one group.' };
    }
    case 'who':
      // "who is this?", "who's that", "who?": with a photo it asks for the person; other "who …" is a search.
      if (!/^(?:(?:is|'s|’s)\s*(?:this|that|it|he|she)?)?\s*\??$/i.test(rest)) return { kind: 'find', text: trimmed };
      return hasImages ? { kind: 'who' } : { kind: 'usage', problem: 'Attach a photo of the person and ask `who is this?`.' };
    default:
      return { kind: 'find', text: trimmed };
  }
}
