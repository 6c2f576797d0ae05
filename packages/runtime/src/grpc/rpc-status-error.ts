import { status } from '@grpc/grpc-js';

/**
 * An error a handler throws to answer with a specific gRPC status: the server kit's guard
 * answers `code` with `message` as the details, and logs nothing (it is an answer, not a fault).
 */
export class RpcStatusError extends Error {
  override readonly name = 'RpcStatusError';

  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

/** INVALID_ARGUMENT naming the field at fault: `invalidArgument('quantity', 'must be > 0')`. */
export function invalidArgument(field: string, problem: string): RpcStatusError {
  return new RpcStatusError(status.INVALID_ARGUMENT, `${field}: ${problem}`);
}
