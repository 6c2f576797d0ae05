// The page's budget (issue 14): under 300 KB gzipped, everything it loads included. It is
// built here the way `make build` builds it, so the figure is of what users get.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPage, PAGE_FILES } from '../scripts/build-page.js';

const BUDGET_BYTES = 300 * 1024;

describe('the built page', () => {
  let outDir: string | undefined;
  afterAll(async () => {
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  it('is under 300 KB gzipped', async () => {
    outDir = await mkdtemp(join(tmpdir(), 'dashboard-page-'));
    await buildPage(outDir);
    let gzipped = 0;
    for (const file of PAGE_FILES) {
      gzipped += gzipSync(await readFile(join(outDir, file)), { level: 9 }).length;
    }
    console.info(`dashboard page: ${gzipped} bytes gzipped (${PAGE_FILES.join(', ')})`);
    expect(gzipped).toBeGreaterThan(0);
    expect(gzipped).toBeLessThan(BUDGET_BYTES);
  });
});
