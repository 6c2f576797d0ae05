import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests import sibling packages from source through the "@catmesh/source" export condition,
// so `vitest` needs no build; the e2e tests that spawn processes run the built dist/.
export default defineConfig({
  resolve: { conditions: ['@catmesh/source'] },
  ssr: { resolve: { conditions: ['@catmesh/source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    // Real servers and processes: these timeouts are safety nets, never performance assertions.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // expect.poll waits for conditions on a loaded machine; its timeout is a safety net too.
    expect: { poll: { timeout: 30_000 } },
    pool: 'forks',
    // The last lines of a run list every skipped test with its reason.
    reporters: [
      'default',
      fileURLToPath(new URL('./test/support/skip-summary-reporter.ts', import.meta.url)),
    ],
  },
});
