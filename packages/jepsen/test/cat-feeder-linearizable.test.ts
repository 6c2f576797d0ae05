// cat-feeder with linearizable reads under random-halves partitions and kill -9: every check must
// pass. Needs root and network namespaces, and the built cat-feeder (npx tsc -b tsconfig.build.json).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { networkNamespaceProblem } from '@catmesh/faults';
import { requires } from '@catmesh/testkit';
import { runCheck } from '../src/index.js';
import { capturedIo } from './support/captured-io.js';
import { readRunFiles } from './support/run-check-files.js';

describe(
  'cat-feeder, linearizable reads, partitions and kill -9',
  requires(networkNamespaceProblem()),
  () => {
    let out: string | undefined;
    afterAll(async () => {
      if (out) await rm(out, { recursive: true, force: true });
    });

    it('passes every check', { timeout: 240_000 }, async () => {
      out = await mkdtemp(join(tmpdir(), 'jepsen-test-'));
      const io = capturedIo();
      const run = await runCheck(
        {
          target: 'cat-feeder',
          durationMs: 20_000,
          seed: 7,
          nemeses: ['partition-random-halves', 'kill'],
          faultMs: { min: 2_000, max: 4_000 },
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
      // The schedule for seed 7 breaks the cluster both ways, and the clients saw it.
      const kinds = report.faults.map((f) => f.description.split(' ')[0]);
      expect(kinds).toContain('partition');
      expect(kinds).toContain('kill');
      expect(report.faultErrors).toEqual([]);
      for (const f of ['get', 'put', 'cas']) expect(report.stats.counts[f]?.ok).toBeGreaterThan(0);
      expect(report.stats.duringFaults.attempted).toBeGreaterThan(0);
      expect(report.stats.outsideFaults.attempted).toBeGreaterThan(0);

      const files = await readRunFiles(report);
      expect(files.summary.passed).toBe(true);
      // history.json holds the run and the final reads after the crash of every member.
      const finals = files.history.events.filter((e) => e.process === 'final' && e.type === 'ok');
      expect(finals.length).toBeGreaterThan(0);
      expect(files.html).toContain('<svg');
      expect(io.text()).toContain('verdict: PASS');
    });
  },
);
