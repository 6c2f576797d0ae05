/** A fault that is not well formed; `field` is its path, e.g. `groups[1][0]` or `probability`. */
export class FaultValidationError extends Error {
  override readonly name = 'FaultValidationError';
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`invalid fault: ${field}: ${problem}`);
  }
}

/** The mechanism cannot inject this kind of fault here (e.g. no `netem` qdisc in the kernel). */
export class UnsupportedFaultError extends Error {
  override readonly name = 'UnsupportedFaultError';
  constructor(
    readonly kind: string,
    readonly reason: string,
  ) {
    super(`cannot inject ${kind} faults here: ${reason}`);
  }
}

/** The fault collides with one already applied (a second delay on one link, a paused pause). */
export class FaultConflictError extends Error {
  override readonly name = 'FaultConflictError';
}
