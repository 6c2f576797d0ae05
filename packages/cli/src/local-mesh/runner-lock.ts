import { isOurLiveProcess, readPidFile, removePidFile, writePidFile } from './pid-files.js';
import { ownCommandLine } from './process-identity.js';
import { removeRunnerControlFile } from './runner-control-file.js';
import { RUNNER_PID_NAME, type StateDir } from './state-dir.js';

/** The runner of a state directory, when one is alive. */
export async function liveRunnerPid(state: StateDir): Promise<number | undefined> {
  const file = await readPidFile(state, RUNNER_PID_NAME);
  return file && (await isOurLiveProcess(file.record, state)) ? file.record?.pid : undefined;
}

/**
 * Makes this process the runner of `state` (`<state>/run/runner.pid`), unless a live runner
 * has it: then resolves with that runner's pid. The pid file of a runner that is gone is
 * replaced; the file is created exclusively, so of two runners starting at once one loses.
 */
export async function acquireRunnerLock(state: StateDir): Promise<{ heldBy?: number }> {
  const holder = await liveRunnerPid(state);
  if (holder !== undefined) return { heldBy: holder };
  await releaseRunnerLock(state);
  try {
    await writePidFile(
      state,
      RUNNER_PID_NAME,
      {
        pid: process.pid,
        commandLine: await ownCommandLine(),
        marked: false,
        startedAt: new Date().toISOString(),
      },
      { exclusive: true },
    );
    return {};
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { heldBy: (await liveRunnerPid(state)) ?? 0 };
  }
}

/** Removes the runner's pid file, and its control file: nobody serves that API any more. */
export async function releaseRunnerLock(state: StateDir): Promise<void> {
  await removeRunnerControlFile(state);
  await removePidFile(state, RUNNER_PID_NAME);
}
