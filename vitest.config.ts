import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: run files in parallel on both, but no more, and keep the wasm backend
    // on one thread per file so they do not fight (test/model/threads.test.ts checks 2).
    maxWorkers: 2,
    env: { WARMUP_WASM_THREADS: '1' },
  },
});
