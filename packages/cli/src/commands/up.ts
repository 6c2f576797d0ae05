import { envTypes } from '@catmesh/runtime';
import { UsageError } from '../cli-errors.js';
import { defineCommand } from '../command.js';
import { runLocalMesh } from '../local-mesh/run-local-mesh.js';
import {
  DEFAULT_PORT_BASE,
  PORT_PLAN_SPAN,
  REPLICA_COUNTS,
  type ReplicaCount,
} from '../local-mesh/port-plan.js';
import { DEFAULT_STATE_DIR, STATE_DIR_OPTION, StateDir } from '../local-mesh/state-dir.js';

const MIN_PORT_BASE = 1024;
const portBaseType = envTypes.int({ min: MIN_PORT_BASE, max: 65535 - PORT_PLAN_SPAN });

export const upCommand = defineCommand({
  name: 'up',
  summary: 'start the whole mesh on this machine; Ctrl-C stops it',
  usage:
    '[--replicas 3|5] [--port-base PORT] [--state-dir DIR] [--fresh] [--no-loadgen] [--no-dashboard]',
  description: `Starts nats-server (JetStream), the cat-feeder replicas, inventory, orders, loadgen
and the dashboard as local processes, each once what it needs is healthy, shows their progress, and prints
where each one listens and what to try. It runs until Ctrl-C (or SIGTERM, or \`catmesh down\`
from another shell), then stops them all, each with SIGTERM and, 12 s later, SIGKILL.

Ports (base ${DEFAULT_PORT_BASE} unless --port-base; metrics and monitoring 2000 above):
  nats base+22, cat-feeder-N base+N, inventory base+101, orders base+201, loadgen base+301,
  dashboard base+401 (its page: http://127.0.0.1:7501/ with the default base)
With the default base every service is on its usual port (cat-feeder 7101, orders 7301).

State (kept across runs, unless --fresh): data/ (Raft logs, JetStream), logs/<name>.log,
run/<name>.pid. A mesh left running by a runner that died (kill -9) is stopped first.
Traces go to OTEL_EXPORTER_OTLP_ENDPOINT when it is set (Jaeger: http://localhost:4318), else to
the dashboard's own receiver; with --no-dashboard and no endpoint they are off. OTEL_SDK_DISABLED=true
switches them off. CATMESH_* and OTEL_* variables reach every service (CATMESH_LOG_LEVEL=debug, ...).

Exit codes: 0 stopped on request; 1 the mesh could not start (what and why on stderr);
2 usage; 130 stopped before it was ready.`,
  options: {
    replicas: {
      type: 'string',
      valueName: 'N',
      help: `cat-feeder replicas: ${REPLICA_COUNTS.join(' or ')} (default 3)`,
    },
    'port-base': {
      type: 'string',
      valueName: 'PORT',
      help: `every port is this plus an offset (default ${DEFAULT_PORT_BASE})`,
    },
    ...STATE_DIR_OPTION,
    fresh: { type: 'boolean', help: 'delete the data of earlier runs first (logs are kept)' },
    'no-loadgen': { type: 'boolean', help: 'start no load generator' },
    'no-dashboard': { type: 'boolean', help: 'start no dashboard' },
  },
  positionals: [],
  async run({ io, options }) {
    const replicasText = options.string('replicas') ?? '3';
    const replicas = REPLICA_COUNTS.find((count) => String(count) === replicasText.trim());
    if (replicas === undefined) {
      throw new UsageError(
        `--replicas: expected ${REPLICA_COUNTS.join(' or ')}, got '${replicasText}'`,
      );
    }
    const portBaseText = options.string('port-base') ?? String(DEFAULT_PORT_BASE);
    const portBase = portBaseType.parse(portBaseText.trim());
    if (portBase === undefined) {
      throw new UsageError(`--port-base: expected ${portBaseType.expected}, got '${portBaseText}'`);
    }
    const stateDirArgument = options.string('state-dir') ?? DEFAULT_STATE_DIR;
    return runLocalMesh(io, {
      state: new StateDir(stateDirArgument),
      stateDirArgument,
      replicas: replicas satisfies ReplicaCount,
      portBase,
      fresh: options.flag('fresh'),
      loadgen: !options.flag('no-loadgen'),
      dashboard: !options.flag('no-dashboard'),
    });
  },
});
