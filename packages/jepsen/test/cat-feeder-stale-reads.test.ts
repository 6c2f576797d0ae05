// The CAP demonstration: stale reads from a replica cut off by a partition stay available and
// return old values, and the checker must catch one, explain it, and draw it. Needs root and
// network namespaces, and the built cat-feeder (npx tsc -b tsconfig.build.json).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { GetResult } from '@catmesh/linearizability';
import { networkNamespaceProblem } from '@catmesh/faults';
import { requires } from '@catmesh/testkit';
import { runCheck } from '../src/index.js';
import { capturedIo } from './support/captured-io.js';
import { readRunFiles } from './support/run-check-files.js';

describe(
  'cat-feeder, stale reads, one replica isolated',
  requires(networkNamespaceProblem()),
  () => {
    let out: string | undefined;
    afterAll(async () => {
      if (out) await rm(out, { recursive: true, force: true });
    });

    it(
      'is not linearizable, and the report names the impossible read',
      { timeout: 240_000 },
      async () => {
        out = await mkdtemp(join(tmpdir(), 'jepsen-test-'));
        const io = capturedIo();
        // Each isolate-node partition cuts one replica off while the other two keep accepting writes;
        // every replica is some client's home (5 clients, 3 replicas), so that client's stale reads
        // return values the majority has since overwritten.
        const run = await runCheck(
          {
            target: 'cat-feeder',
            durationMs: 15_000,
            seed: 7,
            nemeses: ['partition-isolate-node'],
            readConsistency: 'stale',
            faultMs: { min: 3_000, max: 5_000 },
            quietMs: { min: 1_000, max: 2_000 },
            outDir: out,
          },
          io,
        );
        expect(run.exitCode, io.text()).toBe(1);
        const report = run.report!;
        expect(report.faults.length).toBeGreaterThan(0);
        const [linearizable, ...others] = report.checks;
        expect(linearizable?.verdict, io.text()).toBe('illegal');
        // Reads change nothing: the writes are still linearizable, durable and everywhere the same.
        expect(others.map((c) => [c.name, c.verdict])).toEqual([
          ['convergence', 'ok'],
          ['durability', 'ok'],
          ['crashes', 'ok'],
        ]);

        const failure = linearizable!.failure!;
        expect(failure.culprit.op.f).toBe('get');
        const staleValue = (failure.culprit.result as GetResult).value;
        expect(failure.explanation).toContain(`could not return '${String(staleValue)}'`);
        // (Not asserted: that the read fell inside a partition. A stale read may also come from a
        // follower a heartbeat behind, or from the isolated replica just after the partition healed.)
        const files = await readRunFiles(report);
        expect(files.summary.checks[0]?.verdict).toBe('illegal');
        expect(files.html).toContain('illegal');
        expect(files.html).toContain(`Key ${failure.key}`);
        expect(files.html).toContain(`could not return &#39;${String(staleValue)}&#39;`);
        expect(io.text()).toContain('That is the C given up in CAP');
      },
    );
  },
);
