import { writeJsonLine } from '../../cli-io.js';
import { defineCommand } from '../../command.js';
import { ExitCode } from '../../exit-codes.js';
import { localMeshAccess } from '../../local-mesh/local-mesh-access.js';
import { DEFAULT_STATE_DIR, STATE_DIR_OPTION, StateDir } from '../../local-mesh/state-dir.js';
import { formatTable } from '../../text-table.js';
import { readMeshFaults } from './mesh-faults.js';

export const statusCommand = defineCommand({
  name: 'status',
  summary: 'the faults in force across the mesh, with their expiry',
  usage: '[--state-dir DIR] [--json]',
  description: `Asks every instance of the mesh for the faults it holds (its fault admin API) and the
runner for its process faults (kill, pause), and prints one row per fault: where, what, which
experiment run applied it, when it expires on its own, and what it has acted on so far. An
instance that does not answer is named (it may be paused or down).
Exit code 0 when no fault is in force, 1 when some are (or an instance did not answer).`,
  options: STATE_DIR_OPTION,
  positionals: [],
  async run({ io, globals, options }) {
    const state = new StateDir(options.string('state-dir') ?? DEFAULT_STATE_DIR);
    const { faults, unreachable } = await readMeshFaults(await localMeshAccess(state));
    const now = Date.now();
    if (globals.json) {
      for (const fault of faults)
        writeJsonLine(io.stdout, { ...fault, expiresInMs: fault.expiresAt - now });
      for (const [instance, error] of unreachable)
        writeJsonLine(io.stdout, { instance, unreachable: error });
    } else if (faults.length === 0) {
      io.stdout.write('no fault in force\n');
    } else {
      const rows = faults.map((f) => [
        f.instance,
        f.id,
        f.kind,
        f.mechanism,
        f.experiment || '-',
        `${Math.max(0, (f.expiresAt - now) / 1000).toFixed(1)}s`,
        f.injections === null ? '-' : String(f.injections),
      ]);
      io.stdout.write(
        formatTable([
          ['INSTANCE', 'FAULT', 'KIND', 'MECHANISM', 'EXPERIMENT', 'EXPIRES IN', 'INJECTIONS'],
          ...rows,
        ]),
      );
    }
    if (!globals.json) {
      for (const [instance, error] of unreachable)
        io.stdout.write(`${instance}: does not answer (${error})\n`);
    }
    return faults.length === 0 && unreachable.size === 0 ? ExitCode.ok : ExitCode.negative;
  },
});
