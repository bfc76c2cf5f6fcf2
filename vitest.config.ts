import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // chdb (embedded ClickHouse) crashes under worker threads; forks give each test file its own process and data folder.
    pool: 'forks',
    // Files share one Kafka; a file that stops the broker must not run beside another that needs it.
    fileParallelism: false,
    globalSetup: ['test/global-setup.ts'],
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.data/**'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
