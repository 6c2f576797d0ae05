const cell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Blocks this thread for `ms`, like a stop-the-world garbage collection: no timer, I/O callback
 * or promise of the process runs meanwhile. Atomics.wait on a cell nobody notifies sleeps
 * without burning the CPU.
 */
export function blockEventLoop(ms: number): void {
  Atomics.wait(cell, 0, 0, ms);
}
