// The public API of @catmesh/cli: the `catmesh` command, runnable in-process.
export { runCli } from './run-cli.js';
export type { CliIo, OutputStream } from './cli-io.js';
export { ExitCode } from './exit-codes.js';
