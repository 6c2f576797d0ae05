// Where a cat-feeder request's CPU goes: runs one closed-loop cell against a 3-replica cluster
// whose replicas write V8 CPU profiles, then prints, for the leader and a follower, the share of
// their CPU by part of the code (grpc-js, protobuf, the Raft core, storage, ...) and the
// functions with the most self time, each in µs per completed request.
//
//   node --conditions=@catmesh/source --import tsx test/bench/profile-catfeeder.ts \
//     [--op put|get] [--clients 1] [--placement leader|spread] [--duration 5s] [--keep DIR]
//
// The figures of docs/benchmarks.md's "Where a request's time goes" come from this.
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { envTypes } from '@catmesh/runtime';
import { startCatFeeder } from './catfeeder-target.js';
import { runClosedLoop } from './closed-loop.js';
import { markdownTable } from './markdown-table.js';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}
/** The parts of a .cpuprofile (Chrome DevTools' format, as `node --cpu-prof` writes it) used here. */
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  /** µs of the monotonic clock that process.hrtime reads too. */
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Which part of the code a frame belongs to, from its script URL (first match wins). */
const PARTS: readonly (readonly [string, RegExp])[] = [
  ['grpc-js', /node_modules\/@grpc\//],
  ['protobuf', /node_modules\/(protobufjs|@protobufjs)\/|packages\/proto\//],
  ['opentelemetry', /node_modules\/@opentelemetry\//],
  ['logging (pino)', /node_modules\/(pino|sonic-boom|thread-stream)/],
  ['other npm packages', /node_modules\//],
  ['raft core', /packages\/raft\/(dist|src)\/core\//],
  ['raft storage', /packages\/raft\/(dist|src)\/storage\//],
  ['raft transport', /packages\/raft\/(dist|src)\/transport\//],
  ['runtime (interceptors, metrics, faults)', /packages\/(runtime|faults)\//],
  ['cat-feeder service', /services\/cat-feeder\//],
  [
    'node: streams, http2, net',
    /^node:internal\/(streams|http2|net|stream_base)|^node:(net|http2|stream)/,
  ],
  ['node: other', /^node:/],
];

function partOf(frame: CallFrame): string {
  if (frame.url === '') {
    // V8's own pseudo-frames: (garbage collector), (program), (idle), (root).
    return frame.functionName === '(garbage collector)' ? 'garbage collection' : frame.functionName;
  }
  return PARTS.find(([, pattern]) => pattern.test(frame.url))?.[0] ?? 'other';
}

const shortUrl = (url: string) =>
  url.replace(/^file:\/\/.*?\/(node_modules|packages|services)\//, '$1/');

interface Window {
  readonly fromUs: number;
  readonly toUs: number;
}

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

interface SelfTime {
  readonly byPart: Map<string, number>;
  readonly byFunction: Map<string, number>;
  /** µs in frames other than (idle). */
  readonly busyUs: number;
}

/** Self time of the samples taken inside `window` (µs of the monotonic clock). */
function selfTime(profile: CpuProfile, window: Window): SelfTime {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const byPart = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busyUs = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const frame = nodes.get(id);
    const us = profile.timeDeltas[i] ?? 0;
    at += us;
    if (at < window.fromUs || at > window.toUs) return;
    if (!frame || frame.functionName === '(idle)') return;
    busyUs += us;
    const part = partOf(frame);
    byPart.set(part, (byPart.get(part) ?? 0) + us);
    const name = `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  });
  return { byPart, byFunction, busyUs };
}

/** The heaviest `limit` rows, in µs per request and as a share of the replica's busy time. */
function heaviest(
  title: string,
  rows: Map<string, number>,
  busyUs: number,
  ops: number,
  limit: number,
): string {
  const sorted = [...rows].sort((a, b) => b[1] - a[1]).slice(0, limit);
  return markdownTable(
    1,
    [title, 'µs per request', 'share'],
    sorted.map(([name, us]) => [
      name.replaceAll('|', '\\|'),
      (us / ops).toFixed(1),
      `${((us / busyUs) * 100).toFixed(1)}%`,
    ]),
  );
}

const USAGE = `usage: node --conditions=@catmesh/source --import tsx test/bench/profile-catfeeder.ts [options]
  --op put|get            the request (get is a linearizable Get)
  --clients 1             closed-loop clients
  --placement leader      leader: every request to the leader; spread: client i to member i mod 3
  --duration 5s           profiled load (after 1 s of warm-up)
  --top 15                functions listed per replica
  --keep DIR              leave the .cpuprofile files in DIR (open them in Chrome DevTools)`;

async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      op: { type: 'string', default: 'put' },
      clients: { type: 'string', default: '1' },
      placement: { type: 'string', default: 'leader' },
      duration: { type: 'string', default: '5s' },
      top: { type: 'string', default: '15' },
      keep: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const durationMs = envTypes.duration().parse(values.duration);
  const clients = Number(values.clients);
  const top = Number(values.top);
  if (
    values.help ||
    (values.op !== 'put' && values.op !== 'get') ||
    (values.placement !== 'leader' && values.placement !== 'spread') ||
    durationMs === undefined ||
    !Number.isSafeInteger(clients) ||
    clients < 1 ||
    !Number.isSafeInteger(top) ||
    top < 1
  ) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  const profileDir = values.keep ?? (await mkdtemp(join(tmpdir(), 'catmesh-profile-')));
  const target = await startCatFeeder({ channelsPerMember: 8, profileDir });
  let leader: number;
  let result;
  let window: Window;
  const value = randomBytes(64);
  const key = () => `bench/key-${String(randomInt(1000)).padStart(6, '0')}`;
  try {
    leader = await target.waitForLeader(30_000);
    for (let i = 0; i < 1000; i++) await target.put(leader, i % 8, key(), value, 5000);
    const member = (client: number) => (values.placement === 'leader' ? leader : client % 3);
    const startUs = monotonicUs() + 1000_000;
    window = { fromUs: startUs, toUs: startUs + durationMs * 1000 };
    result = await runClosedLoop({
      clients,
      warmupMs: 1000,
      durationMs,
      serverCpuSeconds: () => target.members.reduce((sum, m) => sum + m.cpuSeconds(), 0),
      request: (client) =>
        values.op === 'put'
          ? target.put(member(client), client % 8, key(), value, 5000)
          : target.get(member(client), client % 8, key(), 5000),
    });
  } finally {
    await target.shutdown();
  }
  // Only the samples of the measured window count, so start-up and preload are left out.
  const ops = result.completed;
  console.log(
    `${values.op} to ${values.placement} × ${clients}: ${Math.round(result.opsPerSecond)} ops/s, ` +
      `p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, ` +
      `${result.serverCpuMsPerOp.toFixed(2)} ms server CPU per request (all 3 replicas)\n`,
  );
  const files = (await readdir(profileDir)).filter((f) => f.endsWith('.cpuprofile')).sort();
  for (const file of files) {
    const replica = Number(/replica-(\d+)/.exec(file)?.[1]) - 1;
    const profile = JSON.parse(await readFile(join(profileDir, file), 'utf8')) as CpuProfile;
    const self = selfTime(profile, window);
    const role = replica === leader ? 'leader' : 'follower';
    console.log(
      `## replica ${replica + 1} (${role}): ${(self.busyUs / ops).toFixed(0)} µs of CPU per request\n`,
    );
    console.log(`${heaviest('part', self.byPart, self.busyUs, ops, 20)}\n`);
    console.log(`${heaviest('function (self time)', self.byFunction, self.busyUs, ops, top)}\n`);
  }
  if (values.keep === undefined) await rm(profileDir, { recursive: true, force: true });
  else console.log(`profiles kept in ${profileDir}`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
