import { defineConfig } from 'vitest/config';

// Tests that train for minutes: a stage of their own (`npm test` runs it after the unit tests) so that nothing
// else shares the machine's cores with them.
export default defineConfig({
  test: {
    include: ['src-main/**/*.learn.test.ts'],
    environment: 'node',
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 30 * 60_000,
  },
});
