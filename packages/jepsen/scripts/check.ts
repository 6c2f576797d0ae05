// Runs one Jepsen-style check from the command line (see `--help`):
//   node --conditions=@catmesh/source --import tsx packages/jepsen/scripts/check.ts \
//     --target cat-feeder --duration 60s --seed 7 --nemesis partition-random-halves,kill
import { CheckUsageError, checkUsage, parseCheckArgs, runCheck } from '../src/index.js';

async function main(): Promise<number> {
  let options;
  try {
    options = parseCheckArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof CheckUsageError)) throw error;
    process.stderr.write(`check: ${error.message}\n\n${checkUsage}`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(checkUsage);
    return 0;
  }
  try {
    const { exitCode } = await runCheck(options, {
      stdout: process.stdout,
      stderr: process.stderr,
    });
    return exitCode;
  } catch (error) {
    // The harness itself broke: no verdict, so not exit code 1.
    process.stderr.write(`check: the run could not be completed: ${(error as Error).stack}\n`);
    return 2;
  }
}

process.exitCode = await main();
