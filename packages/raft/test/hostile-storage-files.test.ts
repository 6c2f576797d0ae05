// Random damage to the files of a storage directory, tried by machine. Whatever fast-check does to
// the WAL segments and the snapshot file, opening either refuses with StorageCorruptionError
// (naming the file) or returns state made only of what was saved: never another exception, and
// never a record the damage touched. The hand-written cases in storage-recovery.test.ts say which
// of the two each kind of damage must give; this searches for damage nobody thought of.
import { cp, readdir, readFile, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { propertyRuns } from '@catmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HardState, Snapshot } from '../src/core/types.js';
import { RaftStorage, StorageCorruptionError } from '../src/storage/index.js';
import { makeEntry, tempDir } from './fixtures/storage-entries.js';

const LAST_INDEX = 60;
const SNAPSHOT: Snapshot = {
  metadata: { index: 20, term: 1, confState: { voters: [1, 2, 3], learners: [] } },
  data: new Uint8Array(3000).map((_, i) => (i * 31) % 251),
};
const hardStateAt = (commit: number): HardState => ({ term: 1, vote: 1, commit });

let pristine: string;
let removePristine: () => Promise<void>;
let files: string[];

/** Entries 1..60 one batch each over 1 KiB segments, a snapshot at 20 and compaction through it. */
beforeAll(async () => {
  ({ dir: pristine, remove: removePristine } = await tempDir('hostile-pristine'));
  const { storage } = await RaftStorage.open(pristine, { segmentSize: 1024 });
  for (let index = 1; index <= LAST_INDEX; index++) {
    await storage.save({ entries: [makeEntry(index)], hardState: hardStateAt(index) });
    if (index === SNAPSHOT.metadata.index) {
      await storage.save({ snapshot: SNAPSHOT });
      await storage.compact(SNAPSHOT.metadata.index);
    }
  }
  await storage.close();
  files = (await readdir(pristine)).filter((f) => f.endsWith('.wal') || f.endsWith('.snap'));
  files.sort();
});

afterAll(async () => {
  await removePristine();
});

type Damage =
  | { readonly kind: 'flip'; readonly file: number; readonly at: number; readonly mask: number }
  | {
      readonly kind: 'overwrite';
      readonly file: number;
      readonly at: number;
      readonly bytes: Uint8Array;
    }
  | { readonly kind: 'truncate'; readonly file: number; readonly at: number }
  | { readonly kind: 'delete'; readonly file: number };

const position = fc.nat({ max: 1 << 20 });
const fileChoice = fc.nat({ max: 64 });
const damage: fc.Arbitrary<Damage> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('flip' as const),
      file: fileChoice,
      at: position,
      mask: fc.integer({ min: 1, max: 255 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('overwrite' as const),
      file: fileChoice,
      at: position,
      bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('truncate' as const),
      file: fileChoice,
      at: position,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), file: fileChoice }) },
);

/** Applies the damage to a copy of the pristine directory; positions wrap to the file's size. */
async function damaged(dir: string, damages: readonly Damage[]): Promise<void> {
  await cp(pristine, dir, { recursive: true });
  for (const d of damages) {
    const file = join(dir, files[d.file % files.length]!);
    const size = await stat(file).then(
      (s) => s.size,
      () => undefined,
    );
    if (size === undefined || size === 0) continue; // deleted or emptied by an earlier damage
    if (d.kind === 'delete') {
      await unlink(file);
    } else if (d.kind === 'truncate') {
      await truncate(file, d.at % size);
    } else {
      const bytes = await readFile(file);
      const at = d.at % size;
      if (d.kind === 'flip') bytes[at] = bytes[at]! ^ d.mask;
      else bytes.set(d.bytes.subarray(0, size - at), at);
      await writeFile(file, bytes);
    }
  }
}

describe('storage files under random damage', () => {
  it('opening refuses with the named corruption error or returns only what was saved', async () => {
    const { dir: scratch, remove } = await tempDir('hostile');
    let refused = 0;
    let opened = 0;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(damage, { minLength: 1, maxLength: 3 }), async (damages) => {
          const dir = join(scratch, 'case');
          await rm(dir, { recursive: true, force: true });
          await damaged(dir, damages);
          let result;
          try {
            result = await RaftStorage.open(dir);
          } catch (error) {
            // Anything else (a RangeError from a garbage length, a TypeError) fails the property.
            expect(error).toBeInstanceOf(StorageCorruptionError);
            expect((error as StorageCorruptionError).file.startsWith(dir)).toBe(true);
            refused += 1;
            return;
          }
          const { storage, state } = result;
          await storage.close();
          opened += 1;
          if (state.snapshot) expect(state.snapshot).toEqual(SNAPSHOT);
          const first = state.snapshot ? state.snapshot.metadata.index + 1 : 1;
          state.entries.forEach((entry, i) => expect(entry).toEqual(makeEntry(first + i)));
          expect(first + state.entries.length - 1).toBeLessThanOrEqual(LAST_INDEX);
          const { commit } = state.hardState;
          if (commit > 0) expect(state.hardState).toEqual(hardStateAt(commit));
        }),
        propertyRuns(150),
      );
    } finally {
      await remove();
    }
    // Both outcomes were reached, or the property says little about one of them.
    expect(refused).toBeGreaterThan(0);
    expect(opened).toBeGreaterThan(0);
  }, 120_000);
});
