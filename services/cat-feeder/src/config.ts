import {
  ConfigError,
  envTypes,
  envVar,
  serviceConfigSchema,
  type ConfigOf,
  type EnvType,
} from '@catmesh/runtime';

/** The Raft group as configured: replica id → the address its Raft peer server listens on. */
export type PeerMap = ReadonlyMap<number, string>;

const PEER = /^([1-9]\d{0,8})=([A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/;

/** `1=127.0.0.1:7101,2=127.0.0.1:7102,3=127.0.0.1:7103`: unique ids and well-formed addresses. */
function peerMap(): EnvType<PeerMap> {
  return {
    expected: 'a list of id=host:port separated by "," with unique positive ids',
    parse(raw) {
      const peers = new Map<number, string>();
      for (const part of raw.split(',')) {
        const match = PEER.exec(part.trim());
        if (!match) return undefined;
        const id = Number(match[1]);
        const port = Number(match[3]);
        if (peers.has(id) || port < 1 || port > 65535) return undefined;
        peers.set(id, `${match[2]}:${port}`);
      }
      return peers;
    },
  };
}

export function catFeederConfigSchema() {
  return {
    ...serviceConfigSchema({ serviceName: 'cat-feeder', grpcPort: 7101, metricsPort: 9101 }),
    nodeId: envVar('CATMESH_NODE_ID', envTypes.int({ min: 1, max: 999_999_999 })),
    peers: envVar('CATMESH_PEERS', peerMap()),
    /**
     * Raft between replicas, and requests forwarded to the leader, on a port of their own, so
     * that a NetworkPolicy can allow it between replicas alone while clients reach only the
     * gRPC port; CATMESH_PEERS then names these ports. Unset: Raft shares the gRPC port.
     */
    raftPort: envVar('CATMESH_RAFT_PORT', envTypes.port(), { optional: true }),
    dataDir: envVar('CATMESH_DATA_DIR', envTypes.string()),
    /** Join a running group (added with `catmesh kv member add`) instead of founding one. */
    join: envVar('CATMESH_JOIN', envTypes.boolean(), { default: false }),
    tickMs: envVar('CATMESH_RAFT_TICK', envTypes.duration({ minMs: 1, maxMs: 10_000 }), {
      default: 50,
    }),
    heartbeatTicks: envVar('CATMESH_RAFT_HEARTBEAT_TICKS', envTypes.int({ min: 1, max: 1000 }), {
      default: 2,
    }),
    electionTicks: envVar('CATMESH_RAFT_ELECTION_TICKS', envTypes.int({ min: 2, max: 10_000 }), {
      default: 10,
    }),
    snapshotEntries: envVar('CATMESH_SNAPSHOT_ENTRIES', envTypes.int({ min: 1 }), {
      default: 10_000,
    }),
    fsync: envVar('CATMESH_FSYNC', envTypes.boolean(), { default: true }),
    /**
     * Test harnesses only: CATMESH_TEST_MODE=1 must be set for the CATMESH_TEST_* variables to
     * be accepted, so that a stray one in production stops the process instead of weakening it.
     */
    testMode: envVar('CATMESH_TEST_MODE', envTypes.boolean(), { default: false }),
    /**
     * A directory for the power-loss undo journal (PowerLossJournalFs): the harness that kills
     * this process can then roll back what was not fsynced, as a power loss would.
     */
    powerLossJournal: envVar('CATMESH_TEST_POWER_LOSS_JOURNAL', envTypes.string(), {
      optional: true,
    }),
    /** A storage durability bug planted on purpose, to show that the power-loss check sees it. */
    plantedStorageBug: envVar(
      'CATMESH_TEST_PLANTED_STORAGE_BUG',
      envTypes.enumOf(['skip-append-datasync', 'skip-rename-directory-fsync'] as const),
      { optional: true },
    ),
    /** Where committed changes are published; unset means no publishing. */
    natsUrl: envVar('CATMESH_NATS_URL', envTypes.url({ schemes: ['nats', 'tls'] }), {
      optional: true,
    }),
  };
}

export type CatFeederConfig = ConfigOf<ReturnType<typeof catFeederConfigSchema>>;

/** The checks no single variable can make. */
export function checkCatFeederConfig(config: CatFeederConfig): void {
  if (!config.join && !config.peers.has(config.nodeId)) {
    throw new ConfigError(
      'CATMESH_NODE_ID',
      String(config.nodeId),
      `one of the ids in CATMESH_PEERS (${[...config.peers.keys()].join(', ')})`,
    );
  }
  for (const [variable, value] of [
    ['CATMESH_TEST_POWER_LOSS_JOURNAL', config.powerLossJournal],
    ['CATMESH_TEST_PLANTED_STORAGE_BUG', config.plantedStorageBug],
  ] as const) {
    if (value !== undefined && !config.testMode) {
      throw new ConfigError(
        variable,
        value,
        'unset unless CATMESH_TEST_MODE=1 (test harnesses only)',
      );
    }
  }
  if (config.raftPort !== undefined) {
    const taken = [
      ['CATMESH_GRPC_PORT', config.grpcPort],
      ['CATMESH_METRICS_PORT', config.metricsPort],
      ['CATMESH_ADMIN_PORT', config.adminPort],
    ].find(([, port]) => port === config.raftPort);
    if (taken) {
      throw new ConfigError(
        'CATMESH_RAFT_PORT',
        String(config.raftPort),
        `a port other than ${taken[0]} (${taken[1]})`,
      );
    }
  }
  if (config.electionTicks <= config.heartbeatTicks) {
    throw new ConfigError(
      'CATMESH_RAFT_ELECTION_TICKS',
      String(config.electionTicks),
      `more than CATMESH_RAFT_HEARTBEAT_TICKS (${config.heartbeatTicks})`,
    );
  }
}
