// The run's last lines list every skip with its reason; under CI=true a missing prerequisite
// fails the run instead of skipping. A real vitest over a fixture, with the repository's config.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixtureRoot = fileURLToPath(new URL('./fixtures/skip-summary/', import.meta.url));
const vitestBin = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));

function runFixture(ci: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [vitestBin, 'run', '--root', fixtureRoot], {
      cwd: fixtureRoot,
      env: { ...process.env, CI: ci, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('the skip summary', () => {
  it('ends the run with every skipped test and its reason', async () => {
    const { code, output } = await runFixture('');
    expect(code, output).toBe(0);
    const lines = output.trimEnd().split('\n');
    expect(lines.slice(-5)).toEqual([
      'Skipped (4):',
      '  skips.fixture.ts > riding the unicorn > saddles it: no unicorn on this machine',
      '  skips.fixture.ts > riding the unicorn > rides it: no unicorn on this machine',
      '  skips.fixture.ts > adds latency in the kernel: this kernel has no netem qdisc',
      '  skips.fixture.ts > is not written yet: no reason given',
    ]);
  });

  it('under CI=true, a missing prerequisite fails the run and names it', async () => {
    const { code, output } = await runFixture('true');
    expect(code, output).toBe(1);
    expect(output).toContain(
      'MissingPrerequisiteError: CI=true, so this suite must run, but a prerequisite is missing: no unicorn on this machine',
    );
  });
});
