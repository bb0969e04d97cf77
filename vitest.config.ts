import { defineConfig } from 'vitest/config';

// forks, not threads: raw-socket receives nothing inside worker threads (LAB-MECHANICS.md).
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/fast-check.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
