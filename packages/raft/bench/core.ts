// Throughput of the pure Raft core: a 3-replica cluster in memory, no I/O, every message delivered
// synchronously through the Ready loop. The leader proposes batches; the figure is entries
// committed per second (the leader's commit index), for several payload and batch sizes. Payloads
// travel by reference (nothing copies or writes them), so MB/s shows what the core's own work
// would allow, not what a disk or network would.
//
//   node --conditions=@catmesh/source --import tsx packages/raft/bench/core.ts
import { RaftNode, type Message, type NodeId, type RaftConfig } from '../src/core/index.js';

const VOTERS: readonly NodeId[] = [1, 2, 3];
const PAYLOADS = [16, 256, 4096];
const BATCHES = [1, 16, 256];
/** Each run proposes until this many entries are committed (fewer for one-entry batches). */
const ENTRIES = 1_000_000;
const ENTRIES_UNBATCHED = 200_000;
/** Logs are compacted every this many entries, as an application would. */
const COMPACT_EVERY = 10_000;

const CONFIG: Omit<RaftConfig, 'id' | 'random'> = {
  electionTick: 10,
  heartbeatTick: 1,
  preVote: true,
  checkQuorum: true,
  maxInflightMsgs: 256,
  maxEntriesPerMsg: 1024,
  maxBytesPerMsg: 1024 * 1024,
  readOnly: 'safe',
};

class Cluster {
  readonly nodes = new Map<NodeId, RaftNode>();
  private queue: Message[] = [];
  messages = 0;
  persistedEntries = 0;

  constructor() {
    let seed = 1;
    for (const id of VOTERS) {
      const s = seed++;
      this.nodes.set(
        id,
        new RaftNode({
          ...CONFIG,
          id,
          random: () => (s * 0.37) % 1,
          bootstrap: { voters: VOTERS, learners: [] },
        }),
      );
    }
  }

  /** Persists (counts), sends and applies every Ready until no message is left. */
  pump(): void {
    for (;;) {
      for (const n of this.nodes.values()) {
        while (n.hasReady()) {
          const ready = n.ready();
          this.persistedEntries += ready.entries.length;
          for (const m of ready.messages) this.queue.push(m);
          n.advance(ready);
        }
      }
      if (this.queue.length === 0) return;
      const batch = this.queue;
      this.queue = [];
      this.messages += batch.length;
      for (const m of batch) this.nodes.get(m.to)!.step(m);
    }
  }

  elect(id: NodeId): RaftNode {
    const n = this.nodes.get(id)!;
    while (n.role !== 'leader') {
      n.tick();
      this.pump();
    }
    return n;
  }

  compact(): void {
    for (const n of this.nodes.values()) {
      const { applied, firstIndex } = n.status();
      if (applied >= firstIndex) n.compact(applied, new Uint8Array(0));
    }
  }
}

function run(
  payload: number,
  batch: number,
): { entries: number; seconds: number; messages: number } {
  const cluster = new Cluster();
  const leader = cluster.elect(1);
  const data = new Uint8Array(payload).fill(7);
  const commands = Array.from({ length: batch }, () => data);
  const target = batch === 1 ? ENTRIES_UNBATCHED : ENTRIES;
  const first = leader.commitIndex;
  const messagesBefore = cluster.messages;
  let nextCompaction = first + COMPACT_EVERY;
  const began = performance.now();
  while (leader.commitIndex - first < target) {
    const result = batch === 1 ? leader.propose(data) : leader.proposeBatch(commands);
    if (!result.ok) throw new Error(`proposal refused: ${result.reason}`);
    cluster.pump();
    if (leader.commitIndex >= nextCompaction) {
      cluster.compact();
      nextCompaction += COMPACT_EVERY;
    }
  }
  const seconds = (performance.now() - began) / 1000;
  return {
    entries: leader.commitIndex - first,
    seconds,
    messages: cluster.messages - messagesBefore,
  };
}

function pad(value: string | number, width: number): string {
  return String(value).padStart(width);
}

console.log('Raft core throughput: 3 voters in memory, synchronous Ready loop, no I/O');
console.log(`node ${process.version}, ${process.arch}; config ${JSON.stringify(CONFIG)}`);
console.log(
  `runs: ${ENTRIES} committed entries per batched run, ${ENTRIES_UNBATCHED} unbatched; ` +
    `logs compacted every ${COMPACT_EVERY} entries`,
);
console.log('');
console.log(
  `${pad('payload B', 10)} ${pad('batch', 6)} ${pad('entries', 9)} ${pad('seconds', 8)} ${pad('entries/s', 11)} ${pad('MB/s', 8)} ${pad('msgs/entry', 11)}`,
);
// One short run first so that the JIT has compiled the hot paths before anything is measured.
run(16, 16);
for (const payload of PAYLOADS) {
  for (const batch of BATCHES) {
    const r = run(payload, batch);
    const rate = r.entries / r.seconds;
    console.log(
      `${pad(payload, 10)} ${pad(batch, 6)} ${pad(r.entries, 9)} ${pad(r.seconds.toFixed(2), 8)} ` +
        `${pad(Math.round(rate).toLocaleString('en-US'), 11)} ${pad(((rate * payload) / 1e6).toFixed(1), 8)} ` +
        `${pad((r.messages / r.entries).toFixed(2), 11)}`,
    );
  }
}
