// The cluster id a replica's data belongs to, kept beside the WAL in `cluster-id` (etcd keeps its
// cluster id in the data dir too): a replica started on another group's data can then tell.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DurableFs } from './durable-fs.js';
import { StorageCorruptionError } from './errors.js';

const CLUSTER_ID_FILE = 'cluster-id';

/** Printable, no spaces, short: it travels in a gRPC header. */
const CLUSTER_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Throws a RangeError naming `field` unless `id` can be a cluster id. */
export function checkClusterId(id: string, field = 'cluster id'): void {
  if (!CLUSTER_ID.test(id)) {
    throw new RangeError(`${field} must be 1 to 64 of [A-Za-z0-9._-], got ${JSON.stringify(id)}`);
  }
}

/** The stored cluster id; undefined when the data dir has none (new, or older than cluster ids). */
export async function readClusterIdFile(dir: string): Promise<string | undefined> {
  const file = join(dir, CLUSTER_ID_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const id = text.trim();
  if (!CLUSTER_ID.test(id)) throw new StorageCorruptionError(file, 0, 'not a cluster id');
  return id;
}

export async function writeClusterIdFile(fs: DurableFs, id: string): Promise<void> {
  const handle = await fs.writeAtomically(CLUSTER_ID_FILE, [Buffer.from(`${id}\n`)], 'meta');
  await handle.close();
}
