// What the `app` fault mechanism costs when no fault is in force: cat-feeder puts with the fault
// gate in place (CATMESH_FAULT_ADMIN=on, the default) and without it (off), side by side, the
// same closed-loop client for each, rounds alternating which goes first. Prints both figures.
//
//   node --conditions=@catmesh/source --import tsx test/bench/fault-gate-overhead.ts \
//     [--duration 5s] [--clients 16] [--rounds 2]
import { randomBytes, randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { startCatFeeder } from './catfeeder-target.js';
import { runClosedLoop, type ClosedLoopResult } from './closed-loop.js';

const REQUEST_TIMEOUT_MS = 5000;
const LEADER_TIMEOUT_MS = 30_000;
const CHANNELS_PER_MEMBER = 4;
const KEYS = 1000;

type Mode = 'on' | 'off';

function seconds(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)s$/.exec(text);
  if (!match) throw new Error(`--${flag}: expected seconds such as 5s, got ${text}`);
  return Number(match[1]) * 1000;
}

function positive(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new Error(`--${flag}: expected a positive integer, got ${text}`);
  }
  return value;
}

async function measure(mode: Mode, clients: number, durationMs: number): Promise<ClosedLoopResult> {
  const target = await startCatFeeder({ channelsPerMember: CHANNELS_PER_MEMBER, faultAdmin: mode });
  try {
    const leader = await target.waitForLeader(LEADER_TIMEOUT_MS);
    const value = randomBytes(64);
    return await runClosedLoop({
      clients,
      warmupMs: Math.min(2000, durationMs / 2),
      durationMs,
      serverCpuSeconds: () => target.members.reduce((sum, m) => sum + m.cpuSeconds(), 0),
      request: (client) =>
        target.put(
          leader,
          client % CHANNELS_PER_MEMBER,
          `bench/key-${randomInt(KEYS)}`,
          value,
          REQUEST_TIMEOUT_MS,
        ),
    });
  } finally {
    await target.shutdown();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '5s' },
      clients: { type: 'string', default: '16' },
      rounds: { type: 'string', default: '2' },
    },
  });
  const durationMs = seconds(values.duration, 'duration');
  const clients = positive(values.clients, 'clients');
  const rounds = positive(values.rounds, 'rounds');
  const results: Record<Mode, ClosedLoopResult[]> = { on: [], off: [] };
  for (let round = 1; round <= rounds; round++) {
    const order: Mode[] = round % 2 === 1 ? ['on', 'off'] : ['off', 'on'];
    for (const mode of order) {
      const result = await measure(mode, clients, durationMs);
      results[mode].push(result);
      console.log(
        `round ${round}: fault gate ${mode}: ${Math.round(result.opsPerSecond)} puts/s, ` +
          `p50 ${result.p50Ms.toFixed(3)} ms, p99 ${result.p99Ms.toFixed(2)} ms, ${result.errors} errors`,
      );
    }
  }
  const mean = (mode: Mode, pick: (r: ClosedLoopResult) => number) =>
    results[mode].reduce((sum, r) => sum + pick(r), 0) / results[mode].length;
  const [onOps, offOps] = [mean('on', (r) => r.opsPerSecond), mean('off', (r) => r.opsPerSecond)];
  const [onP50, offP50] = [mean('on', (r) => r.p50Ms), mean('off', (r) => r.p50Ms)];
  console.log('');
  console.log(`| cat-feeder puts × ${clients} clients | puts/s | p50 ms |`);
  console.log('| --- | ---: | ---: |');
  console.log(
    `| fault gate on, no fault (CATMESH_FAULT_ADMIN=on) | ${Math.round(onOps)} | ${onP50.toFixed(3)} |`,
  );
  console.log(
    `| no fault gate (CATMESH_FAULT_ADMIN=off) | ${Math.round(offOps)} | ${offP50.toFixed(3)} |`,
  );
  console.log(
    `| difference | ${(((onOps - offOps) / offOps) * 100).toFixed(1)} % | ${(onP50 - offP50).toFixed(3)} |`,
  );
}

main().catch((error: unknown) => {
  console.error(`fault-gate-overhead: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
