import { status, type ServiceError } from '@grpc/grpc-js';

/** A bad command line; `command` is the one whose `--help` explains it (`catmesh kv get`). */
export class UsageError extends Error {
  override readonly name = 'UsageError';

  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

/**
 * No endpoint served the request in time: UNAVAILABLE, or DEADLINE_EXCEEDED when time ran out
 * with a request in flight that cannot be resent (its outcome is unknown).
 */
export class NoEndpointAvailableError extends Error {
  override readonly name = 'NoEndpointAvailableError';

  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

/** Ctrl-C stopped the command. */
export class InterruptedError extends Error {
  override readonly name = 'InterruptedError';

  constructor() {
    super('interrupted');
  }
}

/** A call's failure status as grpc-js reports it (`code`, `details`, `metadata`). */
export function isServiceError(error: unknown): error is ServiceError {
  return (
    error instanceof Error &&
    typeof (error as Partial<ServiceError>).code === 'number' &&
    typeof (error as Partial<ServiceError>).details === 'string'
  );
}

/** `UNAVAILABLE` for 14: the names users know from gRPC's documentation. */
export function statusName(code: status): string {
  return status[code] ?? `status ${code}`;
}

/**
 * A failure's details as one line: some grpc-js messages span several, and end with an empty
 * "Resolution note:" when name resolution had nothing to add.
 */
export function oneLine(text: string): string {
  return text
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\s*Resolution note:\s*$/, '')
    .trim();
}
