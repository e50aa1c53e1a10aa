import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'devices/**/*.test.ts', 'firmware-sim/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real servers; two cores are the target, so keep workers few.
    maxWorkers: 2,
  },
});
