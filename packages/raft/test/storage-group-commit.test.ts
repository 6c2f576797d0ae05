import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RaftStorage } from '../src/storage/index.js';
import type { FsyncTarget } from '../src/storage/index.js';
import { makeEntries, makeEntry, tempDir } from './fixtures/storage-entries.js';

let dir: string;
let removeDir: () => Promise<void>;

beforeEach(async () => {
  ({ dir, remove: removeDir } = await tempDir('group-commit'));
});

afterEach(async () => {
  await removeDir();
});

describe('group commit', () => {
  it('covers many concurrent saves with one write and one fsync', async () => {
    const synced: FsyncTarget[] = [];
    const { storage } = await RaftStorage.open(dir, { onFsync: (target) => synced.push(target) });
    const savers = 16;
    const perSaver = 20;
    let next = 1;
    // Each saver issues its next save as soon as its previous one is durable, so saves keep
    // arriving while another batch's fsync is in flight.
    await Promise.all(
      Array.from({ length: savers }, async () => {
        for (let i = 0; i < perSaver; i++) {
          const index = next++;
          await storage.save({
            entries: [makeEntry(index)],
            hardState: { term: 1, vote: 1, commit: index },
          });
        }
      }),
    );
    const stats = storage.stats();
    expect(stats.saves).toBe(savers * perSaver);
    expect(stats.records).toBeGreaterThanOrEqual(savers * perSaver);
    expect(stats.fsyncs).toBe(synced.length);
    const segmentSyncs = synced.filter((target) => target === 'segment').length;
    expect(segmentSyncs).toBe(stats.batches);
    expect(stats.fsyncs).toBeLessThan(stats.saves / 4);
    expect(stats.fsyncSeconds).toBeGreaterThan(0);

    await storage.close();
    const { storage: reopened, state } = await RaftStorage.open(dir);
    expect(state.entries).toEqual(makeEntries(1, savers * perSaver));
    expect(state.hardState.commit).toBe(savers * perSaver);
    await reopened.close();
  });

  it('resolves a save only after the fsync that covers it', async () => {
    let fsyncsDone = 0;
    const { storage } = await RaftStorage.open(dir, {
      onFsync: (target) => {
        if (target === 'segment') fsyncsDone += 1;
      },
    });
    const observed: number[] = [];
    await Promise.all(
      [1, 2, 3].map(async (index) => {
        await storage.save({ entries: [makeEntry(index)] });
        observed.push(fsyncsDone);
      }),
    );
    // The first write creates the segment (fsynced before its rename), one batch for all three.
    expect(observed).toEqual([1, 1, 1]);
    expect(storage.stats().batches).toBe(1);
    await storage.close();
  });

  it('fails every later save once a write has failed, instead of guessing', async () => {
    const { storage } = await RaftStorage.open(dir);
    await storage.save({ entries: [makeEntry(1)] });
    // Pull the file handle out from under the storage: the next write fails with EBADF.
    const tail = (storage as unknown as { tail: { handle: { close(): Promise<void> } } }).tail;
    await tail.handle.close();
    await expect(storage.save({ entries: [makeEntry(2)] })).rejects.toThrow();
    await expect(storage.save({ entries: [makeEntry(3)] })).rejects.toThrow(/must be reopened/);
  });
});
