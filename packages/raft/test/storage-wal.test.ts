import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Snapshot } from '../src/core/types.js';
import { RaftStorage } from '../src/storage/index.js';
import { encodeSnapshotFile } from '../src/storage/snapshot-file.js';
import type { OpenedStorage, RaftStorageOptions } from '../src/storage/index.js';
import { makeEntries, makeEntry, tempDir } from './fixtures/storage-entries.js';

let dir: string;
let removeDir: () => Promise<void>;
const open: RaftStorage[] = [];

beforeEach(async () => {
  ({ dir, remove: removeDir } = await tempDir('wal'));
});

afterEach(async () => {
  for (const storage of open.splice(0)) await storage.close();
  await removeDir();
});

async function openStorage(options: RaftStorageOptions = {}): Promise<OpenedStorage> {
  const opened = await RaftStorage.open(dir, options);
  open.push(opened.storage);
  return opened;
}

/** Closes `storage` and opens the directory again, as a restart would. */
async function restart(storage: RaftStorage, options: RaftStorageOptions = {}) {
  await storage.close();
  return openStorage(options);
}

function snapshotAt(index: number, term: number, text = `state through ${index}`): Snapshot {
  return {
    metadata: { index, term, confState: { voters: [1, 2, 3], learners: [4] } },
    data: new TextEncoder().encode(text),
  };
}

async function filesIn(suffix: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith(suffix)).sort();
}

describe('RaftStorage round trips', () => {
  it('opens an empty directory with an empty state', async () => {
    const { state, recovery } = await openStorage();
    expect(state).toEqual({ hardState: { term: 0, vote: 0, commit: 0 }, entries: [] });
    expect(recovery.tornTail).toBeUndefined();
  });

  it('returns after a restart exactly the entries and hard state that were saved', async () => {
    const { storage } = await openStorage();
    await storage.save({ hardState: { term: 1, vote: 2, commit: 0 } });
    await storage.save({ entries: makeEntries(1, 10) });
    await storage.save({ entries: [], hardState: { term: 2, vote: 3, commit: 7 } });
    await storage.save({ entries: makeEntries(11, 20, 2, 1000) });

    const { state } = await restart(storage);
    expect(state.hardState).toEqual({ term: 2, vote: 3, commit: 7 });
    expect(state.entries).toEqual([...makeEntries(1, 10), ...makeEntries(11, 20, 2, 1000)]);
    expect(state.entries.some((entry) => entry.type === 'conf-change')).toBe(true);
    expect(state.snapshot).toBeUndefined();
  });

  it('keeps empty entries and a large entry intact', async () => {
    const { storage } = await openStorage();
    const big = makeEntry(2, 1, 3 * 1024 * 1024);
    await storage.save({
      entries: [{ index: 1, term: 1, type: 'normal', data: new Uint8Array() }],
    });
    await storage.save({ entries: [big] });
    const { state } = await restart(storage);
    expect(state.entries[0]!.data).toEqual(new Uint8Array());
    const { data, ...rest } = state.entries[1]!;
    expect(rest).toEqual({ index: 2, term: 1, type: 'normal' });
    // Buffer.equals: a deep toEqual over 3 million elements takes many seconds.
    expect(Buffer.from(data).equals(big.data)).toBe(true);
  });

  it('copies entry data when save() is called, so the caller may reuse its buffers', async () => {
    const { storage } = await openStorage();
    const entry = makeEntry(1);
    const saved = storage.save({ entries: [entry] });
    entry.data.fill(0);
    await saved;
    const { state } = await restart(storage);
    expect(state.entries).toEqual([makeEntry(1)]);
  });
});

