import { defineConfig } from 'vitest/config';

// Kept apart from vite.config.ts, whose `root: 'web'` would otherwise hide the server tests.
export default defineConfig({
  test: {
    include: ['server/**/*.test.ts', 'shared/**/*.test.ts', 'web/**/*.test.ts', 'e2e/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    // zeromq sockets bind real ports and ipc paths: files run one at a time so timings stay honest
    fileParallelism: false,
    globalSetup: ['test/global-setup.ts'],
    // Every run is recorded; in tests nothing may land in the user's data folder (server/recorder/store.ts).
    env: { PLAYGROUND_DB: ':memory:' },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
