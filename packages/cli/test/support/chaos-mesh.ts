// A `catmesh up` mesh for chaos experiments, and `catmesh chaos run` as a user runs it: the
// built executable against real processes. The mesh's order recovery runs every second for
// orders older than two seconds, so that an experiment's orders settle in seconds, not minutes.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChaosReport } from '@catmesh/chaos';
import { vi } from 'vitest';
import {
  CatmeshProcess,
  freePortBase,
  runCatmesh,
  tempStateDir,
  userEnv,
  type CatmeshRun,
} from './local-mesh.js';

export interface ChaosMesh {
  readonly stateDir: string;
  readonly runner: CatmeshProcess;
  /** `catmesh chaos run FILE` to its end, with its report. */
  run(
    file: string,
    timeScale: number,
  ): Promise<{ run: CatmeshRun; report: ChaosReport; dir: string }>;
  /** Waits until every instance serves and the Raft group has a leader. */
  healthy(): Promise<void>;
  stop(): Promise<void>;
}

export const MESH_ENV = { CATMESH_RECOVERY_AFTER: '2s', CATMESH_RECOVERY_EVERY: '1s' };

export async function startChaosMesh(...upArgs: string[]): Promise<ChaosMesh> {
  const stateDir = await tempStateDir();
  const plan = await freePortBase();
  const runner = new CatmeshProcess(
    ['up', '--state-dir', stateDir, '--port-base', String(plan.base), ...upArgs],
    userEnv(MESH_ENV),
  );
  await runner.waitForReady();
  const mesh: ChaosMesh = {
    stateDir,
    runner,
    async run(file, timeScale) {
      const dir = await mkdtemp(join(tmpdir(), 'catmesh-chaos-report-'));
      const args = ['chaos', 'run', file, '--time-scale', String(timeScale)];
      const run = await runCatmesh([...args, '--report-dir', dir, '--state-dir', stateDir]);
      if (run.code !== 0) {
        throw new Error(
          `chaos run exited ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`,
        );
      }
      const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as ChaosReport;
      return { run, report, dir };
    },
    async healthy() {
      await vi.waitFor(
        async () => {
          const status = await runCatmesh(['status', '--json', '--state-dir', stateDir]);
          const rows = status.stdout
            .trim()
            .split('\n')
            .map((line) => JSON.parse(line) as { health: string; raft: { role: string } | null });
          if (status.code !== 0 || !rows.some((row) => row.raft?.role === 'leader')) {
            throw new Error(`mesh not healthy yet:\n${status.stdout}${status.stderr}`);
          }
        },
        { timeout: 60_000, interval: 250 },
      );
    },
    async stop() {
      if (runner.child.exitCode === null) runner.child.kill('SIGINT');
      await runner.exited;
      await runCatmesh(['down', '--state-dir', stateDir]);
      await rm(stateDir, { recursive: true, force: true });
    },
  };
  return mesh;
}
