import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PlantedStorageBug } from '../src/storage/index.js';
import { RaftStorage, rollBackUnsynced } from '../src/storage/index.js';
import { makeEntry, tempDir } from './fixtures/storage-entries.js';

const writerScript = fileURLToPath(new URL('./fixtures/wal-writer.ts', import.meta.url));

let dir: string;
let journal: string;
let removeDir: () => Promise<void>;

beforeEach(async () => {
  let root: string;
  ({ dir: root, remove: removeDir } = await tempDir('crash'));
  dir = join(root, 'wal');
  journal = join(root, 'journal');
});

afterEach(async () => {
  await removeDir();
});

/**
 * Runs the writer on `dir` until it has acknowledged `killAfter` saves, then SIGKILLs it.
 * Returns every index it printed as durable (a line cut by the kill is ignored). `extra` are the
 * writer's optional arguments: the journal directory and a planted bug.
 */
async function runAndKill(killAfter: number, extra: readonly string[] = []): Promise<number[]> {
  const child = spawn(
    process.execPath,
    ['--conditions=@catmesh/source', '--import', 'tsx', writerScript, dir, '16', '16384', ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const acknowledged: number[] = [];
  let partial = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal)),
  );
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (line !== 'ready') acknowledged.push(Number(line));
    }
    if (acknowledged.length >= killAfter) child.kill('SIGKILL');
  });
  const signal = await exited;
  expect(signal, `writer exited on its own: ${stderr}`).toBe('SIGKILL');
  return acknowledged;
}

/** Opens the storage and lists what of `acknowledged` it lost (empty: nothing). */
async function lostAfterRestart(acknowledged: ReadonlySet<number>): Promise<string[]> {
  const { storage, state } = await RaftStorage.open(dir);
  await storage.close();
  const snapshotIndex = state.snapshot?.metadata.index ?? 0;
  if (state.snapshot) {
    expect(new TextDecoder().decode(state.snapshot.data)).toBe(`snapshot through ${snapshotIndex}`);
  }
  state.entries.forEach((entry, i) => expect(entry.index).toBe(snapshotIndex + 1 + i));
  const byIndex = new Map(state.entries.map((entry) => [entry.index, entry]));
  const lost: string[] = [];
  for (const index of acknowledged) {
    if (index <= snapshotIndex) continue;
    const entry = byIndex.get(index);
    if (entry === undefined) lost.push(`entry ${index}`);
    else
      expect(entry, `acknowledged entry ${index}`).toEqual(
        makeEntry(index, 1, 20 + ((index * 37) % 300)),
      );
  }
  const highest = Math.max(...acknowledged);
  if (state.hardState.commit < highest) {
    lost.push(`commit ${highest} (hard state says ${state.hardState.commit})`);
  }
  return lost;
}

describe('crash safety', () => {
  it('keeps every acknowledged entry when the writer is killed with SIGKILL', async () => {
    const allAcknowledged = new Set<number>();
    // Kill at different moments: right after start, mid-run, after snapshots and compactions.
    for (const killAfter of [20, 700, 1600, 2900]) {
      const acknowledged = await runAndKill(killAfter);
      expect(acknowledged.length).toBeGreaterThanOrEqual(killAfter);
      for (const index of acknowledged) allAcknowledged.add(index);
      expect(await lostAfterRestart(allAcknowledged)).toEqual([]);
    }
    expect(allAcknowledged.size).toBeGreaterThan(2900);
  });
});

describe('power loss: what was not fsynced is rolled back before the restart', () => {
  it('keeps every acknowledged entry', async () => {
    // Whether a kill finds a batch in flight is up to timing; storage-power-loss-fs.test.ts shows
    // what the rollback takes away, and the planted bugs below that it matters.
    const allAcknowledged = new Set<number>();
    for (const killAfter of [20, 700, 1600, 2900]) {
      const acknowledged = await runAndKill(killAfter, [journal]);
      for (const index of acknowledged) allAcknowledged.add(index);
      await rollBackUnsynced(journal);
      expect(await lostAfterRestart(allAcknowledged)).toEqual([]);
    }
    expect(allAcknowledged.size).toBeGreaterThan(2900);
  });

  // Planted bugs: each must lose acknowledged data here (or leave storage that refuses to open).
  const planted: readonly PlantedStorageBug[] = [
    'skip-append-datasync',
    'skip-rename-directory-fsync',
  ];
  for (const bug of planted) {
    it(`catches the planted bug ${bug}`, async () => {
      const acknowledged = new Set(await runAndKill(1600, [journal, bug]));
      await rollBackUnsynced(journal);
      const outcome = await lostAfterRestart(acknowledged).then(
        (lost) => `lost ${lost.length}: ${lost.slice(0, 3).join(', ')}`,
        (error: unknown) => `refused to open: ${(error as Error).message}`,
      );
      expect(outcome).toMatch(/^(lost [1-9]|refused to open)/);
    });
  }
});
