import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Native addons (sqlite, hnswlib, onnxruntime, sharp) are safest in forked processes.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // In every worker: any lookup or connection beyond loopback, and any temp folder left behind, fails the test.
    setupFiles: ['test/support/network-guard.setup.ts'],
  },
});