describe('RaftStorage suffix truncation', () => {
  it('replaces a conflicting suffix, also after a restart', async () => {
    const { storage } = await openStorage();
    await storage.save({ entries: makeEntries(1, 10), hardState: { term: 1, vote: 1, commit: 3 } });
    await storage.save({ entries: makeEntries(6, 7, 2) });
    const { state, storage: reopened } = await restart(storage);
    expect(state.entries).toEqual([...makeEntries(1, 5), ...makeEntries(6, 7, 2)]);

    // And again, cutting back further than the previous overwrite.
    await reopened.save({ entries: makeEntries(4, 4, 3) });
    await reopened.save({ entries: makeEntries(5, 6, 3) });
    const { state: final } = await restart(reopened);
    expect(final.entries).toEqual([...makeEntries(1, 3), ...makeEntries(4, 6, 3)]);
  });

  it('replaces a suffix that spans several segments', async () => {
    const { storage } = await openStorage({ segmentSize: 1024 });
    for (let index = 1; index <= 60; index++) await storage.save({ entries: [makeEntry(index)] });
    expect(storage.stats().segments).toBeGreaterThan(4);
    await storage.save({ entries: makeEntries(12, 15, 2) });
    await storage.save({ entries: makeEntries(16, 16, 2) });

    const { state } = await restart(storage, { segmentSize: 1024 });
    expect(state.entries).toEqual([...makeEntries(1, 11), ...makeEntries(12, 16, 2)]);
  });

  it('refuses to overwrite a committed entry, to leave a gap, or to lower a term', async () => {
    const { storage } = await openStorage();
    await storage.save({
      entries: makeEntries(1, 5, 2),
      hardState: { term: 2, vote: 1, commit: 3 },
    });
    await expect(storage.save({ entries: makeEntries(3, 3, 3) })).rejects.toThrow(/committed/);
    await expect(storage.save({ entries: makeEntries(7, 8, 2) })).rejects.toThrow(/gap/);
    await expect(storage.save({ entries: makeEntries(6, 6, 1) })).rejects.toThrow(/term/);
    await expect(storage.save({ entries: [makeEntry(6, 2), makeEntry(8, 2)] })).rejects.toThrow(
      /consecutive/,
    );
    await expect(storage.save({ hardState: { term: 2, vote: 1, commit: 9 } })).rejects.toThrow(
      /commit 9 > last index 5/,
    );
    await expect(storage.save({ hardState: { term: 1, vote: 1, commit: 3 } })).rejects.toThrow(
      /term 1 < 2/,
    );

    // Rejected requests changed nothing: the log continues at 6.
    await storage.save({ entries: makeEntries(6, 6, 2) });
    const { state } = await restart(storage);
    expect(state.entries).toEqual(makeEntries(1, 6, 2));
    expect(state.hardState).toEqual({ term: 2, vote: 1, commit: 3 });
  });
});

describe('RaftStorage segments and compaction', () => {
  it('rotates segments at the configured size and deletes the ones a snapshot covers', async () => {
    const options = { segmentSize: 2048 };
    const { storage } = await openStorage(options);
    for (let index = 1; index <= 100; index++) {
      await storage.save({
        entries: [makeEntry(index)],
        hardState: { term: 1, vote: 1, commit: index },
      });
    }
    const before = await filesIn('.wal');
    expect(before.length).toBeGreaterThan(5);

    await storage.save({ snapshot: snapshotAt(60, 1) });
    await storage.compact(60);
    const after = await filesIn('.wal');
    expect(after.length).toBeLessThan(before.length);
    expect(after).toEqual(before.slice(before.length - after.length)); // the oldest ones went
    expect(storage.stats().segments).toBe(after.length);

    const { state, storage: reopened } = await restart(storage, options);
    expect(state.snapshot).toEqual(snapshotAt(60, 1));
    expect(state.entries).toEqual(makeEntries(61, 100));
    expect(state.hardState).toEqual({ term: 1, vote: 1, commit: 100 });

    // The log goes on after compaction, across more rotations, and compacts again.
    for (let index = 101; index <= 150; index++) {
      await reopened.save({
        entries: [makeEntry(index)],
        hardState: { term: 1, vote: 1, commit: index },
      });
    }
    await reopened.save({ snapshot: snapshotAt(140, 1) });
    await reopened.compact(140);
    const { state: final } = await restart(reopened, options);
    expect(final.snapshot).toEqual(snapshotAt(140, 1));
    expect(final.entries).toEqual(makeEntries(141, 150));
    expect(await filesIn('.snap')).toEqual(['snapshot-00000000000000000140.snap']);
  });

  it('keeps the hard state and snapshot when the segment that held them is deleted', async () => {
    const options = { segmentSize: 512 };
    const { storage } = await openStorage(options);
    await storage.save({ entries: makeEntries(1, 3), hardState: { term: 1, vote: 3, commit: 3 } });
    // One batch fills the first segment with entries 4-5 and a snapshot through 5, so the next
    // segment starts right after the snapshot and compact(5) may delete the first one.
    await Promise.all([
      storage.save({ entries: makeEntries(4, 5) }),
      storage.save({ snapshot: snapshotAt(5, 1) }),
    ]);
    for (let index = 6; index <= 40; index++) await storage.save({ entries: [makeEntry(index)] });
    const before = await filesIn('.wal');
    await storage.compact(5);
    expect(await filesIn('.wal')).toEqual(before.slice(1));

    const { state } = await restart(storage, options);
    expect(state.hardState).toEqual({ term: 1, vote: 3, commit: 3 });
    expect(state.snapshot).toEqual(snapshotAt(5, 1));
    expect(state.entries).toEqual(makeEntries(6, 40));
  });

  it('refuses to compact past the snapshot', async () => {
    const { storage } = await openStorage();
    await storage.save({
      entries: makeEntries(1, 10),
      hardState: { term: 1, vote: 1, commit: 10 },
    });
    await expect(storage.compact(5)).rejects.toThrow(/snapshot only covers 0/);
    await storage.save({ snapshot: snapshotAt(5, 1) });
    await expect(storage.compact(6)).rejects.toThrow(/snapshot only covers 5/);
    await storage.compact(5);
  });
});

