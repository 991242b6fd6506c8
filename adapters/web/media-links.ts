/**
 * Links to card images that a chat platform's servers fetch from this server (REFERENT_PUBLIC_URL).
 * With a web token configured, every other request needs the token; a thumbnail link carries an
 * HMAC of its content hash instead, so it opens that one thumbnail and nothing else.
 */
import { createHmac } from 'node:crypto';

export function mediaSignature(secret: string, mediaKey: string): string {
  return createHmac('sha256', secret).update(`media:${mediaKey}`).digest('hex').slice(0, 32);
}

/** The public thumbnail link: signed when the server needs a token, plain when it needs none. */
export function publicThumbnailUrl(publicUrl: string, mediaKey: string, secret: string | undefined): string {
  return `${publicUrl}/media/${mediaKey}/thumbnail${secret ? `?sig=${mediaSignature(secret, mediaKey)}` : ''}`;
}
