import { mkdir, rm } from 'node:fs/promises';
import { oneLine } from '../cli-errors.js';
import type { CliIo, OutputStream } from '../cli-io.js';
import { ExitCode } from '../exit-codes.js';
import { decideTraceExport } from './instance-environment.js';
import type { InstanceSpec } from './instance-spec.js';
import { stopLeftoverProcesses } from './leftover-processes.js';
import { lastLines } from './log-tail.js';
import { manifestInstance, writeManifest } from './mesh-manifest.js';
import { address, MESH_HOST, meshInstances } from './mesh-instances.js';
import { LEADER_STEP, MeshRunner } from './mesh-runner.js';
import { missingRequirements } from './missing-requirements.js';
import { describeTakenPorts, type WantedPort } from './port-availability.js';
import { planPorts, type ReplicaCount } from './port-plan.js';
import { ProcessFaults } from './process-faults.js';
import { renderNetworkRules } from './network-rules-file.js';
import { readySummary } from './ready-summary.js';
import { seedCatState } from './seed-cat-state.js';
import { serveRunnerControl } from './runner-control-server.js';
import { acquireRunnerLock, releaseRunnerLock } from './runner-lock.js';
import { faultReports, restartReports } from './runner-reports.js';
import { startWatchdog } from './runner-watchdog.js';
import { createStartProgress } from './start-progress.js';
import { DEFAULT_STATE_DIR, type StateDir } from './state-dir.js';
import { StopRequests } from './stop-requests.js';

/** Lines of a failed instance's log shown when the mesh cannot start. */
const FAILURE_LOG_LINES = 20;

export interface LocalMeshOptions {
  readonly state: StateDir;
  /** --state-dir as given, to repeat in the commands `up` suggests. */
  readonly stateDirArgument: string;
  readonly replicas: ReplicaCount;
  readonly portBase: number;
  readonly fresh: boolean;
  readonly loadgen: boolean;
  readonly dashboard: boolean;
}

/**
 * `catmesh up` from start to end: take the state directory, stop what an earlier runner left,
 * check the machine, start the mesh, say where everything is, wait for a stop request, stop
 * the mesh. Resolves with the exit code: 0 after a requested stop, 1 when the mesh could not
 * start (it is then stopped again), 130 when a stop was requested before it was ready.
 */
export async function runLocalMesh(io: CliIo, options: LocalMeshOptions): Promise<number> {
  const { state } = options;
  const stop = new StopRequests(io);
  try {
    await mkdir(state.root, { recursive: true });
    const lock = await acquireRunnerLock(state);
    if (lock.heldBy !== undefined) {
      io.stderr.write(
        `catmesh: a mesh is already running from ${state.root} (runner pid ${lock.heldBy}); stop it with \`catmesh down${stateFlag(options)}\`\n`,
      );
      return ExitCode.negative;
    }
    try {
      return await prepareAndRun(io, options, stop);
    } finally {
      await releaseRunnerLock(state);
    }
  } finally {
    stop.dispose();
  }
}

async function prepareAndRun(
  io: CliIo,
  options: LocalMeshOptions,
  stop: StopRequests,
): Promise<number> {
  const { state } = options;
  const leftovers = await stopLeftoverProcesses(state);
  if (leftovers.length > 0) {
    const list = leftovers.map(({ name, pid }) => `${name} (pid ${pid})`).join(', ');
    io.stdout.write(
      `catmesh: stopped ${leftovers.length} processes an earlier catmesh up left running: ${list}\n`,
    );
  }
  if (options.fresh) {
    await rm(state.dataDir, { recursive: true, force: true });
    io.stdout.write(`catmesh: --fresh: removed ${state.dataDir}\n`);
  }
  const plan = planPorts(options.portBase, options.replicas);
  const instances = meshInstances({
    plan,
    state,
    loadgen: options.loadgen,
    dashboard: options.dashboard,
  });
  const problems = [
    ...(await missingRequirements(instances, io.env['PATH'])),
    ...(await takenPorts(instances)),
  ];
  if (problems.length > 0) {
    io.stderr.write(`catmesh: cannot start the mesh:\n${problems.map((p) => `  ${p}\n`).join('')}`);
    if (problems.some((problem) => problem.startsWith('port '))) {
      io.stderr.write(
        `Stop what holds them, or move every port of the mesh with --port-base (now ${options.portBase}).\n`,
      );
    }
    return ExitCode.negative;
  }
  if (options.dashboard) {
    // Beside the start, not before it (helm takes a while on a busy machine): the dashboard
    // reads the file once it is there.
    void renderNetworkRules(state).then((why) => {
      if (why) io.stdout.write(`catmesh: the dashboard's network rules stay empty: ${why}\n`);
    });
  }
  const traces = decideTraceExport(
    io.env,
    options.dashboard ? `http://${MESH_HOST}:${plan.dashboard.main}` : undefined,
  );
  await writeManifest(state, {
    portBase: options.portBase,
    replicas: options.replicas,
    startedAt: new Date().toISOString(),
    traces: traces.endpoint
      ? { enabled: traces.enabled, endpoint: traces.endpoint }
      : { enabled: traces.enabled },
    instances: instances.map(manifestInstance),
  });
  const watchdog = await startWatchdog(state, io.env);
  const runner = new MeshRunner({
    state,
    instances,
    userEnv: io.env,
    traces,
    stopSignal: stop.signal,
    restartEvents: restartReports(io.stdout, state),
  });
  stop.onInsist(() => {
    io.stderr.write('catmesh: asked again: killing every instance now (SIGKILL)\n');
    runner.kill();
  });
  try {
    return await startAndServe(io, options, instances, runner, stop, traces);
  } finally {
    // After an error too: nothing this runner started outlives it.
    await runner.stop(() => undefined);
    await watchdog.dismiss();
  }
}

