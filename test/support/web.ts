/** The HTTP server with the web chat on 127.0.0.1 and an ephemeral port, for tests. */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { assistantFor } from '../../adapters/serve.js';
import { createHttpServer } from '../../adapters/web/http-server.js';
import type { Config } from '../../src/config.js';
import type { Referent } from '../../src/open.js';

export interface TestServer {
  server: http.Server;
  base: string;
  close(): Promise<void>;
}

export async function startServer(referent: Referent, config: Config): Promise<TestServer> {
  const server = createHttpServer(referent, config, { assistant: assistantFor(referent, config, () => {}), log: () => {} });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
