import { writeJsonLine } from '../cli-io.js';
import { defineCommand } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { readManifest } from '../local-mesh/mesh-manifest.js';
import { readMeshStatus, type InstanceStatus } from '../local-mesh/mesh-status.js';
import type { InstanceExit, InstanceRecord } from '../local-mesh/runner-control-api.js';
import { DEFAULT_STATE_DIR, STATE_DIR_OPTION, StateDir } from '../local-mesh/state-dir.js';
import { formatTable } from '../text-table.js';

/** The two scrapes of /metrics a rate is computed from are this far apart. */
const SAMPLE_MS = 1_000;

export const statusCommand = defineCommand({
  name: 'status',
  summary: 'health, restarts, pids, ports, Raft roles and request rates of the local mesh',
  usage: '[--state-dir DIR] [--json]',
  description: `One row per instance of the mesh \`catmesh up\` started from the state directory:
health (SERVING, NOT_SERVING, or down when it does not answer), its state as the runner sees
it (running, restarting in 0.5s, paused until 12:00:05Z: the runner restarts an instance that
exits and carries out pause faults), pid, gRPC and metrics ports, for cat-feeder replicas their
Raft role and term, the gRPC calls it answered per second and how many of those failed (from
two scrapes of its /metrics a second apart; health checks left out), how often the runner
restarted it and how its last process ended. With --json: one object per instance.
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
      const now = Date.now();
      const rows = status.instances.map((instance) => [
        instance.name,
        instance.health,
        describeState(instance.supervision, now),
        instance.pid === undefined ? '-' : String(instance.pid),
        String(instance.ports.main),
        String(instance.ports.metrics),
        instance.ports.admin === undefined ? '-' : String(instance.ports.admin),
        instance.raft?.role ?? '-',
        instance.raft ? String(instance.raft.term) : '-',
        perSecond(instance.requestsPerSecond),
        perSecond(instance.errorsPerSecond),
        instance.supervision ? String(instance.supervision.restarts) : '-',
        describeExit(instance.supervision?.lastExit ?? null, now),
      ]);
      const heading = [
        'INSTANCE',
        'HEALTH',
        'STATE',
        'PID',
        'PORT',
        'METRICS',
        'ADMIN',
        'ROLE',
        'TERM',
        'REQ/S',
        'ERR/S',
        'RESTARTS',
        'LAST EXIT',
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

function describeState(record: InstanceRecord | undefined, now: number): string {
  if (!record) return '-';
  if (record.state === 'restarting' && record.restartAt !== null) {
    return `restarting in ${secondsFrom(now, record.restartAt)}`;
  }
  if (record.state === 'paused' && record.pausedUntil !== null) {
    return `paused until ${new Date(record.pausedUntil).toISOString().slice(11, 19)}Z`;
  }
  return record.state;
}

function describeExit(exit: InstanceExit | null, now: number): string {
  if (!exit) return '-';
  return `${exit.signal ?? `code ${exit.code}`} ${secondsFrom(exit.at, now)} ago`;
}

function secondsFrom(from: number, to: number): string {
  return `${(Math.max(0, to - from) / 1000).toFixed(1)}s`;
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
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
    ...supervisionJson(instance.supervision),
  };
}

/** The runner's view; nulls when no ready runner answered. */
function supervisionJson(record: InstanceRecord | undefined): Record<string, unknown> {
  const exit = record?.lastExit;
  return {
    state: record?.state ?? null,
    restart_at: isoOrNull(record?.restartAt ?? null),
    paused_until: isoOrNull(record?.pausedUntil ?? null),
    restarts: record?.restarts ?? null,
    last_exit: exit
      ? { code: exit.code, signal: exit.signal, at: new Date(exit.at).toISOString() }
      : null,
  };
}
