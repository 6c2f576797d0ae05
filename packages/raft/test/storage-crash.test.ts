import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RaftStorage } from '../src/storage/index.js';
import { makeEntry, tempDir } from './fixtures/storage-entries.js';

const writerScript = fileURLToPath(new URL('./fixtures/wal-writer.ts', import.meta.url));

let dir: string;
let removeDir: () => Promise<void>;

beforeEach(async () => {
  ({ dir, remove: removeDir } = await tempDir('crash'));
});

afterEach(async () => {
  await removeDir();
});

/**
 * Runs the writer on `dir` until it has acknowledged `killAfter` saves, then SIGKILLs it.
 * Returns every index it printed as durable (a line cut by the kill is ignored).
 */
async function runAndKill(killAfter: number): Promise<number[]> {
  const child = spawn(
    process.execPath,
    ['--conditions=@catmesh/source', '--import', 'tsx', writerScript, dir, '16', '16384'],
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

describe('crash safety', () => {
  it('keeps every acknowledged entry when the writer is killed with SIGKILL', async () => {
    const allAcknowledged = new Set<number>();
    // Kill at different moments: right after start, mid-run, after snapshots and compactions.
    for (const killAfter of [20, 700, 1600, 2900]) {
      const acknowledged = await runAndKill(killAfter);
      expect(acknowledged.length).toBeGreaterThanOrEqual(killAfter);
      for (const index of acknowledged) allAcknowledged.add(index);

      const { storage, state } = await RaftStorage.open(dir);
      await storage.close();
      const snapshotIndex = state.snapshot?.metadata.index ?? 0;
      if (state.snapshot) {
        expect(new TextDecoder().decode(state.snapshot.data)).toBe(
          `snapshot through ${snapshotIndex}`,
        );
      }
      const byIndex = new Map(state.entries.map((entry) => [entry.index, entry]));
      state.entries.forEach((entry, i) => expect(entry.index).toBe(snapshotIndex + 1 + i));
      for (const index of allAcknowledged) {
        if (index <= snapshotIndex) continue;
        expect(byIndex.get(index), `acknowledged entry ${index}`).toEqual(
          makeEntry(index, 1, 20 + ((index * 37) % 300)),
        );
      }
      expect(state.hardState.commit).toBeGreaterThanOrEqual(Math.max(...acknowledged));
    }
    expect(allAcknowledged.size).toBeGreaterThan(2900);
  });
});
