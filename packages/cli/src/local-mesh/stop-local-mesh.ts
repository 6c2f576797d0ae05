import { setTimeout as sleep } from 'node:timers/promises';
import { STOP_TIMEOUT_MS } from './instance-environment.js';
import { stopLeftoverProcesses, type StoppedLeftover } from './leftover-processes.js';
import { commandLineOf } from './process-identity.js';
import { liveRunnerPid, releaseRunnerLock } from './runner-lock.js';
import type { StateDir } from './state-dir.js';

/**
 * How long a runner may take to stop its mesh after SIGTERM: every instance of the longest
 * dependency chain (nats, cat-feeder, orders, loadgen) may use its whole stop timeout.
 */
const RUNNER_STOP_TIMEOUT_MS = 5 * STOP_TIMEOUT_MS;
const POLL_MS = 100;

export type LocalMeshStop =
  | { readonly kind: 'runner-stopped'; readonly pid: number; readonly leftovers: StoppedLeftover[] }
  | { readonly kind: 'runner-killed'; readonly pid: number; readonly leftovers: StoppedLeftover[] }
  | { readonly kind: 'leftovers'; readonly leftovers: StoppedLeftover[] };

/**
 * `catmesh down`: asks the runner of `state` to stop its mesh (SIGTERM: it stops the
 * instances in order, as on Ctrl-C) and waits for it to exit. If it does not in time, or if
 * there is no runner, whatever is still running from the state directory is stopped here.
 */
export async function stopLocalMesh(state: StateDir): Promise<LocalMeshStop> {
  const pid = await liveRunnerPid(state);
  if (pid === undefined) {
    const leftovers = await stopLeftoverProcesses(state);
    await releaseRunnerLock(state);
    return { kind: 'leftovers', leftovers };
  }
  signal(pid, 'SIGTERM');
  const exited = await runnerExited(pid, RUNNER_STOP_TIMEOUT_MS);
  if (!exited) {
    signal(pid, 'SIGKILL');
    await runnerExited(pid, STOP_TIMEOUT_MS);
  }
  const leftovers = await stopLeftoverProcesses(state);
  await releaseRunnerLock(state);
  return { kind: exited ? 'runner-stopped' : 'runner-killed', pid, leftovers };
}

async function runnerExited(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while ((await commandLineOf(pid)) !== undefined) {
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
  return true;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    // It exited between the check and the signal: what we wanted.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
