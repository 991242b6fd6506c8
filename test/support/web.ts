/** The HTTP server with the web chat on 127.0.0.1 and an ephemeral port, for tests. */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { assistantFor } from '../../adapters/serve.js';
import type { Assistant } from '../../src/chat/assistant.js';
import { createHttpServer, type Mount } from '../../adapters/web/http-server.js';
import type { Config } from '../../src/config.js';
import type { Referent } from '../../src/open.js';

export interface TestServer {
  server: http.Server;
  base: string;
  close(): Promise<void>;
}

/** `mounts` (Slack, Teams) and `assistant` and `log` as the test wants them; by default a quiet assistant. */
export async function startServer(referent: Referent, config: Config, options: { assistant?: Assistant; mounts?: Mount[]; log?: (line: string) => void } = {}): Promise<TestServer> {
  const log = options.log ?? (() => {});
  const server = createHttpServer(referent, config, { assistant: options.assistant ?? assistantFor(referent, config, log), log, mounts: options.mounts ?? [] });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
