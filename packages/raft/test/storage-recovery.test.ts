import { readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HardState, Snapshot } from '../src/core/types.js';
import { RaftStorage, StorageCorruptionError } from '../src/storage/index.js';
import { makeEntries, makeEntry, tempDir } from './fixtures/storage-entries.js';

let dir: string;
let removeDir: () => Promise<void>;

beforeEach(async () => {
  ({ dir, remove: removeDir } = await tempDir('recovery'));
});

afterEach(async () => {
  await removeDir();
});

async function segmentFiles(): Promise<string[]> {
  return (await readdir(dir))
    .filter((name) => name.endsWith('.wal'))
    .sort()
    .map((name) => join(dir, name));
}

function hardStateAt(commit: number): HardState {
  return { term: 1, vote: 1, commit };
}

/** Saves entries 1..count, one batch each; returns the segment size after each batch. */
async function writeBatches(count: number, segmentSize?: number): Promise<number[]> {
  const { storage } = await RaftStorage.open(dir, segmentSize ? { segmentSize } : {});
  const sizes: number[] = [];
  for (let index = 1; index <= count; index++) {
    await storage.save({ entries: [makeEntry(index)], hardState: hardStateAt(index) });
    sizes.push((await stat((await segmentFiles()).at(-1)!)).size);
  }
  await storage.close();
  return sizes;
}

