// `catmesh up` as a user runs it: the built executable in a process of its own, with a state
// directory and a port base of its own, so that tests (and engineers) on one machine do not
// collide. Plus what a test needs to judge it: the processes of a mesh, found through /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { vi } from 'vitest';
import { MESH_MARKER_VARIABLE } from '../../src/local-mesh/instance-environment.js';
import { MESH_HOST } from '../../src/local-mesh/mesh-instances.js';
import { describeTakenPorts } from '../../src/local-mesh/port-availability.js';
import { planPorts, type PortPlan } from '../../src/local-mesh/port-plan.js';
import { READY_LINE_START } from '../../src/local-mesh/ready-summary.js';

export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
export const CATMESH_BIN = join(repoRoot, 'packages/cli/dist/bin/catmesh.js');

/** Why `services/<name>` cannot be started (its dist/main.js is what `catmesh up` runs), if so. */
export function unbuiltService(name: string): string | undefined {
  return existsSync(join(repoRoot, `services/${name}/dist/main.js`))
    ? undefined
    : `services/${name} is not built (npx tsc -b tsconfig.build.json)`;
}

/** Fails with what to run when the CLI has not been built: these tests run the real executable. */
export function requireBuiltCli(): void {
  if (!existsSync(CATMESH_BIN)) {
    throw new Error(`${CATMESH_BIN} is missing: run \`npx tsc -b tsconfig.build.json\` first`);
  }
}

export async function tempStateDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'catmesh-up-'));
}

/**
 * A port base whose whole plan is free now, below the ephemeral range (32768 up on Linux), so
 * that no outgoing connection of another test takes one of its ports in the meantime.
 */
export async function freePortBase(replicas: 3 | 5 = 3): Promise<PortPlan> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const base = 10_000 + 100 * Math.floor(Math.random() * 180);
    const plan = planPorts(base, replicas);
    const ports = [
      plan.nats,
      ...plan.catFeeders,
      plan.inventory,
      plan.orders,
      plan.loadgen,
      plan.dashboard,
    ].flatMap((ports) => [
      ports.main,
      ports.metrics,
      ...(ports.admin === undefined ? [] : [ports.admin]),
    ]);
    const taken = await describeTakenPorts(
      MESH_HOST,
      ports.map((port) => ({ port, owner: 'test' })),
    );
    if (taken.length === 0) return plan;
  }
  throw new Error('no free port base found in 50 tries');
}

/** The environment a user's shell would give: no OTEL_* (so traces are off), no NODE_OPTIONS. */
export function userEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...extra };
}

/** A `catmesh` process: its output so far, a wait for a line, and its end. */
export class CatmeshProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  #stdout = '';
  #stderr = '';

  constructor(args: readonly string[], env: Record<string, string> = userEnv()) {
    this.child = spawn(process.execPath, [CATMESH_BIN, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.#stdout += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('close', (code) => resolve(code)));
  }

  get stdout(): string {
    return this.#stdout;
  }

  get stderr(): string {
    return this.#stderr;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves once stdout contains `text`; rejects if the process ends first. */
  async waitFor(text: string): Promise<void> {
    let ended = false;
    void this.exited.then(() => (ended = true));
    await vi.waitFor(
      () => {
        if (!ended && !this.#stdout.includes(text)) throw new Error(`no "${text}" yet`);
      },
      { timeout: 60_000 },
    );
    if (!this.#stdout.includes(text)) {
      throw new Error(
        `catmesh exited before printing "${text}"\n--- stdout\n${this.#stdout}\n--- stderr\n${this.#stderr}`,
      );
    }
  }

  waitForReady(): Promise<void> {
    return this.waitFor(READY_LINE_START);
  }
}

export interface CatmeshRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `catmesh args...` to its end. */
export async function runCatmesh(
  args: readonly string[],
  env?: Record<string, string>,
): Promise<CatmeshRun> {
  const run = new CatmeshProcess(args, env);
  const code = await run.exited;
  return { code, stdout: run.stdout, stderr: run.stderr };
}

/** A live process of a mesh: its pid and command line. */
export interface MeshProcess {
  readonly pid: number;
  readonly commandLine: string;
}

/**
 * Every live process of the mesh of `stateDir`: its command line names the state directory
 * (the runner, nats-server, the watchdog) or its environment carries the mesh marker (every
 * instance). Zombies, which have exited, do not count.
 */
export async function meshProcesses(stateDir: string): Promise<MeshProcess[]> {
  const found: MeshProcess[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const commandLine = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').join(' ');
      const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
      if (
        commandLine.includes(stateDir) ||
        environ.split('\0').includes(`${MESH_MARKER_VARIABLE}=${stateDir}`)
      ) {
        found.push({ pid: Number(entry), commandLine: commandLine.trim() });
      }
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

/** The pid in `<state>/run/<name>.pid`. */
export async function pidFromFile(stateDir: string, name: string): Promise<number> {
  const record = JSON.parse(await readFile(join(stateDir, 'run', `${name}.pid`), 'utf8')) as {
    pid: number;
  };
  return record.pid;
}

/** Stops a runner the way Ctrl-C does, and returns its exit code. */
export async function interrupt(runner: CatmeshProcess): Promise<number | null> {
  runner.child.kill('SIGINT');
  return runner.exited;
}
