import { FaultConflictError } from '../errors.js';
import type { FaultStep } from '../injector.js';
import type { ProcessSupervisor } from './process-supervisor.js';

// Kill and pause as reversible steps over a supervised process. Both remember which incarnation
// they hit, so reverting never resumes or restarts a process that someone else started since.

/**
 * kill -9 now (then `afterKill`, e.g. a power loss's rollback of what was not fsynced); start
 * again after `restartAfterMs`, or on revert at the latest.
 */
export function killStep(
  processes: ProcessSupervisor,
  name: string,
  restartAfterMs: number | undefined,
  /** Runs once the process is dead, before anything can restart it (a power loss's rollback). */
  afterKill?: () => Promise<void>,
): FaultStep {
  let killedIncarnation: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let restarting: Promise<unknown> | undefined;

  const restartIfStillDown = (): Promise<unknown> => {
    const status = processes.status(name);
    if (status.state !== 'exited' || status.incarnation !== killedIncarnation) {
      return Promise.resolve();
    }
    return processes.restart(name);
  };

  return {
    async apply() {
      const status = processes.status(name);
      if (status.state === 'exited') throw new FaultConflictError(`process ${name} is not running`);
      killedIncarnation = status.incarnation;
      await processes.kill(name, 'SIGKILL');
      await afterKill?.();
      if (restartAfterMs !== undefined) {
        timer = setTimeout(() => {
          timer = undefined;
          restarting = restartIfStillDown();
          // A failed restart surfaces when the fault is reverted, which awaits `restarting`.
          restarting.catch(() => undefined);
        }, restartAfterMs);
        timer.unref();
      }
    },
    async revert() {
      if (killedIncarnation === undefined) return;
      if (timer) {
        clearTimeout(timer);
        timer = undefined;
      }
      // A restart that failed (on the timer or here) is tried again by the next revert.
      const attempt = restarting ?? restartIfStillDown();
      restarting = undefined;
      await attempt;
    },
    revertAtExit() {
      // Nothing to restart in a process that is ending; the supervisor kills what runs.
      if (timer) clearTimeout(timer);
    },
  };
}

/** SIGSTOP now, SIGCONT on revert (and at exit: a process is never left stopped). */
export function pauseStep(processes: ProcessSupervisor, name: string): FaultStep {
  let pausedIncarnation: number | undefined;
  const resumeIfSame = (): void => {
    const status = processes.status(name);
    if (status.incarnation === pausedIncarnation) processes.resume(name);
  };
  return {
    apply() {
      const status = processes.status(name);
      if (status.state !== 'running') {
        return Promise.reject(new FaultConflictError(`process ${name} is ${status.state}`));
      }
      processes.pause(name);
      pausedIncarnation = status.incarnation;
      return Promise.resolve();
    },
    revert() {
      resumeIfSame();
      return Promise.resolve();
    },
    revertAtExit: resumeIfSame,
  };
}
