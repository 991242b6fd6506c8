/** Downloading Teams attachments: the bot token goes only to the conversation's service and Microsoft's hosts; sizes are bounded. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadTeamsPhoto } from '../../adapters/teams/teams-files.js';
import { ErrorCode } from '../../src/errors.js';

describe('downloadTeamsPhoto', () => {
  let server: http.Server;
  let base: string;
  const seen: Array<string | undefined> = [];
  const body = Buffer.alloc(5000, 7);

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'image/png' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const options = (serviceUrl: string, maxBytes = 1 << 20) => ({ serviceUrl, maxBytes, token: async () => 'bot-token' });

  it("sends the token with an inline picture on the conversation's service", async () => {
    const bytes = await downloadTeamsPhoto({ name: 'a.png', url: `${base}/v3/attachments/1`, withToken: true }, options(base));
    expect(Buffer.from(bytes)).toEqual(body);
    expect(seen.at(-1)).toBe('Bearer bot-token');
  });

  it('never sends the token elsewhere, and sends none with a pre-authenticated file link', async () => {
    const before = seen.length;
    await expect(downloadTeamsPhoto({ name: 'a.png', url: `${base}/x.png`, withToken: true }, options('https://smba.trafficmanager.net/emea/'))).rejects.toMatchObject({ code: ErrorCode.UsageInvalid });
    expect(seen.length).toBe(before);
    await downloadTeamsPhoto({ name: 'b.png', url: `${base}/files/b.png`, withToken: false }, options('https://smba.trafficmanager.net/emea/'));
    expect(seen.at(-1)).toBeUndefined();
  });

  it('refuses a download past the size limit, and addresses that are not http(s)', async () => {
    await expect(downloadTeamsPhoto({ name: 'big.png', url: `${base}/big`, withToken: false }, options(base, 1000))).rejects.toMatchObject({ code: ErrorCode.ImageTooLarge });
    await expect(downloadTeamsPhoto({ name: 'f', url: 'file:///etc/passwd', withToken: false }, options(base))).rejects.toMatchObject({ code: ErrorCode.UsageInvalid });
  });
});
