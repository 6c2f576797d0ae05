import { readLibrary } from '@catmesh/chaos';
import { writeJsonLine } from '../../cli-io.js';
import { defineCommand } from '../../command.js';
import { ExitCode } from '../../exit-codes.js';
import { formatTable } from '../../text-table.js';
import { LIBRARY_DIR } from './chaos-options.js';

export const listCommand = defineCommand({
  name: 'list',
  summary: 'the experiment library (k8s/experiments/)',
  usage: '[--dir DIR] [--json]',
  description: `Lists the experiments of the library, one file each in k8s/experiments/ (the same
files \`kubectl apply\` takes): name, the lesson it teaches, its steps, and its file. Every
file is validated; an invalid one fails the listing with its field named (exit 2).`,
  options: {
    dir: { type: 'string', valueName: 'DIR', help: `the library (default ${LIBRARY_DIR})` },
  },
  positionals: [],
  async run({ io, globals, options }) {
    const entries = await readLibrary(options.string('dir') ?? LIBRARY_DIR);
    if (globals.json) {
      for (const { file, experiment } of entries) {
        writeJsonLine(io.stdout, {
          name: experiment.metadata.name,
          lesson: experiment.spec.lesson ?? null,
          steps: experiment.spec.steps.map((s) => `${s.fault.kind}/${s.mechanism}`),
          file,
        });
      }
      return ExitCode.ok;
    }
    const rows = entries.map(({ file, experiment }) => [
      experiment.metadata.name,
      experiment.spec.lesson ?? '',
      experiment.spec.steps.map((s) => `${s.fault.kind}/${s.mechanism}`).join(', '),
      file.slice(file.lastIndexOf('/') + 1),
    ]);
    io.stdout.write(formatTable([['NAME', 'LESSON', 'FAULTS', 'FILE'], ...rows]));
    return ExitCode.ok;
  },
});
