import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'devices/**/*.test.ts', 'firmware-sim/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real servers; two cores are the target, so keep workers few.
    maxWorkers: 2,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-output/vitest.json' },
    // In-process parts (simulators, spool) log only warnings during tests; gateway child
    // processes set their own level.
    env: { VIGIL_LOG_LEVEL: process.env.VIGIL_LOG_LEVEL ?? 'warn' },
  },
});
