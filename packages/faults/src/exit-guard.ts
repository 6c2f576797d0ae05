// Faults must not outlive the run that applied them: a partition left in a namespace or a process
// left stopped would poison the next run. Whatever ends this process short of SIGKILL (normal exit,
// process.exit, an uncaught exception, Ctrl-C, SIGTERM, a closed terminal) runs the registered
// cleanups first. They are synchronous because the 'exit' event allows nothing else.
// `cleanupStale()` handles what SIGKILL leaves behind.

type Cleanup = () => void;

const cleanups = new Set<Cleanup>();
const signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let installed = false;

function runCleanups(): void {
  // Last registered first: faults are reverted before the processes and networks they act on go.
  for (const cleanup of [...cleanups].reverse()) {
    cleanups.delete(cleanup);
    try {
      cleanup();
    } catch (error) {
      process.stderr.write(`@catmesh/faults: cleanup at exit failed: ${String(error)}\n`);
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  runCleanups();
  // If nobody else handles the signal, keep its default meaning (terminate) by raising it again
  // without our handler; otherwise the application's own shutdown decides what happens next.
  if (process.listenerCount(signal) === 1) {
    uninstall();
    process.kill(process.pid, signal);
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runCleanups);
  for (const signal of signals) process.on(signal, onSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off('exit', runCleanups);
  for (const signal of signals) process.off(signal, onSignal);
}

/**
 * Runs `cleanup` synchronously if the process exits or is told to stop while it is registered.
 * Returns the function that unregisters it (call it once the thing it cleans up is gone).
 */
export function cleanupAtExit(cleanup: Cleanup): () => void {
  cleanups.add(cleanup);
  install();
  return () => {
    cleanups.delete(cleanup);
    if (cleanups.size === 0) uninstall();
  };
}
