// WAL throughput with fsync on: entries/s, fsyncs/s and MB/s for a few entry sizes and numbers
// of concurrent savers. Each saver loops on `save({ entries: [one entry], hardState })` and
// issues its next save when the previous one is durable, like a replica persisting Readys.
//
//   node --conditions=@catmesh/source --import tsx packages/raft/bench/wal.ts [seconds per run]

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { RaftStorage } from '../src/storage/index.js';

const ENTRY_SIZES = [64, 1024];
const CONCURRENCY = [1, 16, 64];
const seconds = Number(process.argv[2] ?? 3);

interface Result {
  entrySize: number;
  savers: number;
  entries: number;
  fsyncs: number;
  bytes: number;
  seconds: number;
  latencies: number[];
}

async function run(entrySize: number, savers: number): Promise<Result> {
  const dir = await mkdtemp(join(tmpdir(), 'catmesh-wal-bench-'));
  try {
    const { storage } = await RaftStorage.open(dir, { fsync: true });
    const data = new Uint8Array(entrySize).fill(0x61);
    const latencies: number[] = [];
    let next = 1;
    const started = performance.now();
    const deadline = started + seconds * 1000;
    await Promise.all(
      Array.from({ length: savers }, async () => {
        while (performance.now() < deadline) {
          const index = next++;
          const t0 = performance.now();
          await storage.save({
            entries: [{ index, term: 1, type: 'normal', data }],
            hardState: { term: 1, vote: 1, commit: index },
          });
          latencies.push(performance.now() - t0);
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    const stats = storage.stats();
    await storage.close();
    return {
      entrySize,
      savers,
      entries: stats.saves,
      fsyncs: stats.fsyncs,
      bytes: stats.bytes,
      seconds: elapsed,
      latencies,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

const rows: string[][] = [
  ['entry', 'savers', 'entries/s', 'fsyncs/s', 'MB/s', 'saves/fsync', 'p50 ms', 'p99 ms'],
];
for (const entrySize of ENTRY_SIZES) {
  for (const savers of CONCURRENCY) {
    const r = await run(entrySize, savers);
    const sorted = r.latencies.sort((a, b) => a - b);
    rows.push([
      `${entrySize} B`,
      String(savers),
      (r.entries / r.seconds).toFixed(0),
      (r.fsyncs / r.seconds).toFixed(0),
      (r.bytes / r.seconds / 1e6).toFixed(2),
      (r.entries / r.fsyncs).toFixed(1),
      percentile(sorted, 0.5).toFixed(2),
      percentile(sorted, 0.99).toFixed(2),
    ]);
  }
}

console.log(
  `WAL benchmark: fsync on, ${seconds} s per run, 64 MiB segments, one entry + hard state per ` +
    `save, temp dir ${tmpdir()}, node ${process.version}`,
);
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
for (const row of rows) console.log(row.map((cell, c) => cell.padStart(widths[c]!)).join('  '));
console.log('MB/s counts WAL bytes written (record headers and padding included).');
