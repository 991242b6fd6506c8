/**
 * A fake of the Bot Framework's sign-in metadata on 127.0.0.1: the OpenID configuration and the
 * signing keys (JWKS) that botbuilder fetches from login.botframework.com before it checks the
 * signature of a well-formed bearer token. Pass `auth` to createTeamsAdapter so such tokens are
 * judged here, offline, instead of costing a lookup of Microsoft's host (which the network guard
 * refuses). It publishes one RSA key of its own, so a token signed by any other key gets 401.
 */
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TeamsAdapterOptions } from '../../adapters/teams/teams-adapter.js';

export const FAKE_KEY_ID = 'fake-openid-key';
const CHANNEL_CONFIG = '/v1/.well-known/openidconfiguration';
const EMULATOR_CONFIG = '/v2.0/.well-known/openid-configuration';
export const KEYS_PATH = '/keys';

export interface FakeOpenId {
  base: string;
  /**
   * botbuilder settings reading keys here. Naming any one of them makes botbuilder take all of
   * them from the settings, so the public cloud's issuer and scope are repeated, and every URL
   * it could call (the outbound login too) points here.
   */
  auth: NonNullable<TeamsAdapterOptions['auth']>;
  /** Paths requested, in order. */
  requests: string[];
  close(): Promise<void>;
}

export async function startFakeOpenId(): Promise<FakeOpenId> {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: FAKE_KEY_ID, use: 'sig', endorsements: ['msteams'] };
  const requests: string[] = [];
  let base = '';
  const server = http.createServer((req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(pathname);
    const json = (body: unknown) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method !== 'GET') return void res.writeHead(405).end();
    if (pathname === CHANNEL_CONFIG || pathname === EMULATOR_CONFIG) return json({ issuer: 'https://api.botframework.com', jwks_uri: `${base}${KEYS_PATH}`, id_token_signing_alg_values_supported: ['RS256'] });
    if (pathname === KEYS_PATH) return json({ keys: [jwk] });
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    auth: {
      ToBotFromChannelOpenIdMetadataUrl: `${base}${CHANNEL_CONFIG}`,
      ToBotFromEmulatorOpenIdMetadataUrl: `${base}${EMULATOR_CONFIG}`,
      ToBotFromChannelTokenIssuer: 'https://api.botframework.com',
      ToChannelFromBotOAuthScope: 'https://api.botframework.com',
      ToChannelFromBotLoginUrl: `${base}/botframework.com`,
      OAuthUrl: base,
      CallerId: 'urn:botframework:azure',
    },
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
