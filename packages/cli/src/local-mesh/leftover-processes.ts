import { dependentsOf, inDependencyOrder } from './dependency-order.js';
import { STOP_TIMEOUT_MS } from './instance-environment.js';
import { readManifest } from './mesh-manifest.js';
import { isOurLiveProcess, readPidFiles, removePidFile, type PidFile } from './pid-files.js';
import { RUNNER_PID_NAME, WATCHDOG_PID_NAME, type StateDir } from './state-dir.js';
import { stopProcessGroup, type StopOutcome } from './stop-process-group.js';

export interface StoppedLeftover {
  readonly name: string;
  readonly pid: number;
  readonly outcome: StopOutcome;
}

/**
 * Stops what a runner that is gone (kill -9, a crash, a closed laptop) left running from this
 * state directory: every pid file's process that is still ours (pid-files.ts checks its
 * command line and environment, so a pid the OS has reused is never touched) has its process
 * group stopped, dependents before what they depend on, the way the runner would have. Pid
 * files of processes that are gone are removed. The runner's own pid file is the caller's:
 * call this only when the runner is known to be gone. `self` is the caller's own pid file
 * name, when it has one (the watchdog).
 */
export async function stopLeftoverProcesses(
  state: StateDir,
  self?: string,
): Promise<StoppedLeftover[]> {
  const live: PidFile[] = [];
  for (const file of await readPidFiles(state)) {
    if (file.name === RUNNER_PID_NAME || file.name === self) continue;
    if (await isOurLiveProcess(file.record, state)) live.push(file);
    else await removePidFile(state, file.name);
  }
  if (live.length === 0) return [];
  const manifest = await readManifest(state).catch(() => undefined);
  const instances = live.map((file) => ({
    file,
    name: file.name,
    dependsOn: manifest?.instances.find((instance) => instance.name === file.name)?.dependsOn ?? [],
  }));
  const stopped: StoppedLeftover[] = [];
  const stop = async ({ file }: (typeof instances)[number]): Promise<void> => {
    const pid = file.record!.pid;
    const outcome = await stopProcessGroup(pid, STOP_TIMEOUT_MS);
    await removePidFile(state, file.name);
    stopped.push({ name: file.name, pid, outcome });
  };
  // The watchdog first: it would otherwise start the same cleanup at the same time.
  const watchdog = instances.find((instance) => instance.name === WATCHDOG_PID_NAME);
  if (watchdog) await stop(watchdog);
  const rest = instances.filter((instance) => instance !== watchdog);
  await inDependencyOrder(rest, (instance) => dependentsOf(rest, instance), stop);
  return stopped;
}
