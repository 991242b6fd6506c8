/**
 * Links to card images that a chat platform's servers fetch from this server (REFERENT_PUBLIC_URL).
 * With a web token configured, every other request needs the token; a thumbnail link carries an
 * HMAC of its content hash and of the time it was made instead, so it opens that one thumbnail, and
 * only for REFERENT_LINK_TTL_SECONDS.
 *
 * The link names when it was made, not when it expires: the server that checks it decides how long
 * links live (its own setting, changed without re-minting), and the adapters that mint links need
 * no setting. The value is one query parameter of hex digits, the time (unix seconds, 8 digits)
 * then the HMAC, so a link copied from a card still has everything it needs.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** A link made this far in the future (clock steps between processes) is still taken; later ones are not. */
const CLOCK_SKEW_SECONDS = 300;

const mac = (secret: string, mediaKey: string, madeAt: number) => createHmac('sha256', secret).update(`media:${mediaKey}:${madeAt}`).digest('hex').slice(0, 32);

/** The `sig` value of a thumbnail link made at `now` (milliseconds, for tests). */
export function mediaSignature(secret: string, mediaKey: string, now: number = Date.now()): string {
  const madeAt = Math.floor(now / 1000);
  return `${madeAt.toString(16).padStart(8, '0')}${mac(secret, mediaKey, madeAt)}`;
}

/**
 * What `sig` is worth for the thumbnail of `mediaKey`: `valid` when made with `secret`, for that key,
 * at most `ttlSeconds` ago; `expired` when authentic but older (the server says so rather than ask
 * for a token); `invalid` for anything else, a signature for another key included.
 */
export function checkMediaSignature(sig: string | null | undefined, secret: string, mediaKey: string, ttlSeconds: number, now: number = Date.now()): 'valid' | 'expired' | 'invalid' {
  const match = /^([0-9a-f]{8})([0-9a-f]{32})$/.exec(sig ?? '');
  if (!match) return 'invalid';
  const madeAt = parseInt(match[1]!, 16);
  if (!timingSafeEqual(Buffer.from(match[2]!), Buffer.from(mac(secret, mediaKey, madeAt)))) return 'invalid';
  const age = Math.floor(now / 1000) - madeAt;
  // Nothing here makes links for later: one from the future is not this server's.
  if (age < -CLOCK_SKEW_SECONDS) return 'invalid';
  return age > ttlSeconds ? 'expired' : 'valid';
}

/** The public thumbnail link: signed when the server needs a token, plain when it needs none. */
export function publicThumbnailUrl(publicUrl: string, mediaKey: string, secret: string | undefined): string {
  return `${publicUrl}/media/${mediaKey}/thumbnail${secret ? `?sig=${mediaSignature(secret, mediaKey)}` : ''}`;
}
