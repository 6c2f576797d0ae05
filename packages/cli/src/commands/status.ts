import { writeJsonLine } from '../cli-io.js';
import { defineCommand } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { readManifest } from '../local-mesh/mesh-manifest.js';
import { readMeshStatus, type InstanceStatus } from '../local-mesh/mesh-status.js';
import { DEFAULT_STATE_DIR, STATE_DIR_OPTION, StateDir } from '../local-mesh/state-dir.js';
import { formatTable } from '../text-table.js';

/** The two scrapes of /metrics a rate is computed from are this far apart. */
const SAMPLE_MS = 1_000;

export const statusCommand = defineCommand({
  name: 'status',
  summary: 'health, pids, ports, Raft roles and request rates of the local mesh',
  usage: '[--state-dir DIR] [--json]',
  description: `One row per instance of the mesh \`catmesh up\` started from the state directory:
health (SERVING, NOT_SERVING, or down when it does not answer), pid, gRPC and metrics ports,
for cat-feeder replicas their Raft role and term, and the gRPC calls it answered per second
and how many of those failed (from two scrapes of its /metrics a second apart; health checks
left out). With --json: one object per instance.
Exit code 0 when every instance is SERVING, 1 otherwise (or when no mesh ever ran here).`,
  options: STATE_DIR_OPTION,
  positionals: [],
  async run({ io, globals, options }) {
    const state = new StateDir(options.string('state-dir') ?? DEFAULT_STATE_DIR);
    const manifest = await readManifest(state);
    if (!manifest) {
      io.stderr.write(`catmesh: no mesh has run from ${state.root} (start one with catmesh up)\n`);
      return ExitCode.negative;
    }
    const status = await readMeshStatus(state, manifest, SAMPLE_MS);
    if (globals.json) {
      for (const instance of status.instances) writeJsonLine(io.stdout, instanceJson(instance));
    } else {
      io.stdout.write(
        status.runnerPid === undefined
          ? `runner: not running (state ${state.root})\n`
          : `runner: pid ${status.runnerPid} (state ${state.root})\n`,
      );
      const rows = status.instances.map((instance) => [
        instance.name,
        instance.health,
        instance.pid === undefined ? '-' : String(instance.pid),
        String(instance.ports.main),
        String(instance.ports.metrics),
        instance.ports.admin === undefined ? '-' : String(instance.ports.admin),
        instance.raft?.role ?? '-',
        instance.raft ? String(instance.raft.term) : '-',
        perSecond(instance.requestsPerSecond),
        perSecond(instance.errorsPerSecond),
      ]);
      const heading = [
        'INSTANCE',
        'HEALTH',
        'PID',
        'PORT',
        'METRICS',
        'ADMIN',
        'ROLE',
        'TERM',
        'REQ/S',
        'ERR/S',
      ];
      io.stdout.write(formatTable([heading, ...rows]));
    }
    const healthy = status.instances.every((instance) => instance.health === 'SERVING');
    return healthy ? ExitCode.ok : ExitCode.negative;
  },
});

function perSecond(value: number | undefined): string {
  return value === undefined ? '-' : value.toFixed(1);
}

function instanceJson(instance: InstanceStatus): Record<string, unknown> {
  return {
    name: instance.name,
    service: instance.service,
    health: instance.health,
    pid: instance.pid ?? null,
    ports: {
      main: instance.ports.main,
      metrics: instance.ports.metrics,
      admin: instance.ports.admin ?? null,
    },
    raft: instance.raft
      ? {
          id: instance.raft.id,
          role: instance.raft.role,
          term: instance.raft.term,
          leader_id: instance.raft.leaderId,
        }
      : null,
    requests_per_second: instance.requestsPerSecond ?? null,
    errors_per_second: instance.errorsPerSecond ?? null,
  };
}
