// The server processes of a benchmark (etcd members, cat-feeder replicas): spawned with their
// output kept for failure messages, killed with SIGKILL, and cleaned up with their temporary
// directories whatever way the runner ends (normal end, exception, Ctrl-C, SIGTERM).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { processCpuSeconds } from './process-cpu.js';

/** Synchronous, so that they can run in the 'exit' handler and after a signal. */
const cleanups = new Set<() => void>();
let handlersInstalled = false;

function runCleanups(): void {
  for (const cleanup of [...cleanups].reverse()) {
    try {
      cleanup();
    } catch {
      // Best effort: one failed cleanup must not keep the others from running.
    }
  }
  cleanups.clear();
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once('exit', runCleanups);
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: killing the benchmark clusters and removing their data`);
      runCleanups();
      process.exit(code);
    });
  }
}

/** Registers a cleanup to run if the runner ends before `release` is called. */
export function onAbnormalExit(cleanup: () => void): () => void {
  installHandlers();
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** Removes a temporary directory when the runner ends, unless it was removed before. */
export function removeOnExit(dir: string): () => void {
  return onAbnormalExit(() => rmSync(dir, { recursive: true, force: true, maxRetries: 3 }));
}

const OUTPUT_LINES = 40;

export class ServerProcess {
  /** The last lines the process wrote, for failure messages. */
  readonly output: string[] = [];
  private readonly exited: Promise<void>;
  private readonly releaseCleanup: () => void;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const keep = (chunk: Buffer) => {
      this.output.push(...chunk.toString().split('\n').filter(Boolean));
      if (this.output.length > OUTPUT_LINES)
        this.output.splice(0, this.output.length - OUTPUT_LINES);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('error', (error) => this.output.push(`spawn failed: ${error.message}`));
    this.releaseCleanup = onAbnormalExit(() => {
      if (this.running) child.kill('SIGKILL');
    });
  }

  static spawn(
    name: string,
    command: string,
    args: readonly string[],
    env: Readonly<Record<string, string>>,
    /** Run as this uid (and gid): lets netfilter tell this process's sockets from the others'. */
    uid?: number,
  ): ServerProcess {
    // The runner's own settings for these servers (etcd reads ETCD_* as flags) would make the
    // report's description of the setup untrue; only `env` configures them.
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !/^(CATMESH|OTEL|ETCD)_/.test(name)),
    );
    const child = spawn(command, args, {
      env: { ...inherited, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(uid === undefined ? {} : { uid, gid: uid }),
    });
    return new ServerProcess(name, child);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Why the process is not running, with its last output; for error messages. */
  describeExit(): string {
    const how =
      this.child.signalCode !== null
        ? `killed by ${this.child.signalCode}`
        : `exited with code ${String(this.child.exitCode)}`;
    return `${this.name} ${how}:\n${this.output.slice(-15).join('\n')}`;
  }

  /** kill -9: no shutdown, nothing flushed beyond what was fsynced. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
    this.releaseCleanup();
  }

  /** SIGTERM, then waits: the process shuts down as it would in production (and writes a --cpu-prof). */
  async stop(): Promise<void> {
    if (this.running) this.child.kill('SIGTERM');
    await this.exited;
    this.releaseCleanup();
  }

  /** CPU time (user + system) the process has used so far; 0 once it is gone. */
  cpuSeconds(): number {
    const pid = this.child.pid;
    return pid === undefined || !this.running ? 0 : processCpuSeconds(pid);
  }

  /** Resident set size (VmRSS in /proc/PID/status) in bytes; 0 once the process is gone. */
  rssBytes(): number {
    const pid = this.child.pid;
    if (pid === undefined || !this.running) return 0;
    try {
      const kib = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      return kib === undefined ? 0 : Number(kib) * 1024;
    } catch {
      return 0;
    }
  }
}

/** Describes the first member that died without being killed on purpose, if any. */
export function unexpectedExit(
  members: readonly ServerProcess[],
  killed: ReadonlySet<number>,
): string | undefined {
  const index = members.findIndex((m, i) => !m.running && !killed.has(i));
  return index < 0 ? undefined : members[index]!.describeExit();
}
