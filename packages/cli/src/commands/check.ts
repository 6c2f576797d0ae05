import { CheckUsageError, checkUsage, parseCheckArgs, runCheck } from '@catmesh/jepsen';
import { UsageError } from '../cli-errors.js';
import type { Command } from '../command.js';

/**
 * `catmesh check`: a Jepsen-style run against cat-feeder or etcd (packages/jepsen). The harness
 * owns its options, so the command hands it the arguments as they are.
 */
export const checkCommand: Command = {
  name: 'check',
  summary: 'check cat-feeder (or etcd) for linearizability under faults, Jepsen-style',
  async run(args, { io }) {
    let options;
    try {
      options = parseCheckArgs(args);
    } catch (error) {
      if (error instanceof CheckUsageError) throw new UsageError(error.message, 'catmesh check');
      throw error;
    }
    if (options === 'help') {
      io.stdout.write(checkUsage);
      return 0;
    }
    try {
      const { exitCode } = await runCheck(options, {
        stdout: io.stdout,
        stderr: io.stderr,
        env: io.env,
        ...(io.signal ? { signal: io.signal } : {}),
      });
      return exitCode;
    } catch (error) {
      // The harness itself broke (or was stopped): no verdict, so not exit code 1.
      io.stderr.write(`catmesh: check could not be completed: ${(error as Error).message}\n`);
      return 2;
    }
  },
};