async function startAndServe(
  io: CliIo,
  options: LocalMeshOptions,
  instances: readonly InstanceSpec[],
  runner: MeshRunner,
  stop: StopRequests,
  traces: ReturnType<typeof decideTraceExport>,
): Promise<number> {
  const { state } = options;
  io.stdout.write(
    `catmesh up: ${options.replicas} cat-feeder replicas, ports from ${options.portBase}, state in ${state.root}\n`,
  );
  const began = Date.now();
  const progress = createStartProgress(io.stdout, [
    ...instances.map((spec) => spec.name),
    ...(instances.some((spec) => spec.service === 'cat-feeder') ? [LEADER_STEP] : []),
  ]);
  const result = await runner.start(progress);
  progress.end();
  if (result.kind === 'failed') {
    const { failure } = result;
    io.stderr.write(`catmesh: the mesh did not start: ${failure.message}\n`);
    if (failure.instance !== undefined) {
      const log = state.log(failure.instance);
      const lines = await lastLines(log, FAILURE_LOG_LINES);
      io.stderr.write(
        lines.length === 0
          ? `(${log} is empty)\n`
          : `The last ${lines.length} lines of ${log}:\n${lines.map((line) => `  ${line}\n`).join('')}`,
      );
    }
    await stopMesh(runner, io.stdout);
    return ExitCode.negative;
  }
  if (result.kind === 'interrupted') {
    io.stdout.write(
      `catmesh: ${stop.reason ?? 'stop requested'} before the mesh was ready; stopping\n`,
    );
    await stopMesh(runner, io.stdout);
    return ExitCode.interrupted;
  }
  const replicas = instances.filter((spec) => spec.service === 'cat-feeder');
  if (replicas.length > 0) {
    await seedCatState(
      replicas.map((spec) => address(spec.ports)),
      stop.signal,
    ).catch((error: unknown) => {
      // The mesh is up; a cat without a state yet is no reason to stop it.
      io.stderr.write(`catmesh: could not set cat.state: ${describeError(error)}\n`);
    });
  }
  const faults = new ProcessFaults(() => runner.instances, faultReports(io.stdout));
  const control = await serveRunnerControl(state, {
    instances: () => runner.records(),
    faults,
  });
  try {
    await serveUntilStopped(io, options, instances, runner, stop, traces, began);
  } finally {
    // Faults first: a paused instance is continued before anything tries to stop it.
    faults.close();
    await control.close();
  }
  await stopMesh(runner, io.stdout);
  io.stdout.write('catmesh: stopped\n');
  return ExitCode.ok;
}

async function serveUntilStopped(
  io: CliIo,
  options: LocalMeshOptions,
  instances: readonly InstanceSpec[],
  runner: MeshRunner,
  stop: StopRequests,
  traces: ReturnType<typeof decideTraceExport>,
  began: number,
): Promise<void> {
  const { state } = options;
  const pids = new Map(
    [...runner.instances].map(([name, instance]) => [name, instance.process.pid]),
  );
  io.stdout.write(
    readySummary({
      instances,
      pids,
      state,
      stateDirArgument: options.stateDirArgument,
      portBase: options.portBase,
      traces,
      elapsedMs: Date.now() - began,
    }),
  );
  await stopRequested(stop.signal);
  io.stdout.write(`\ncatmesh: ${stop.reason ?? 'stop requested'}: stopping the mesh\n`);
}

async function stopMesh(runner: MeshRunner, out: OutputStream): Promise<void> {
  await runner.stop((spec, outcome, ms) => {
    const seconds = (ms / 1000).toFixed(1);
    if (outcome === 'killed') {
      out.write(`  ${spec.name}: killed (still running ${seconds}s after SIGTERM)\n`);
    } else if (outcome === 'stopped') {
      out.write(`  ${spec.name}: stopped in ${seconds}s\n`);
    }
  });
}

/** Resolves on the first stop request; until then a timer keeps the runner's event loop alive. */
function stopRequested(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const keepAlive = setInterval(() => undefined, 60_000);
    signal.addEventListener(
      'abort',
      () => {
        clearInterval(keepAlive);
        resolve();
      },
      { once: true },
    );
  });
}

async function takenPorts(instances: readonly InstanceSpec[]): Promise<string[]> {
  const wanted: WantedPort[] = instances.flatMap((spec) => {
    const nats = spec.service === 'nats';
    return [
      { port: spec.ports.main, owner: `${spec.name} ${nats ? 'client' : 'gRPC'}` },
      { port: spec.ports.metrics, owner: `${spec.name} ${nats ? 'monitoring' : 'metrics'}` },
      ...(spec.ports.admin === undefined
        ? []
        : [{ port: spec.ports.admin, owner: `${spec.name} fault admin` }]),
    ];
  });
  return describeTakenPorts(MESH_HOST, wanted);
}

function stateFlag({ stateDirArgument }: LocalMeshOptions): string {
  return stateDirArgument === DEFAULT_STATE_DIR ? '' : ` --state-dir ${stateDirArgument}`;
}

function describeError(error: unknown): string {
  return error instanceof Error ? oneLine(error.message) : String(error);
}
