import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertValidReport, renderSummary } from '@catmesh/chaos';
import { writeJsonLine } from '../../cli-io.js';
import { defineCommand } from '../../command.js';
import { ExitCode } from '../../exit-codes.js';

export const reportCommand = defineCommand({
  name: 'report',
  summary: 'print the summary of a report written by chaos run',
  usage: 'DIR [--json]',
  description: `Reads DIR/report.json (written by \`catmesh chaos run\`), checks it against the report
schema, and prints its summary (with --json: the report itself, one line). The page beside it,
DIR/report.html, opens in any browser.`,
  positionals: [{ name: 'DIR' }],
  async run({ io, globals, positionals }) {
    const file = join(positionals[0]!, 'report.json');
    let report: unknown;
    try {
      report = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      io.stderr.write(`catmesh: ${file}: ${(error as Error).message}\n`);
      return ExitCode.usage;
    }
    try {
      assertValidReport(report);
    } catch (error) {
      io.stderr.write(`catmesh: ${file}: ${(error as Error).message}\n`);
      return ExitCode.usage;
    }
    if (globals.json) writeJsonLine(io.stdout, report);
    else
      io.stdout.write(
        `${renderSummary(report)}\n\npage: ${join(positionals[0]!, 'report.html')}\n`,
      );
    return ExitCode.ok;
  },
});