/** Opens the directory, expecting it to refuse with a corruption error; returns the error. */
async function openFails(): Promise<StorageCorruptionError> {
  const error: unknown = await RaftStorage.open(dir).then(
    async ({ storage }) => {
      await storage.close();
      return new Error('open succeeded');
    },
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(StorageCorruptionError);
  return error as StorageCorruptionError;
}

describe('recovery from a torn tail', () => {
  it('drops a last batch cut at any byte offset and returns the log up to the batch before', async () => {
    const { storage } = await RaftStorage.open(dir);
    for (let index = 1; index <= 4; index++) {
      await storage.save({ entries: [makeEntry(index)], hardState: hardStateAt(index) });
    }
    const [segment] = await segmentFiles();
    const intact = (await stat(segment!)).size;
    // The last batch holds three records: entries 5 and 6 and a hard state.
    await storage.save({ entries: makeEntries(5, 6), hardState: hardStateAt(6) });
    await storage.close();
    const full = await readFile(segment!);
    expect(full.length).toBeGreaterThan(intact + 3 * 24);

    for (let cut = intact; cut < full.length; cut++) {
      await writeFile(segment!, full.subarray(0, cut));
      const { storage: reopened, state, recovery } = await RaftStorage.open(dir);
      expect(state.entries).toEqual(makeEntries(1, 4));
      expect(state.hardState).toEqual(hardStateAt(4));
      if (cut === intact) {
        expect(recovery.tornTail).toBeUndefined();
      } else {
        expect(recovery.tornTail).toMatchObject({
          file: segment,
          offset: intact,
          droppedBytes: cut - intact,
        });
      }
      await reopened.close();
      expect((await stat(segment!)).size).toBe(intact);
    }

    // After the repair the log goes on where it was cut.
    const { storage: writer } = await RaftStorage.open(dir);
    await writer.save({
      entries: makeEntries(5, 7, 2),
      hardState: { term: 2, vote: 0, commit: 5 },
    });
    await writer.close();
    const { storage: last, state } = await RaftStorage.open(dir);
    expect(state.entries).toEqual([...makeEntries(1, 4), ...makeEntries(5, 7, 2)]);
    await last.close();
  });

  it('drops a last batch with any single byte damaged, as a write torn inside it', async () => {
    const sizes = await writeBatches(6);
    const [segment] = await segmentFiles();
    const full = await readFile(segment!);
    const lastBatch = sizes.at(-2)!;
    for (let at = lastBatch; at < full.length; at++) {
      const damaged = Buffer.from(full);
      damaged[at] = damaged[at]! ^ 0x40;
      await writeFile(segment!, damaged);
      const { storage, state, recovery } = await RaftStorage.open(dir);
      expect(state.entries).toEqual(makeEntries(1, 5));
      expect(recovery.tornTail?.offset).toBe(lastBatch);
      await storage.close();
    }
  });
  it('removes a new last segment whose first batch was torn, and carries on from the one before', async () => {
    await writeBatches(12, 512);
    const segments = await segmentFiles();
    const last = segments.at(-1)!;
    const lastBytes = await readFile(last);
    const { storage: probe, state: full } = await RaftStorage.open(dir);
    await probe.close();
    // Keep the header and a few bytes of its first batch, as if that first write was torn.
    await writeFile(last, lastBytes.subarray(0, 40 + 30));

    const { storage, state, recovery } = await RaftStorage.open(dir, { segmentSize: 512 });
    expect(recovery.removedFiles).toEqual([last]);
    expect(recovery.tornTail).toMatchObject({ file: last, offset: 40 });
    const kept = state.entries.length;
    expect(kept).toBeLessThan(full.entries.length);
    expect(state.entries).toEqual(makeEntries(1, kept));
    expect(state.hardState).toEqual(hardStateAt(kept));
    // Writing on starts a fresh segment that continues the log.
    await storage.save({
      entries: makeEntries(kept + 1, kept + 3),
      hardState: hardStateAt(kept + 3),
    });
    await storage.close();
    const { storage: reopened, state: after } = await RaftStorage.open(dir);
    expect(after.entries).toEqual(makeEntries(1, kept + 3));
    expect(after.hardState).toEqual(hardStateAt(kept + 3));
    await reopened.close();
  });
});

describe('recovery from corruption', () => {
  it('refuses a damaged record that later batches follow, naming the file and offset', async () => {
    const sizes = await writeBatches(10);
    const [segment] = await segmentFiles();
    const full = await readFile(segment!);
    const batch5 = sizes[3]!; // entry 5's batch starts where the file ended after entry 4
    const entryRecordSize = 24 + 64; // header + 17-byte entry prefix + 40 bytes of data, padded

    // Damage in the checksum, the length, the type, the batch number, the payload, the padding.
    for (const at of [0, 5, 8, 17, 24 + 20, entryRecordSize - 1]) {
      const damaged = Buffer.from(full);
      damaged[batch5 + at] = damaged[batch5 + at]! ^ 0x01;
      await writeFile(segment!, damaged);
      const error = await openFails();
      expect(error.file).toBe(segment);
      expect(error.offset).toBe(batch5);
      expect(error.message).toContain(segment);
      expect(error.message).toContain(`byte ${batch5}`);
    }
    // The WAL was not modified by the refused opens.
    await writeFile(segment!, full);
    const { storage, state } = await RaftStorage.open(dir);
    expect(state.entries).toEqual(makeEntries(1, 10));
    await storage.close();
  });

  it('refuses damage at the end of a segment that is not the last one', async () => {
    await writeBatches(30, 1024);
    const segments = await segmentFiles();
    expect(segments.length).toBeGreaterThan(2);
    const sealed = segments[1]!;
    const bytes = await readFile(sealed);
    await writeFile(sealed, bytes.subarray(0, bytes.length - 3));
    const error = await openFails();
    expect(error.file).toBe(sealed);
    expect(error.detail).toMatch(/sealed segment/);
  });

  it('refuses a damaged segment header', async () => {
    await writeBatches(3);
    const [segment] = await segmentFiles();
    const bytes = await readFile(segment!);
    bytes[20] = bytes[20]! ^ 0xff;
    await writeFile(segment!, bytes);
    const error = await openFails();
    expect(error).toMatchObject({ file: segment, offset: 0 });
  });

  it('refuses when a segment in the middle of the log is lost', async () => {
    await writeBatches(30, 1024);
    const segments = await segmentFiles();
    await unlink(segments[1]!);
    const error = await openFails();
    expect(error.file).toBe(segments[2]);
    expect(error.detail).toMatch(/missing/);
  });

  it('removes old segments an interrupted compaction left behind a gap', async () => {
    const { storage } = await RaftStorage.open(dir, { segmentSize: 1024 });
    for (let index = 1; index <= 30; index++) {
      await storage.save({ entries: [makeEntry(index)], hardState: hardStateAt(index) });
    }
    const snapshot: Snapshot = {
      metadata: { index: 30, term: 1, confState: { voters: [1], learners: [] } },
      data: new Uint8Array([1, 2, 3]),
    };
    await storage.save({ snapshot });
    await storage.save({ entries: [makeEntry(31)], hardState: hardStateAt(31) });
    await storage.close();
    // compact(30) deletes the oldest segments first; suppose only the second deletion survived.
    const segments = await segmentFiles();
    expect(segments.length).toBeGreaterThan(3);
    await unlink(segments[1]!);

    const { storage: reopened, state, recovery } = await RaftStorage.open(dir);
    expect(state.snapshot).toEqual(snapshot);
    expect(state.entries).toEqual([makeEntry(31)]);
    expect(recovery.removedFiles).toEqual([segments[0]]);
    await reopened.close();
  });

  it('refuses a damaged or missing snapshot file', async () => {
    const { storage } = await RaftStorage.open(dir);
    await storage.save({ entries: makeEntries(1, 5), hardState: hardStateAt(5) });
    await storage.save({
      snapshot: {
        metadata: { index: 5, term: 1, confState: { voters: [1, 2, 3], learners: [] } },
        data: new Uint8Array(1000).fill(9),
      },
    });
    await storage.close();
    const file = join(dir, 'snapshot-00000000000000000005.snap');
    const bytes = await readFile(file);

    const damaged = Buffer.from(bytes);
    damaged[500] = damaged[500]! ^ 0x10;
    await writeFile(file, damaged);
    expect(await openFails()).toMatchObject({ file, detail: 'snapshot checksum mismatch' });

    await unlink(file);
    expect((await openFails()).detail).toMatch(/missing/);
  });
});
