import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs nothing running; `integration` talks to real Kafka, Redis and MariaDB
// (started by scripts/services.sh, which `npm test` runs first).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'bench/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Integration suites share real brokers and databases: one file at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
