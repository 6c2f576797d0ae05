import type { Logger } from 'pino';

/** One thing to do on the way out. Steps run one after another, in the order given. */
export interface ShutdownStep {
  readonly name: string;
  run(): Promise<void> | void;
}

/** Where signals come from: the process itself, unless a test supplies its own emitter. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

export interface ShutdownHandlerOptions {
  /** The whole shutdown must finish within this; otherwise the process exits 1. */
  readonly graceMs: number;
  readonly logger: Logger;
  readonly steps: readonly ShutdownStep[];
  /** SIGTERM (Kubernetes, `catmesh up`) and SIGINT (Ctrl-C) unless given. */
  readonly signals?: readonly NodeJS.Signals[];
  readonly signalSource?: SignalSource;
  /** How the process ends; `process.exit` unless a test says otherwise. */
  readonly exit?: (code: number) => void;
}

export interface ShutdownHandler {
  /** Runs the shutdown as if a signal had arrived (e.g. after a fatal error); once only. */
  shutdown(reason: string): Promise<void>;
  /** Removes the signal listeners. */
  uninstall(): void;
}

/**
 * On the first SIGTERM or SIGINT, runs the steps in order and exits 0. A step that throws is
 * logged and the rest still run (telemetry should be flushed even if a drain failed), and the
 * exit code is then 1. If the grace period runs out first, it logs which step was stuck and
 * exits 1. A second signal exits at once: whoever sends it has stopped waiting (a shutdown
 * started by `shutdown()` is not a signal, so the first signal then just lets it run).
 */
export function installShutdownHandler(options: ShutdownHandlerOptions): ShutdownHandler {
  const { graceMs, logger, steps } = options;
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const source = options.signalSource ?? process;
  const exitProcess = options.exit ?? ((code: number) => process.exit(code));
  let running: Promise<void> | undefined;
  let exited = false;

  const exit = (code: number): void => {
    if (exited) return;
    exited = true;
    exitProcess(code);
  };

  const run = async (reason: string): Promise<void> => {
    logger.info({ reason, grace_ms: graceMs }, 'shutting down');
    let current = 'starting';
    const grace = setTimeout(() => {
      logger.error(
        { step: current, grace_ms: graceMs },
        `shutdown grace period ran out during step "${current}"`,
      );
      exit(1);
    }, graceMs);
    let failed = false;
    try {
      for (const step of steps) {
        if (exited) return;
        current = step.name;
        logger.info({ step: step.name }, 'shutdown step');
        try {
          await step.run();
        } catch (error) {
          failed = true;
          logger.error({ step: step.name, err: error }, 'shutdown step failed');
        }
      }
    } finally {
      clearTimeout(grace);
    }
    if (exited) return;
    logger.info({ exit_code: failed ? 1 : 0 }, 'shutdown complete');
    exit(failed ? 1 : 0);
  };

  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      logger.warn({ signal }, 'second signal during shutdown: exiting now');
      exit(1);
      return;
    }
    signalled = true;
    running ??= run(signal);
  };

  for (const signal of signals) source.on(signal, onSignal);
  return {
    shutdown: (reason) => (running ??= run(reason)),
    uninstall: () => {
      for (const signal of signals) source.off(signal, onSignal);
    },
  };
}
