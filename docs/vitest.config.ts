import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // test/: the examples run as programs, the docs quote them; examples/**: the custom store's
    // conformance suite (docs/guides/custom-store.md shows that file)
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-report.json' },
    maxWorkers: 2,
    // the example programs mostly wait (on timers, the database): run many at once
    maxConcurrency: 12,
    testTimeout: 60_000,
  },
})
