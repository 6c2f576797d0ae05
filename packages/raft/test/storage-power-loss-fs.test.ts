// The power-loss file layer on its own: what rollBackUnsynced takes away, and what it keeps.
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PowerLossJournalFs, rollBackUnsynced } from '../src/storage/index.js';
import { tempDir } from './fixtures/storage-entries.js';

let root: string;
let data: string;
let journal: string;
let removeDir: () => Promise<void>;

beforeEach(async () => {
  ({ dir: root, remove: removeDir } = await tempDir('power-loss-fs'));
  data = join(root, 'data');
  journal = join(root, 'journal');
});

afterEach(async () => {
  await removeDir();
});

const text = (s: string) => Buffer.from(s);

/** A durable file `name` holding `contents`, made through a journal that is then rolled back. */
async function durableFile(name: string, contents: string): Promise<void> {
  const fs = new PowerLossJournalFs(journal);
  await fs.mkdirs(data);
  await fs.syncDirectory(root);
  const file = await fs.open(join(data, name), 'w+');
  await file.write(text(contents), 0, contents.length, 0);
  await file.datasync();
  await file.close();
  await fs.syncDirectory(data);
  expect((await rollBackUnsynced(journal)).undone).toEqual([]);
}

describe('power-loss journal', () => {
  it('loses a file whose directory was not fsynced, even with its data synced', async () => {
    const fs = new PowerLossJournalFs(journal);
    await fs.mkdirs(data);
    await fs.syncDirectory(root);
    const file = await fs.open(join(data, 'a'), 'w+');
    await file.write(text('hello'), 0, 5, 0);
    await file.datasync();
    await file.close();
    const { undone } = await rollBackUnsynced(journal);
    expect(undone).toEqual([`create ${join(data, 'a')}`]);
    expect(existsSync(join(data, 'a'))).toBe(false);
    expect(existsSync(data)).toBe(true);
  });

  it('loses the directories mkdirs created when their parent was not fsynced', async () => {
    const fs = new PowerLossJournalFs(journal);
    await fs.mkdirs(join(data, 'deep'));
    await rollBackUnsynced(journal);
    expect(existsSync(data)).toBe(false);
  });

  it('keeps data up to the last datasync and cuts what was written after it', async () => {
    await durableFile('a', 'synced');
    const fs = new PowerLossJournalFs(journal);
    const file = await fs.open(join(data, 'a'), 'r+');
    await file.write(text(' more'), 0, 5, 6);
    await file.datasync();
    await file.write(text('XY'), 0, 2, 0); // an overwrite, then an append, neither synced
    await file.write(text(' lost'), 0, 5, 11);
    await file.close();
    await rollBackUnsynced(journal);
    expect(await readFile(join(data, 'a'), 'utf8')).toBe('synced more');
  });

  it('undoes an unsynced truncate', async () => {
    await durableFile('a', 'keep all of this');
    const fs = new PowerLossJournalFs(journal);
    const file = await fs.open(join(data, 'a'), 'r+');
    await file.truncate(4);
    expect((await stat(join(data, 'a'))).size).toBe(4);
    await file.close();
    await rollBackUnsynced(journal);
    expect(await readFile(join(data, 'a'), 'utf8')).toBe('keep all of this');
  });

  it('undoes a rename, and the file it replaced comes back, until the directory is fsynced', async () => {
    await durableFile('old', 'old contents');
    await durableFile('new.tmp', 'new contents');
    const fs = new PowerLossJournalFs(journal);
    await fs.rename(join(data, 'new.tmp'), join(data, 'old'));
    await rollBackUnsynced(journal);
    expect(await readFile(join(data, 'old'), 'utf8')).toBe('old contents');
    expect(await readFile(join(data, 'new.tmp'), 'utf8')).toBe('new contents');

    const again = new PowerLossJournalFs(journal);
    await again.rename(join(data, 'new.tmp'), join(data, 'old'));
    await again.syncDirectory(data);
    expect((await rollBackUnsynced(journal)).undone).toEqual([]);
    expect(await readFile(join(data, 'old'), 'utf8')).toBe('new contents');
    expect(existsSync(join(data, 'new.tmp'))).toBe(false);
  });

  it('brings back an unlinked file until the directory is fsynced', async () => {
    await durableFile('a', 'still here');
    const fs = new PowerLossJournalFs(journal);
    await fs.unlink(join(data, 'a'));
    await rollBackUnsynced(journal);
    expect(await readFile(join(data, 'a'), 'utf8')).toBe('still here');

    const again = new PowerLossJournalFs(journal);
    await again.unlink(join(data, 'a'));
    await again.syncDirectory(data);
    await rollBackUnsynced(journal);
    expect(existsSync(join(data, 'a'))).toBe(false);
  });

  it('goes on after a kill without power loss: a later datasync of the file covers the earlier writes', async () => {
    await durableFile('a', 'one');
    const first = new PowerLossJournalFs(journal);
    const before = await first.open(join(data, 'a'), 'r+');
    await before.write(text(' two'), 0, 4, 3);
    // The process dies here (kill -9: the page cache keeps ' two'); the next one reopens.
    const second = new PowerLossJournalFs(journal);
    const after = await second.open(join(data, 'a'), 'r+');
    await after.write(text(' three'), 0, 6, 7);
    await Promise.all([before.close(), after.close()]);
    await rollBackUnsynced(journal);
    expect(await readFile(join(data, 'a'), 'utf8')).toBe('one');

    const third = new PowerLossJournalFs(journal);
    const file = await third.open(join(data, 'a'), 'r+');
    await file.write(text(' two'), 0, 4, 3);
    const fourth = new PowerLossJournalFs(journal);
    const synced = await fourth.open(join(data, 'a'), 'r+');
    await synced.datasync();
    await Promise.all([file.close(), synced.close()]);
    await rollBackUnsynced(journal);
    expect(await readFile(join(data, 'a'), 'utf8')).toBe('one two');
  });

  it('empties the journal once nothing is outstanding', async () => {
    await durableFile('a', 'x');
    const fs = new PowerLossJournalFs(journal);
    const file = await fs.open(join(data, 'a'), 'r+');
    await file.write(text('yz'), 0, 2, 1);
    expect((await stat(join(journal, 'undo.jsonl'))).size).toBeGreaterThan(0);
    await file.datasync();
    await file.close();
    expect((await stat(join(journal, 'undo.jsonl'))).size).toBe(0);
  });

  it('rolling back without a journal changes nothing', async () => {
    await writeFile(join(root, 'untouched'), 'x');
    expect(await rollBackUnsynced(journal)).toEqual({ undone: [] });
    expect(await readFile(join(root, 'untouched'), 'utf8')).toBe('x');
  });
});
