import {
  InterruptedError,
  isServiceError,
  NoEndpointAvailableError,
  oneLine,
  statusName,
  UsageError,
} from './cli-errors.js';
import type { OutputStream } from './cli-io.js';
import { ExitCode } from './exit-codes.js';

/** Prints why a command failed, as one line on stderr, and returns its exit code. */
export function reportError(error: unknown, stderr: OutputStream): number {
  if (error instanceof UsageError) {
    const help = error.command ?? 'catmesh';
    stderr.write(`catmesh: ${oneLine(error.message)} (see '${help} --help')\n`);
    return ExitCode.usage;
  }
  if (error instanceof NoEndpointAvailableError) {
    stderr.write(`catmesh: ${statusName(error.code)}: ${oneLine(error.message)}\n`);
    return ExitCode.unavailable;
  }
  if (error instanceof InterruptedError) {
    stderr.write('catmesh: interrupted\n');
    return ExitCode.interrupted;
  }
  if (isServiceError(error)) {
    stderr.write(`catmesh: ${statusName(error.code)}: ${oneLine(error.details)}\n`);
    return ExitCode.negative;
  }
  // A bug or an environment problem (stdin unreadable...): say what, without a stack trace.
  const message = error instanceof Error ? error.message : String(error);
  stderr.write(`catmesh: ${oneLine(message)}\n`);
  return ExitCode.negative;
}
