import type { CliIo } from './cli-io.js';
import { chaosCommand } from './commands/chaos.js';
import { checkCommand } from './commands/check.js';
import { netpolCommand } from './commands/netpol.js';
import { OptionValues } from './command-line.js';
import { commandGroup } from './command-group.js';
import { downCommand } from './commands/down.js';
import { kvCommand } from './commands/kv.js';
import { logsCommand } from './commands/logs.js';
import { orderCommand } from './commands/order.js';
import { statusCommand } from './commands/status.js';
import { upCommand } from './commands/up.js';
import { EXIT_CODES_HELP } from './exit-codes.js';
import { reportError } from './report-error.js';

/** The top level: one entry per command, each in its own module under commands/. */
const catmesh = commandGroup({
  name: 'catmesh',
  summary: 'the command line of catmesh',
  description: 'catmesh: a microservices mesh you can break on purpose.',
  commands: [
    upCommand,
    downCommand,
    statusCommand,
    logsCommand,
    kvCommand,
    orderCommand,
    checkCommand,
    chaosCommand,
    netpolCommand,
  ],
  describeGlobalOptions: true,
  epilog: EXIT_CODES_HELP,
});

/**
 * Runs `catmesh` with `argv` (the arguments after the program's name) and resolves with the
 * exit code; it never throws and never exits the process, so it can run inside a test.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    return await catmesh.run(argv, { io, path: '', inherited: new OptionValues({}) });
  } catch (error) {
    return reportError(error, io.stderr);
  }
}
