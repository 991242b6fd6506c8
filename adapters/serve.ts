/**
 * Starting Referent as a service: open the data folder (pulling the model on first start when the
 * network allows), bind the HTTP server, and shut down cleanly on SIGINT/SIGTERM.
 */
import type { Config } from '../src/config.js';
import { openReferent } from '../src/open.js';
import { describeOpen } from './cli/report.js';
import { createProgressBar } from './cli/progress-bar.js';
import { createHttpServer } from './web/http-server.js';

export async function serve(config: Config): Promise<void> {
  const referent = await openReferent(config, { progress: createProgressBar() });
  describeOpen(referent);
  const server = createHttpServer(referent, config);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  process.stdout.write(
    `Referent is running on http://${config.host}:${port} (data: ${config.dataDir}, model: ${referent.encoder.displayName}, ${referent.catalog.countItems()} images)\n` +
      `Try: curl 'http://${config.host}:${port}/api/search?q=red'\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  process.stdout.write('Shutting down…\n');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await referent.shutdown();
}
