import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { cleanupAtExit } from '../exit-guard.js';

// Runs the processes a test or a local mesh is made of (one per replica, each possibly inside
// its own network namespace), and is the hand that kill and pause faults act through: kill -9
// and restart with the same command line, SIGSTOP and SIGCONT. Each process leads its own
// process group, so signals also reach whatever it started. Nothing is left running or stopped
// when this process ends.

export interface ProcessSpec {
  readonly command: string;
  readonly args?: readonly string[];
  /** Start it inside this named network namespace (`ip netns exec`, which keeps the pid). */
  readonly netns?: string;
  /** The environment of the process; this process's own when absent. */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** `capture` (default) keeps the tail of stdout and stderr for `output()`. */
  readonly output?: 'capture' | 'inherit' | 'ignore';
}

export type ProcessState = 'running' | 'paused' | 'exited';

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Whether the supervisor caused it (kill, stop, restart) rather than the process itself. */
  readonly expected: boolean;
}

export interface ProcessStatus {
  readonly name: string;
  readonly state: ProcessState;
  readonly pid: number | undefined;
  /** 1 for the first start, one more for each restart. */
  readonly incarnation: number;
  readonly lastExit: ProcessExit | undefined;
}

export interface ProcessSupervisorOptions {
  /** How much of each process's output `output()` keeps; 64 KiB. */
  readonly outputLimit?: number;
  /** Called whenever a supervised process ends, expectedly or not. */
  readonly onExit?: (name: string, exit: ProcessExit) => void;
}

interface Supervised {
  readonly spec: ProcessSpec;
  child: ChildProcess | undefined;
  state: ProcessState;
  incarnation: number;
  lastExit: ProcessExit | undefined;
  exited: Promise<ProcessExit>;
  expectingExit: boolean;
  output: string;
}

export class ProcessSupervisor {
  private readonly processes = new Map<string, Supervised>();
  private readonly outputLimit: number;
  private readonly unregister: () => void;
  private closed = false;

  constructor(private readonly options: ProcessSupervisorOptions = {}) {
    this.outputLimit = options.outputLimit ?? 64 * 1024;
    this.unregister = cleanupAtExit(() => this.killAllSync());
  }

  /** Starts a process under `name`; resolves once it is running (spawned). */
  async start(name: string, spec: ProcessSpec): Promise<ProcessStatus> {
    if (this.closed) throw new Error('the process supervisor is closed');
    const existing = this.processes.get(name);
    if (existing && existing.state !== 'exited')
      throw new Error(`process ${name} is already running`);
    const entry: Supervised = {
      spec,
      child: undefined,
      state: 'exited',
      incarnation: existing?.incarnation ?? 0,
      lastExit: existing?.lastExit,
      exited: Promise.resolve({ code: null, signal: null, expected: true }),
      expectingExit: false,
      output: existing?.output ?? '',
    };
    this.processes.set(name, entry);
    await this.launch(name, entry);
    return this.status(name);
  }

  /** Starts the process again with the same command line, killing it first if it runs. */
  async restart(name: string): Promise<ProcessStatus> {
    const entry = this.entry(name);
    if (entry.state !== 'exited') await this.kill(name);
    if (this.closed) throw new Error('the process supervisor is closed');
    await this.launch(name, entry);
    return this.status(name);
  }

  /** Sends `signal` (SIGKILL: kill -9) to the process group and waits for the process to end. */
  async kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<ProcessExit> {
    const entry = this.entry(name);
    if (entry.state === 'exited') return entry.exited;
    entry.expectingExit = true;
    signalGroup(entry, signal);
    // A stopped process cannot act on anything but SIGKILL; let it see the signal.
    if (entry.state === 'paused' && signal !== 'SIGKILL') signalGroup(entry, 'SIGCONT');
    return entry.exited;
  }

