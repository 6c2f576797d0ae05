import { writeJsonLine } from '../../cli-io.js';
import { defineCommand } from '../../command.js';
import { ExitCode } from '../../exit-codes.js';
import { localMeshAccess } from '../../local-mesh/local-mesh-access.js';
import { DEFAULT_STATE_DIR, STATE_DIR_OPTION, StateDir } from '../../local-mesh/state-dir.js';
import { revertMeshFaults } from './mesh-faults.js';

export const stopCommand = defineCommand({
  name: 'stop',
  summary: 'revert every fault in force now (or one experiment run\u2019s)',
  usage: '[--run RUN-ID] [--state-dir DIR] [--json]',
  description: `Reverts, now, every fault the instances and the runner hold, or only those of one
experiment run (--run, the id \`catmesh chaos status\` shows). A running \`catmesh chaos run\`
is not stopped by this (Ctrl-C does that); its later steps would apply again.
Exit code 0 when every process answered, 1 when one did not (its faults still end at their expiry).`,
  options: {
    run: { type: 'string', valueName: 'RUN-ID', help: 'only this experiment run' },
    ...STATE_DIR_OPTION,
  },
  positionals: [],
  async run({ io, globals, options }) {
    const state = new StateDir(options.string('state-dir') ?? DEFAULT_STATE_DIR);
    const { reverted, failed } = await revertMeshFaults(
      await localMeshAccess(state),
      options.string('run') ?? '',
    );
    if (globals.json) {
      writeJsonLine(io.stdout, { reverted, failed: Object.fromEntries(failed) });
    } else {
      io.stdout.write(`reverted ${reverted} fault${reverted === 1 ? '' : 's'}\n`);
      for (const [instance, error] of failed)
        io.stdout.write(
          `${instance}: could not be asked (${error}); its faults end at their expiry\n`,
        );
    }
    return failed.size === 0 ? ExitCode.ok : ExitCode.negative;
  },
});
