import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { StateDir } from './state-dir.js';

/** `<state>/run/runner-control.json`: where a runner's control API listens, and its token. */
export interface RunnerControlEndpoint {
  readonly port: number;
  readonly token: string;
  /** The runner's pid: a file left by a runner that is gone names a pid that is not it. */
  readonly pid: number;
}

/** Written whole (a reader never sees half a file), readable by this user only: it holds a token. */
export async function writeRunnerControlFile(
  state: StateDir,
  endpoint: RunnerControlEndpoint,
): Promise<void> {
  await mkdir(state.runDir, { recursive: true });
  const partial = `${state.runnerControl}.${process.pid}.tmp`;
  await writeFile(partial, `${JSON.stringify(endpoint)}\n`, { mode: 0o600 });
  await rename(partial, state.runnerControl);
}

/** The endpoint, or undefined when there is no file (no runner, or one whose mesh is not ready). */
export async function readRunnerControlFile(
  state: StateDir,
): Promise<RunnerControlEndpoint | undefined> {
  let text: string;
  try {
    text = await readFile(state.runnerControl, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const value = JSON.parse(text) as Partial<RunnerControlEndpoint>;
  if (
    typeof value.port !== 'number' ||
    typeof value.token !== 'string' ||
    typeof value.pid !== 'number'
  ) {
    throw new Error(`${state.runnerControl} is not a runner control file (port, token, pid)`);
  }
  return { port: value.port, token: value.token, pid: value.pid };
}

export async function removeRunnerControlFile(state: StateDir): Promise<void> {
  await rm(state.runnerControl, { force: true });
}