  /** SIGTERM, then SIGKILL if it has not ended within `graceMs`. */
  async stop(name: string, graceMs = 5_000): Promise<ProcessExit> {
    const entry = this.entry(name);
    if (entry.state === 'exited') return entry.exited;
    const exited = this.kill(name, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(entry, 'SIGKILL'), graceMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Freezes the process group (SIGSTOP). */
  pause(name: string): void {
    const entry = this.entry(name);
    if (entry.state !== 'running')
      throw new Error(`process ${name} is ${entry.state}, not running`);
    signalGroup(entry, 'SIGSTOP');
    entry.state = 'paused';
  }

  /** Lets a paused process group run again (SIGCONT); does nothing if it is not paused. */
  resume(name: string): void {
    const entry = this.entry(name);
    if (entry.state !== 'paused') return;
    signalGroup(entry, 'SIGCONT');
    entry.state = 'running';
  }

  status(name: string): ProcessStatus {
    const entry = this.entry(name);
    return {
      name,
      state: entry.state,
      pid: entry.state === 'exited' ? undefined : entry.child?.pid,
      incarnation: entry.incarnation,
      lastExit: entry.lastExit,
    };
  }

  /** Resolves when the current incarnation ends. */
  exited(name: string): Promise<ProcessExit> {
    return this.entry(name).exited;
  }

  names(): string[] {
    return [...this.processes.keys()];
  }

  /** The captured tail of the process's stdout and stderr, across restarts. */
  output(name: string): string {
    return this.entry(name).output;
  }

  /** Kills every process (SIGKILL) and waits for them; the supervisor cannot be used after. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.names().map((name) => this.kill(name)));
    this.unregister();
  }

  private entry(name: string): Supervised {
    const entry = this.processes.get(name);
    if (!entry) throw new Error(`no supervised process ${JSON.stringify(name)}`);
    return entry;
  }

  private async launch(name: string, entry: Supervised): Promise<void> {
    const { spec } = entry;
    const args = spec.args ?? [];
    const [file, argv] =
      spec.netns === undefined
        ? [spec.command, [...args]]
        : ['ip', ['netns', 'exec', spec.netns, spec.command, ...args]];
    const mode = spec.output ?? 'capture';
    const stdio = mode === 'capture' ? 'pipe' : mode;
    const child = spawn(file, argv, {
      env: spec.env,
      cwd: spec.cwd,
      detached: true,
      stdio: ['ignore', stdio, stdio],
    });
    const keep = (chunk: Buffer): void => {
      entry.output = (entry.output + chunk.toString()).slice(-this.outputLimit);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    entry.child = child;
    entry.incarnation += 1;
    entry.expectingExit = false;
    let settle: (exit: ProcessExit) => void = () => undefined;
    entry.exited = new Promise((resolve) => (settle = resolve));
    child.once('exit', (code, signal) => {
      const exit: ProcessExit = { code, signal, expected: entry.expectingExit };
      if (entry.child === child) {
        entry.state = 'exited';
        entry.lastExit = exit;
      }
      this.options.onExit?.(name, exit);
      settle(exit);
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => {
        entry.state = 'running';
        resolve();
      });
      // Failing to spawn at all (no such command) emits 'error' and never 'exit'.
      child.once('error', (error) => {
        entry.state = 'exited';
        entry.lastExit = { code: null, signal: null, expected: false };
        settle(entry.lastExit);
        reject(new Error(`cannot start ${name} (${spec.command}): ${error.message}`));
      });
    });
  }

  private killAllSync(): void {
    for (const entry of this.processes.values()) {
      if (entry.state === 'exited') continue;
      entry.expectingExit = true;
      signalGroup(entry, 'SIGCONT');
      signalGroup(entry, 'SIGKILL');
    }
  }
}

function signalGroup(entry: Supervised, signal: NodeJS.Signals): void {
  const pid = entry.child?.pid;
  if (pid === undefined) return;
  try {
    // The negative pid addresses the process group the child leads (it was spawned detached).
    process.kill(-pid, signal);
  } catch {
    // The group is already gone; its 'exit' event is on its way.
  }
}
