/**
 * Slack's text objects, and Slack's message format read back as words. Pure functions.
 *
 * Escaping rule: every string that came from a person (queries, labels, captions, names) goes
 * into `plain_text` objects, which Slack never parses, or through `escapeMrkdwn` where only
 * mrkdwn is allowed (the notification text). Our own fixed words may use mrkdwn.
 */

export type Block = Record<string, unknown> & { type: string; block_id?: string };

export const clip = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

/**
 * Makes text safe inside mrkdwn: `&`, `<` and `>` are Slack's control characters (they form
 * `<!channel>`, `<@U…>` and `<url|label>`), and a bare @channel/@here/@everyone gets a zero-width
 * space so no client setting can turn it into a ping.
 */
export function escapeMrkdwn(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/@(channel|here|everyone)\b/gi, '@\u200b$1');
}

/**
 * Slack's message text as the words a person typed: the bot's own mention removed, other
 * mentions, channels and links as their visible labels, and Slack's three entities decoded.
 */
export function plainFromSlack(text: string, botUserId?: string): string {
  return text
    .replace(/<@([UW][A-Z0-9]+)(?:\|([^>]*))?>/g, (_m, id: string, name?: string) => (id === botUserId ? '' : `@${name || id}`))
    .replace(/<#([CG][A-Z0-9]+)(?:\|([^>]*))?>/g, (_m, id: string, name?: string) => `#${name || id}`)
    .replace(/<!([^>|]*)(?:\|([^>]*))?>/g, (_m, word: string, label?: string) => label || `@${word.replace(/\^.*$/, '')}`)
    .replace(/<([^>|]+)(?:\|([^>]*))?>/g, (_m, url: string, label?: string) => label || url.replace(/^mailto:/, ''))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Escaped mrkdwn within `max` characters: a cut never splits an entity, which would leave a bare `&`. */
export const clipMrkdwn = (text: string, max: number) => {
  const escaped = escapeMrkdwn(text);
  return escaped.length <= max ? escaped : `${escaped.slice(0, max - 1).replace(/&[a-z]*$/, '')}…`;
};
/** Slack refuses an empty text object. */
export const mrkdwn = (text: string, max: number) => ({ type: 'mrkdwn', text: clipMrkdwn(text, max) || ' ' });
export const plain = (text: string, max: number) => ({ type: 'plain_text', text: clip(text || ' ', max), emoji: false });

/** A user id Slack would render as a mention; anything else is never put inside `<@…>`. */
export const isSlackUserId = (id: string) => /^[UW][A-Z0-9]{1,20}$/.test(id);
/** `<@U…>` for a real user id, else the id as escaped text (a forged id must not become markup). */
export const mention = (id: string) => (isSlackUserId(id) ? `<@${id}>` : escapeMrkdwn(id));
