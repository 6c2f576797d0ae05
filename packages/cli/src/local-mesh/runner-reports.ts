import { appendFile } from 'node:fs/promises';
import type { OutputStream } from '../cli-io.js';
import { envTypes } from '@catmesh/runtime';
import { describeExit } from './instance-process.js';
import type { InstanceSpec } from './instance-spec.js';
import type { ProcessFaultEvents } from './process-faults.js';
import type { StateDir } from './state-dir.js';
import type { RestartEvents } from './supervised-instance.js';

/**
 * What the runner says about restarts: a line on its stdout, and the same in the instance's own
 * log (a JSON line like the services' own), so that `catmesh logs orders` shows why its
 * process changed.
 */
export function restartReports(out: OutputStream, state: StateDir): RestartEvents {
  const say = (spec: InstanceSpec, level: 'info' | 'warn', msg: string): void => {
    out.write(`catmesh: ${spec.name} ${msg}\n`);
    const line = {
      level,
      time: new Date().toISOString(),
      service: 'catmesh-up',
      instance: spec.name,
      msg: `runner: ${msg}`,
    };
    // The log is for reading later; a full disk must not stop the restart.
    appendFile(state.log(spec.name), `${JSON.stringify(line)}\n`).catch(() => undefined);
  };
  return {
    exited(spec, exit, delayMs, restart) {
      say(
        spec,
        'warn',
        `${describeExit(exit)}; restarting it in ${envTypes.formatDuration(delayMs)} (restart ${restart})`,
      );
    },
    restarted(spec, pid, restarts) {
      say(spec, 'info', `restarted (pid ${pid}, restart ${restarts})`);
    },
    healthy(spec, restarts) {
      say(spec, 'info', `is healthy again (restart ${restarts})`);
    },
    restartFailed(spec, error, delayMs) {
      const why = error instanceof Error ? error.message : String(error);
      say(
        spec,
        'warn',
        `could not be restarted (${why}); trying again in ${envTypes.formatDuration(delayMs)}`,
      );
    },
  };
}

/** What the runner says about the process faults it applies and reverts. */
export function faultReports(out: OutputStream): ProcessFaultEvents {
  return {
    applied(fault) {
      const experiment = fault.experiment === null ? '' : ` (experiment ${fault.experiment})`;
      const restart =
        fault.restartAfterMs === null
          ? ''
          : `, restart after ${envTypes.formatDuration(fault.restartAfterMs)}`;
      out.write(
        `catmesh: fault ${fault.id}: ${fault.kind} ${fault.instance} for ${envTypes.formatDuration(fault.expiresAt - fault.appliedAt)}${restart}${experiment}\n`,
      );
    },
    ended(fault, reason) {
      out.write(`catmesh: fault ${fault.id} (${fault.kind} ${fault.instance}) ended: ${reason}\n`);
    },
  };
}
