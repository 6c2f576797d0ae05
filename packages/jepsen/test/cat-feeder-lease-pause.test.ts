// cat-feeder with lease reads while the nemesis pauses members (SIGSTOP, the leader among them):
// a leader that resumes must not serve a read from a lease that ran out while it was stopped.
// Needs root and network namespaces, and the built cat-feeder (npx tsc -b tsconfig.build.json).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { networkNamespaceProblem } from '@catmesh/faults';
import { requires } from '@catmesh/testkit';
import { runCheck } from '../src/index.js';
import { capturedIo } from './support/captured-io.js';

describe('cat-feeder, lease reads and pauses', requires(networkNamespaceProblem()), () => {
  let out: string | undefined;
  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('passes every check', { timeout: 240_000 }, async () => {
    out = await mkdtemp(join(tmpdir(), 'jepsen-lease-'));
    const io = capturedIo();
    const run = await runCheck(
      {
        target: 'cat-feeder',
        durationMs: 15_000,
        seed: 11,
        nemeses: ['pause'],
        readConsistency: 'lease',
        faultMs: { min: 2_000, max: 3_000 },
        quietMs: { min: 1_000, max: 2_000 },
        outDir: out,
      },
      io,
    );
    expect(run.exitCode, io.text()).toBe(0);
    const report = run.report!;
    expect(report.checks.map((c) => [c.name, c.verdict])).toEqual([
      ['linearizable', 'ok'],
      ['convergence', 'ok'],
      ['durability', 'ok'],
      ['crashes', 'ok'],
    ]);
    expect(report.checks.find((c) => c.name === 'durability')?.detail).toMatch(
      /^power loss of every member/,
    );
    const pauses = report.faults.filter((f) => f.description.startsWith('pause'));
    expect(pauses.length).toBeGreaterThanOrEqual(2);
    expect(report.faultErrors).toEqual([]);
    expect(report.stats.counts['get']?.ok).toBeGreaterThan(0);
    expect(report.stats.duringFaults.attempted).toBeGreaterThan(0);
  });
});
