import { join, resolve } from 'node:path';
import type { OptionSpecs } from '../command-line.js';

export const DEFAULT_STATE_DIR = '.catmesh';

/**
 * The files of a local mesh under its state directory:
 *
 *     mesh.json            what the last `catmesh up` started (read by status, logs, down)
 *     logs/<name>.log      each instance's stdout and stderr, appended run after run
 *     run/<name>.pid       each live instance's pid (and the runner's, runner.pid)
 *     run/runner-control.json  where the runner's control API listens, and its token (0600)
 *     data/<name>/         what survives a restart: cat-feeder replicas' Raft logs, NATS' JetStream
 *     chaos/<run>/         each `catmesh chaos run`'s report (and progress.json while it runs)
 *     network-rules.yaml   the chart's manifests as `helm template` renders them (netpol panel)
 */
export class StateDir {
  readonly root: string;

  constructor(path: string, cwd: string = process.cwd()) {
    this.root = resolve(cwd, path);
  }

  get manifest(): string {
    return join(this.root, 'mesh.json');
  }

  get logsDir(): string {
    return join(this.root, 'logs');
  }

  get runDir(): string {
    return join(this.root, 'run');
  }

  get dataDir(): string {
    return join(this.root, 'data');
  }

  /** Where `catmesh chaos run` writes each run's report directory; the dashboard lists it. */
  get reportsDir(): string {
    return join(this.root, 'chaos');
  }

  /** The chart rendered for the dashboard's network-rules panel (network-rules-file.ts). */
  get networkRules(): string {
    return join(this.root, 'network-rules.yaml');
  }

  log(name: string): string {
    return join(this.logsDir, `${name}.log`);
  }

  /** Written by a runner whose mesh is ready, removed when it stops (runner-control-file.ts). */
  get runnerControl(): string {
    return join(this.runDir, 'runner-control.json');
  }

  pidFile(name: string): string {
    return join(this.runDir, `${name}.pid`);
  }

  data(name: string): string {
    return join(this.dataDir, name);
  }
}

/** The pid file of the `catmesh up` process itself, beside its instances' pid files. */
export const RUNNER_PID_NAME = 'runner';
/** The pid file of the runner's watchdog (runner-watchdog.ts). */
export const WATCHDOG_PID_NAME = 'watchdog';

/** `--state-dir`, which up, down, status and logs share. */
export const STATE_DIR_OPTION = {
  'state-dir': {
    type: 'string',
    valueName: 'DIR',
    help: `the mesh's state: data, logs, pid files (default ${DEFAULT_STATE_DIR}, in the current directory)`,
  },
} as const satisfies OptionSpecs;
