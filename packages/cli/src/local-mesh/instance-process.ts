import { spawn } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import type { InstanceSpec } from './instance-spec.js';
import { removePidFile, writePidFile } from './pid-files.js';
import type { StateDir } from './state-dir.js';
import { stopProcessGroup, type StopOutcome } from './stop-process-group.js';

/** How an instance's process ended: its exit code, or the signal that ended it. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export function describeExit({ code, signal }: ProcessExit): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

/**
 * A running instance: a child process leading its own process group (so Ctrl-C in the
 * terminal reaches only the runner, which stops the instances in order, and so a stop reaches
 * anything the instance started), its stdout and stderr appended to its log file, its pid in
 * `<state>/run/<name>.pid` while it lives.
 */
export class InstanceProcess {
  #exit: ProcessExit | undefined;

  private constructor(
    readonly spec: InstanceSpec,
    readonly pid: number,
    /** Resolves when the process has exited and its pid file is gone. */
    readonly exited: Promise<ProcessExit>,
  ) {
    void exited.then((exit) => (this.#exit = exit));
  }

  /** How it ended, once it has. */
  get exit(): ProcessExit | undefined {
    return this.#exit;
  }

  static async start(
    spec: InstanceSpec,
    env: Readonly<Record<string, string>>,
    state: StateDir,
  ): Promise<InstanceProcess> {
    await mkdir(state.logsDir, { recursive: true });
    // The child writes to the file itself: its logs go on even if the runner dies.
    const log = await open(state.log(spec.name), 'a');
    let child;
    try {
      child = spawn(spec.command, spec.args, {
        cwd: state.root,
        env,
        detached: true,
        stdio: ['ignore', log.fd, log.fd],
      });
    } finally {
      await log.close();
    }
    const pid = child.pid ?? 0;
    // pid 0: the spawn itself failed (the program vanished since the preflight check).
    const pidFileWritten =
      pid === 0
        ? Promise.resolve()
        : writePidFile(state, spec.name, {
            pid,
            commandLine: [spec.command, ...spec.args].join(' '),
            marked: true,
            startedAt: new Date().toISOString(),
          });
    const exited = new Promise<ProcessExit>((resolve) => {
      child.once('error', () => resolve({ code: 127, signal: null }));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    }).then(async (exit) => {
      // Even a process that died at once has had its pid file written first: remove it after.
      await pidFileWritten.catch(() => undefined);
      await removePidFile(state, spec.name);
      return exit;
    });
    await pidFileWritten;
    return new InstanceProcess(spec, pid, exited);
  }

  /** SIGTERM to its process group, SIGKILL after `timeoutMs`; resolves once it has exited. */
  async stop(timeoutMs: number): Promise<StopOutcome> {
    if (this.#exit || this.pid === 0) {
      await this.exited;
      return 'gone';
    }
    const outcome = await stopProcessGroup(this.pid, timeoutMs);
    await this.exited;
    return outcome;
  }
}
