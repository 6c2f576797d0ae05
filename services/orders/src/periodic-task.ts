import type { Logger } from '@catmesh/runtime';

export interface PeriodicTask {
  /** Stops scheduling and waits for a run under way. */
  stop(): Promise<void>;
}

/**
 * Runs `run` now and then `everyMs` after each run ends (never two at once). A failed run is
 * logged and the next one comes as usual: these tasks repair what a failure left behind.
 */
export function startPeriodic(
  name: string,
  everyMs: number,
  run: () => Promise<void>,
  logger: Logger,
): PeriodicTask {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    running = run()
      .catch((err: unknown) => logger.warn({ err, task: name }, 'periodic task failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, everyMs);
      });
  };
  tick();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
