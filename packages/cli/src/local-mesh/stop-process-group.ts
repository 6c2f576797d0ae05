import { setTimeout as sleep } from 'node:timers/promises';
import { processGroupExists } from './process-identity.js';

const POLL_MS = 50;
/** After SIGKILL the kernel needs a moment, and the group's parent a moment to reap it. */
const AFTER_KILL_MS = 5_000;

export type StopOutcome = 'stopped' | 'killed' | 'gone';

/**
 * Stops process group `pgid` (each instance leads its own): SIGTERM, up to `timeoutMs` for
 * every process in it to exit, then SIGKILL. 'gone' when there was nothing to stop.
 * The caller has checked that the group is ours (pid-files.ts); this only signals.
 */
export async function stopProcessGroup(pgid: number, timeoutMs: number): Promise<StopOutcome> {
  if (!signalProcessGroup(pgid, 'SIGTERM')) return 'gone';
  // A group stopped by a pause fault would hold SIGTERM pending until SIGKILL: let it act on it.
  signalProcessGroup(pgid, 'SIGCONT');
  if (await groupGone(pgid, timeoutMs)) return 'stopped';
  killProcessGroup(pgid);
  await groupGone(pgid, AFTER_KILL_MS);
  return 'killed';
}

/** SIGKILL to the whole group, at once: for when waiting is not an option. */
export function killProcessGroup(pgid: number): void {
  signalProcessGroup(pgid, 'SIGKILL');
}

/** Sends `signal` to every process of group `pgid`; false when the group no longer exists. */
export function signalProcessGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

async function groupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await processGroupExists(pgid)) {
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
  return true;
}
