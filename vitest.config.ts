import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Kept apart from vite.config.ts, whose `root: 'web'` would otherwise hide the server tests.
// Two projects: everything runs in Node as before, except the page's rune classes (`*.svelte.test.ts`), which
// need the Svelte compiler and Svelte's browser build (on the server build, $effect never runs and $derived
// does not track).
const RUNE_TESTS = 'web/**/*.svelte.test.ts';

export default defineConfig({
  test: {
    environment: 'node',
    pool: 'forks',
    // zeromq sockets bind real ports and ipc paths: files run one at a time so timings stay honest
    fileParallelism: false,
    // Every run is recorded; in tests nothing may land in the user's data folder (server/recorder/store/paths.ts).
    env: { PLAYGROUND_DB: ':memory:' },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['server/**/*.test.ts', 'shared/**/*.test.ts', 'web/**/*.test.ts', 'e2e/**/*.test.ts'],
          exclude: [RUNE_TESTS],
          globalSetup: ['test/global-setup.ts'],
        },
      },
      {
        extends: true,
        plugins: [svelte({ configFile: false })],
        resolve: { conditions: ['browser'] },
        test: { name: 'runes', include: [RUNE_TESTS] },
      },
    ],
  },
});
