// The whole mesh as a user starts it: `catmesh up` (the built CLI) in a process of its own, with
// a fresh state directory and a port base of its own, tracing switched as the user would switch
// it. What a benchmark needs beside: where orders and inventory listen, and the CPU each
// instance has used, read from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DashboardSnapshot } from '../../services/dashboard/src/dashboard-snapshot.js';
import { address } from '../../packages/cli/src/local-mesh/mesh-instances.js';
import {
  readManifest,
  type MeshManifest,
} from '../../packages/cli/src/local-mesh/mesh-manifest.js';
import { readPidFile } from '../../packages/cli/src/local-mesh/pid-files.js';
import { READY_LINE_START } from '../../packages/cli/src/local-mesh/ready-summary.js';
import { StateDir } from '../../packages/cli/src/local-mesh/state-dir.js';
import { processCpuSeconds } from './process-cpu.js';
import { onAbnormalExit } from './server-process.js';

const CATMESH_BIN = fileURLToPath(
  new URL('../../packages/cli/dist/bin/catmesh.js', import.meta.url),
);
/** `catmesh up` waits up to 60 s for each instance; a whole mesh gets a little more. */
const START_TIMEOUT_MS = 120_000;

export interface LocalMeshOptions {
  readonly portBase: number;
  /**
   * On: `catmesh up` with no OTEL_* variable, so every service exports its spans to the
   * dashboard's OTLP/HTTP JSON receiver. Off: OTEL_SDK_DISABLED=true for every service.
   */
  readonly tracing: boolean;
}

export interface MeshInstanceProcess {
  readonly name: string;
  readonly service: string;
  readonly pid: number;
}

export class LocalMesh {
  private constructor(
    private readonly runner: ChildProcess,
    private readonly exited: Promise<void>,
    private readonly stateRoot: string,
    private readonly forgetRunner: () => void,
    readonly manifest: MeshManifest,
    readonly instances: readonly MeshInstanceProcess[],
  ) {}

  static async start(options: LocalMeshOptions): Promise<LocalMesh> {
    const root = await mkdtemp(join(tmpdir(), 'catmesh-bench-'));
    // The user's shell as `catmesh up` would see it: none of this process's CATMESH_* or OTEL_*.
    const env = {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '',
      ...(!options.tracing && { OTEL_SDK_DISABLED: 'true' }),
    };
    const args = ['up', '--state-dir', root, '--port-base', String(options.portBase)];
    const runner = spawn(process.execPath, [CATMESH_BIN, ...args, '--fresh', '--no-loadgen'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<void>((resolve) => runner.once('close', () => resolve()));
    // SIGTERM is a stop request: the runner stops every instance, as on Ctrl-C.
    const forgetRunner = onAbnormalExit(() => runner.kill('SIGTERM'));
    let output = '';
    const keep = (chunk: Buffer) => (output += chunk.toString());
    runner.stdout.on('data', keep);
    runner.stderr.on('data', keep);
    try {
      await untilReady(runner, () => output, exited);
      const state = new StateDir(root);
      const manifest = await readManifest(state);
      if (!manifest) throw new Error(`no mesh.json in ${root}`);
      const instances = await Promise.all(
        manifest.instances.map(async ({ name, service }) => {
          const pid = (await readPidFile(state, name))?.record?.pid;
          if (pid === undefined) throw new Error(`no pid file for ${name}`);
          return { name, service, pid };
        }),
      );
      return new LocalMesh(runner, exited, root, forgetRunner, manifest, instances);
    } catch (error) {
      runner.kill('SIGTERM');
      await exited;
      forgetRunner();
      throw new Error(
        `catmesh up ${args.join(' ')}: ${(error as Error).message}\n${output.trimEnd()}`,
      );
    }
  }

  /** `127.0.0.1:port` of the first instance of `service`. */
  addressOf(service: string): string {
    const found = this.manifest.instances.find((instance) => instance.service === service);
    if (!found) throw new Error(`the mesh has no ${service}`);
    return address(found.ports);
  }

  /** CPU seconds (user + system) each instance has used so far, by instance name. */
  cpuSeconds(): Map<string, number> {
    return new Map(this.instances.map(({ name, pid }) => [name, processCpuSeconds(pid)]));
  }

  /**
   * The newest orders (15 at most) whose traces the dashboard's OTLP receiver holds whole, with
   * the spans of each: proof that tracing on means spans recorded, exported and received.
   */
  async orderTraces(): Promise<DashboardSnapshot['orders']> {
    const response = await fetch(`http://${this.addressOf('dashboard')}/api/snapshot`);
    if (!response.ok) throw new Error(`the dashboard's snapshot: HTTP ${response.status}`);
    return ((await response.json()) as DashboardSnapshot).orders;
  }

  /** Stops the mesh as Ctrl-C does, waits for the runner to end, and removes its state. */
  async stop(): Promise<void> {
    this.runner.kill('SIGINT');
    await this.exited;
    this.forgetRunner();
    await rm(this.stateRoot, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** Resolves once the runner prints that the mesh is ready; rejects if it ends or takes too long. */
function untilReady(
  runner: ChildProcess,
  output: () => string,
  exited: Promise<void>,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!output().includes(READY_LINE_START)) return;
      done();
      resolve();
    };
    const done = () => {
      clearTimeout(timer);
      runner.stdout!.off('data', check);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`not ready after ${START_TIMEOUT_MS / 1000} s`));
    }, START_TIMEOUT_MS);
    runner.stdout!.on('data', check);
    void exited.then(() => {
      done();
      reject(new Error(`exited with code ${String(runner.exitCode)} before it was ready`));
    });
  });
}
