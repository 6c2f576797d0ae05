import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { MESH_MARKER_VARIABLE } from './instance-environment.js';
import { stopLeftoverProcesses } from './leftover-processes.js';
import { removePidFile, writePidFile } from './pid-files.js';
import { liveRunnerPid, releaseRunnerLock } from './runner-lock.js';
import { WATCHDOG_PID_NAME, type StateDir } from './state-dir.js';

/** What the runner writes to dismiss its watchdog: it is stopping the mesh itself. */
const DISMISS = 'dismiss\n';
const DISMISS_WAIT_MS = 5_000;

/**
 * The runner's watchdog: a small process of its own (own process group and session) holding
 * the read end of a pipe whose write end only the runner has. However the runner ends — even
 * kill -9, which no handler sees — the kernel closes that end; the watchdog reads end-of-file
 * and stops what the runner left behind, as `catmesh down` would. No prctl, and the services
 * need not know. A runner that stops the mesh itself dismisses the watchdog first.
 */
export interface Watchdog {
  dismiss(): Promise<void>;
}

/** Starts the watchdog of a runner of `state`, with its log in `<state>/logs/watchdog.log`. */
export async function startWatchdog(
  state: StateDir,
  userEnv: Readonly<Record<string, string | undefined>>,
): Promise<Watchdog> {
  // From source (tests run the CLI's .ts), the entry point needs tsx like the CLI itself.
  const fromSource = import.meta.url.endsWith('.ts');
  const script = fileURLToPath(
    new URL(`../bin/mesh-watchdog.${fromSource ? 'ts' : 'js'}`, import.meta.url),
  );
  const args = [
    ...(fromSource ? ['--conditions=@catmesh/source', '--import', 'tsx'] : []),
    script,
    state.root,
  ];
  await mkdir(state.logsDir, { recursive: true });
  const log = await open(state.log(WATCHDOG_PID_NAME), 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, args, {
      cwd: state.root,
      env: { PATH: userEnv['PATH'] ?? '', [MESH_MARKER_VARIABLE]: state.root },
      detached: true,
      stdio: ['pipe', log.fd, log.fd],
    });
  } finally {
    await log.close();
  }
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  if (child.pid !== undefined) {
    await writePidFile(state, WATCHDOG_PID_NAME, {
      pid: child.pid,
      commandLine: [process.execPath, ...args].join(' '),
      marked: true,
      startedAt: new Date().toISOString(),
    });
  }
  // Neither the watchdog nor the pipe keeps the runner alive: it ends when its mesh does.
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return {
    async dismiss() {
      child.stdin?.end(DISMISS);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        exited,
        new Promise((resolve) => (timer = setTimeout(resolve, DISMISS_WAIT_MS))),
      ]);
      // A timer left running would hold the runner's exit back until it fired.
      clearTimeout(timer);
      await removePidFile(state, WATCHDOG_PID_NAME);
    },
  };
}

/**
 * The watchdog's side: reads `input` (the runner's pipe) to its end; unless the runner
 * dismissed it, stops every leftover instance and releases the runner's lock, logging one JSON
 * line per step to `log`.
 */
export async function watchOverRunner(
  input: AsyncIterable<Buffer | string>,
  state: StateDir,
  log: (msg: string, fields?: Record<string, unknown>) => void,
): Promise<void> {
  let said = '';
  try {
    for await (const chunk of input) said += chunk.toString();
  } catch {
    // A broken pipe is the runner gone, like end-of-file.
  }
  if (said === DISMISS) return;
  log('the runner is gone without stopping its mesh; stopping what it left');
  const stopped = await stopLeftoverProcesses(state, WATCHDOG_PID_NAME);
  for (const { name, pid, outcome } of stopped) log(`${outcome} ${name}`, { name, pid });
  // Unless a new runner has taken the state directory in the meantime.
  if ((await liveRunnerPid(state)) === undefined) await releaseRunnerLock(state);
  await removePidFile(state, WATCHDOG_PID_NAME);
}
