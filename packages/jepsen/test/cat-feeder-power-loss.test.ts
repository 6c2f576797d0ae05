// The durability verdict cuts the power of every member at once (kill -9, then what was not
// fsynced is rolled back from each member's undo journal) before the final reads. A cat-feeder
// with a planted fsync bug must fail it; the correct one passes it in the other cat-feeder checks.
// Needs root and network namespaces, and the built cat-feeder (npx tsc -b tsconfig.build.json).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PlantedStorageBug } from '@catmesh/raft/storage';
import { afterEach, describe, expect, it } from 'vitest';
import { networkNamespaceProblem } from '@catmesh/faults';
import { requires } from '@catmesh/testkit';
import { runCheck } from '../src/index.js';
import { capturedIo } from './support/captured-io.js';

describe('cat-feeder, power loss of every member', requires(networkNamespaceProblem()), () => {
  let out: string | undefined;
  afterEach(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  const planted: readonly PlantedStorageBug[] = [
    'skip-append-datasync',
    'skip-rename-directory-fsync',
  ];
  it(
    'the power-loss nemesis: every member loses power mid-run, and nothing acknowledged is lost',
    { timeout: 180_000 },
    async () => {
      out = await mkdtemp(join(tmpdir(), 'jepsen-power-loss-'));
      const io = capturedIo();
      const run = await runCheck(
        {
          target: 'cat-feeder',
          durationMs: 8_000,
          seed: 5,
          nemeses: ['power-loss'],
          faultMs: { min: 1_000, max: 2_000 },
          quietMs: { min: 1_000, max: 2_000 },
          outDir: out,
        },
        io,
      );
      expect(io.text()).toMatch(/applied power loss \{n1, n2, n3\}/);
      const verdicts = Object.fromEntries(
        (run.report?.checks ?? []).map((c) => [c.name, c.verdict]),
      );
      expect(verdicts, io.text()).toMatchObject({ linearizable: 'ok', durability: 'ok' });
      expect(run.exitCode, io.text()).toBe(0);
    },
  );

  for (const plantedStorageBug of planted) {
    it(`catches the planted bug ${plantedStorageBug}`, { timeout: 180_000 }, async () => {
      out = await mkdtemp(join(tmpdir(), 'jepsen-power-loss-'));
      const io = capturedIo();
      const run = await runCheck(
        {
          target: 'cat-feeder',
          durationMs: 4_000,
          seed: 3,
          nemeses: [],
          plantedStorageBug,
          outDir: out,
        },
        io,
      );
      const verdicts = Object.fromEntries(
        (run.report?.checks ?? []).map((c) => [c.name, c.verdict]),
      );
      // The run itself was fine; only what a power loss takes away shows the bug.
      expect(verdicts, io.text()).toMatchObject({ linearizable: 'ok', crashes: 'ok' });
      expect(verdicts['durability'], io.text()).not.toBe('ok');
      const durability = run.report!.checks.find((c) => c.name === 'durability')!;
      expect(durability.detail).toMatch(/^(power loss of every member|after every member lost)/);
      expect(run.exitCode).toBe(1);
    });
  }
});
