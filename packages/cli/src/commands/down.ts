import { defineCommand } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { DEFAULT_STATE_DIR, STATE_DIR_OPTION, StateDir } from '../local-mesh/state-dir.js';
import { stopLocalMesh } from '../local-mesh/stop-local-mesh.js';

export const downCommand = defineCommand({
  name: 'down',
  summary: 'stop the mesh `catmesh up` runs (from another shell)',
  usage: '[--state-dir DIR]',
  description: `Asks the \`catmesh up\` running from the state directory to stop its mesh (as Ctrl-C
would) and waits until it has. With no runner alive (it was killed), it stops whatever the
runner left running itself: each pid file's process, once its command line and environment
show it is still the one \`catmesh up\` started. Exit code 0 either way, including when
nothing was running.`,
  options: STATE_DIR_OPTION,
  positionals: [],
  async run({ io, options }) {
    const state = new StateDir(options.string('state-dir') ?? DEFAULT_STATE_DIR);
    const stopped = await stopLocalMesh(state);
    const leftovers = stopped.leftovers.map(
      ({ name, pid, outcome }) => `${name} (pid ${pid}, ${outcome})`,
    );
    switch (stopped.kind) {
      case 'runner-stopped':
        io.stdout.write(
          `catmesh: the mesh of ${state.root} is stopped (runner pid ${stopped.pid})\n`,
        );
        break;
      case 'runner-killed':
        io.stdout.write(
          `catmesh: the runner (pid ${stopped.pid}) did not stop its mesh in time and was killed\n`,
        );
        break;
      case 'leftovers':
        io.stdout.write(
          leftovers.length === 0
            ? `catmesh: nothing is running from ${state.root}\n`
            : `catmesh: no runner was alive; stopped what it left: ${leftovers.join(', ')}\n`,
        );
        return ExitCode.ok;
    }
    if (leftovers.length > 0) io.stdout.write(`catmesh: also stopped ${leftovers.join(', ')}\n`);
    return ExitCode.ok;
  },
});