describe('RaftStorage snapshots', () => {
  it('keeps the entries after a snapshot of its own log', async () => {
    const { storage } = await openStorage();
    await storage.save({
      entries: makeEntries(1, 10, 2),
      hardState: { term: 2, vote: 1, commit: 8 },
    });
    await storage.save({ snapshot: snapshotAt(8, 2) });
    const { state } = await restart(storage);
    expect(state.snapshot).toEqual(snapshotAt(8, 2));
    expect(state.entries).toEqual(makeEntries(9, 10, 2));
  });

  it("replaces a log that doesn't match a leader's snapshot, with the entries saved alongside", async () => {
    const { storage } = await openStorage();
    await storage.save({
      entries: makeEntries(1, 10, 1),
      hardState: { term: 1, vote: 1, commit: 2 },
    });
    await storage.save({
      snapshot: snapshotAt(8, 3),
      entries: makeEntries(9, 9, 3),
      hardState: { term: 3, vote: 0, commit: 8 },
    });
    const { state, storage: reopened } = await restart(storage);
    expect(state.snapshot).toEqual(snapshotAt(8, 3));
    expect(state.entries).toEqual(makeEntries(9, 9, 3)); // old 9 and 10 (term 1) are gone
    expect(state.hardState).toEqual({ term: 3, vote: 0, commit: 8 });

    // A snapshot beyond the end of the log replaces it too.
    await reopened.save({
      snapshot: snapshotAt(20, 4),
      hardState: { term: 4, vote: 0, commit: 20 },
    });
    const { state: final } = await restart(reopened);
    expect(final.snapshot).toEqual(snapshotAt(20, 4));
    expect(final.entries).toEqual([]);
  });

  it('refuses an older snapshot or one that would discard committed entries', async () => {
    const { storage } = await openStorage();
    await storage.save({ entries: makeEntries(1, 10), hardState: { term: 1, vote: 1, commit: 9 } });
    await storage.save({ snapshot: snapshotAt(5, 1) });
    await expect(storage.save({ snapshot: snapshotAt(5, 1) })).rejects.toThrow(/not newer/);
    await expect(storage.save({ snapshot: snapshotAt(7, 2) })).rejects.toThrow(/committed/);
  });

  it('ignores and removes a temporary snapshot file left by a crash', async () => {
    const { storage } = await openStorage();
    await storage.save({
      entries: makeEntries(1, 10),
      hardState: { term: 1, vote: 1, commit: 10 },
    });
    await storage.save({ snapshot: snapshotAt(4, 1) });
    await storage.close();
    // A crash while writing the next snapshot leaves a partial temporary file.
    const temp = join(dir, 'snapshot-00000000000000000009.snap.tmp');
    await writeFile(temp, 'half a snapshot');

    const { state, recovery } = await openStorage();
    expect(state.snapshot).toEqual(snapshotAt(4, 1));
    expect(state.entries).toEqual(makeEntries(5, 10));
    expect(recovery.removedFiles).toEqual([temp]);
    expect(await readdir(dir)).not.toContain('snapshot-00000000000000000009.snap.tmp');
  });

  it('ignores a complete snapshot file whose WAL batch was never written', async () => {
    const { storage } = await openStorage();
    await storage.save({
      entries: makeEntries(1, 10),
      hardState: { term: 1, vote: 1, commit: 10 },
    });
    await storage.save({ snapshot: snapshotAt(4, 1) });
    await storage.close();
    // A crash after the snapshot file was renamed into place but before its WAL marker: the save
    // never resolved, so the state is the one before it.
    const orphan = join(dir, 'snapshot-00000000000000000009.snap');
    await writeFile(orphan, Buffer.concat(encodeSnapshotFile(snapshotAt(9, 1, 'newer'))));

    const { state, recovery } = await openStorage();
    expect(state.snapshot).toEqual(snapshotAt(4, 1));
    expect(state.entries).toEqual(makeEntries(5, 10));
    expect(recovery.removedFiles).toContain(orphan);
  });

  it('leaves only the latest snapshot file', async () => {
    const { storage } = await openStorage();
    await storage.save({
      entries: makeEntries(1, 10),
      hardState: { term: 1, vote: 1, commit: 10 },
    });
    await storage.save({ snapshot: snapshotAt(3, 1) });
    await storage.save({ snapshot: snapshotAt(6, 1) });
    await storage.save({ snapshot: snapshotAt(9, 1) });
    expect(await filesIn('.snap')).toEqual(['snapshot-00000000000000000009.snap']);
  });
});

describe('RaftStorage lifecycle', () => {
  it('finishes pending saves on close and rejects saves after it', async () => {
    const { storage } = await openStorage();
    const saves = [1, 2, 3].map((index) => storage.save({ entries: [makeEntry(index)] }));
    await storage.close();
    await Promise.all(saves);
    await expect(storage.save({ entries: [makeEntry(4)] })).rejects.toThrow(/closed/);
    const { state } = await openStorage();
    expect(state.entries).toEqual(makeEntries(1, 3));
  });
});
