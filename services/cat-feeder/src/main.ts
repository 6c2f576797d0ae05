// Composition root of a cat-feeder replica: config, telemetry, storage, Raft, gRPC, NATS.
import { join } from 'node:path';
import { ROOT_CONTEXT, SpanKind, propagation, trace } from '@opentelemetry/api';
import { raftFaultFilter, startFaultAdmin } from '@catmesh/faults';
import { catfeederV1, raftV1 } from '@catmesh/proto';
import { RaftNode } from '@catmesh/raft';
import { PowerLossJournalFs, RaftStorage, StorageCorruptionError } from '@catmesh/raft/storage';
import { GrpcRaftTransport, raftPeerServerOptions } from '@catmesh/raft/transport';
import {
  connectNats,
  GrpcServer,
  loadConfigOrExit,
  serveService,
  startServiceProcess,
  type NatsClient,
  type ShutdownStep,
} from '@catmesh/runtime';
import { createAdminService } from './admin-service.js';
import { ChangePublisher } from './change-publisher.js';
import { foundingClusterId } from './cluster-id.js';
import { catFeederConfigSchema, checkCatFeederConfig } from './config.js';
import { createKvService } from './kv-service.js';
import { KvStore } from './kv-store.js';
import { LeaderRouter } from './leader-router.js';
import { PeerClients } from './peer-clients.js';
import { createReplicaMetrics } from './replica-metrics.js';
import { Replica } from './replica.js';
import { WatchHub } from './watch-hub.js';

const config = loadConfigOrExit(catFeederConfigSchema(), process.env, {
  check: checkCatFeederConfig,
});
const base = startServiceProcess(config);
const { logger, registry } = base;
// First, so that a chaos driver can reach the process while it starts.
const faults = await startFaultAdmin({ config, logger, registry, raftId: config.nodeId });
const { traffic } = faults;

// Metrics exist before the replica (storage reports fsyncs while it opens); the gauges read
// the replica once it is there.
const live: { replica?: Replica } = {};
const metrics = createReplicaMetrics(registry, () =>
  live.replica
    ? { term: live.replica.term, commit: live.replica.commitIndex, applied: live.replica.applied }
    : undefined,
);

const opened = await RaftStorage.open(join(config.dataDir, 'raft'), {
  fsync: config.fsync,
  onFsync: metrics.onFsync,
  // Test harnesses only (checkCatFeederConfig refuses them without CATMESH_TEST_MODE=1).
  ...(config.powerLossJournal !== undefined
    ? { fs: new PowerLossJournalFs(config.powerLossJournal) }
    : {}),
  ...(config.plantedStorageBug !== undefined ? { plantedBug: config.plantedStorageBug } : {}),
}).catch((error: unknown) => {
  // A corrupt WAL is never applied: stop with the file and offset rather than serve bad state.
  const what =
    error instanceof StorageCorruptionError ? 'the Raft log is corrupt' : 'cannot open storage';
  logger.fatal({ err: error, dataDir: config.dataDir }, what);
  process.exit(1);
});
const { storage, state, recovery } = opened;
if (recovery.tornTail) logger.warn({ tornTail: recovery.tornTail }, 'dropped a torn WAL tail');

// A founder's cluster id follows from CATMESH_PEERS; data of another group is refused before
// anything runs. A data dir from before cluster ids adopts the founders' id on its first start.
// A joiner keeps the id it stored, or adopts the first one a peer's call carries.
let clusterId = opened.clusterId;
if (!config.join) {
  const founding = foundingClusterId(config.peers);
  if (clusterId !== undefined && clusterId !== founding) {
    logger.fatal(
      { dataDir: config.dataDir, storedClusterId: clusterId, configuredClusterId: founding },
      `the data dir belongs to Raft cluster ${clusterId}, but CATMESH_PEERS founds cluster ${founding}: refusing to run on another group's data`,
    );
    process.exit(1);
  }
  if (clusterId === undefined) {
    await storage.saveClusterId(founding);
    logger.info({ clusterId: founding }, 'recorded the cluster id in the data dir');
    clusterId = founding;
  }
}

const store = new KvStore();
if (state.snapshot) store.restore(state.snapshot.data);
const watchHub = new WatchHub(store.revision);

const node = new RaftNode({
  id: config.nodeId,
  electionTick: config.electionTicks,
  heartbeatTick: config.heartbeatTicks,
  random: Math.random,
  storage: state,
  bootstrap: config.join ? undefined : { voters: [...config.peers.keys()], learners: [] },
  preVote: true,
  checkQuorum: true,
  // The API offers lease reads per request (Consistency LEASE); ReadIndex stays the default.
  leaseReads: true,
});

const serverOf = (port: number) =>
  new GrpcServer({
    host: config.grpcHost,
    port,
    logger,
    registry,
    serverOptions: raftPeerServerOptions(),
    ...(traffic.gate && { trafficGate: traffic.gate }),
  });
const server = serverOf(config.grpcPort);
// With CATMESH_RAFT_PORT, what replicas send each other (Raft, and requests forwarded to the
// leader) reaches a server of its own, so that network rules can tell peers from clients.
const peerServer = config.raftPort === undefined ? server : serverOf(config.raftPort);
const transport = new GrpcRaftTransport({
  localId: config.nodeId,
  clusterId,
  ...(traffic.gate && { faultFilter: raftFaultFilter(traffic.gate) }),
  onError: (error) => logger.warn({ err: error }, 'raft transport error'),
  onClusterIdAdopted: (id) => {
    logger.info({ clusterId: id }, 'joined Raft cluster; recording its id');
    storage.saveClusterId(id).catch((error: unknown) => {
      logger.fatal({ err: error }, 'cannot record the cluster id; stopping this replica');
      process.exit(1);
    });
  },
  onClusterIdMismatch: (error) => {
    // A replica that is part of a working group keeps running and refuses the stray peer; one
    // that has never found a leader was started in the wrong place and stops, saying so.
    if (error.direction === 'outbound' && (live.replica?.leader ?? 0) === 0) {
      logger.fatal({ err: error }, `${error.message}; refusing to run in another group`);
      process.exit(1);
    }
    logger.error({ err: error }, error.message);
  },
});
peerServer.addService(raftV1.RaftPeerServiceService, transport.service);

const nats: NatsClient | undefined = config.natsUrl
  ? await connectNats({ servers: config.natsUrl, name: config.instanceId, logger, traffic })
  : undefined;
const publisher = nats && new ChangePublisher(nats, config.nodeId, logger);
const tracer = trace.getTracer('@catmesh/cat-feeder');

const replica = new Replica({
  node,
  storage,
  transport,
  store,
  watchHub,
  logger,
  tickMs: config.tickMs,
  electionTicks: config.electionTicks,
  snapshotEntries: config.snapshotEntries,
  founders: config.peers,
  onFatal: (error) => {
    logger.fatal({ err: error }, 'storage failed; stopping this replica');
    process.exit(1);
  },
  observer: {
    ...metrics.observer,
    applied: (index, command, outcome) => {
      const traced = Object.keys(command.traceContext).length > 0;
      if (traced) {
        // Every replica's apply joins the trace of the request that caused the write.
        const parent = propagation.extract(ROOT_CONTEXT, command.traceContext);
        tracer
          .startSpan(
            'catfeeder.apply',
            {
              kind: SpanKind.INTERNAL,
              attributes: {
                'raft.index': index,
                'catfeeder.member': config.nodeId,
                'catfeeder.outcome': outcome.kind,
              },
            },
            parent,
          )
          .end();
      }
      if (publisher && outcome.kind === 'applied' && replica.role === 'leader') {
        publisher.publish(outcome.events, command.traceContext);
      }
    },
  },
});

const router = new LeaderRouter(replica, config.tickMs);
const raftIds = new Map([...config.peers].map(([id, address]) => [address, id]));
const peerClients = { registry, traffic, raftIdOf: (address: string) => raftIds.get(address) };
const kvPeers = new PeerClients(catfeederV1.CatFeederServiceClient, peerClients);
const adminPeers = new PeerClients(catfeederV1.CatFeederAdminServiceClient, peerClients);
const kvService = createKvService({
  replica,
  store,
  watchHub,
  router,
  peers: kvPeers,
  tickMs: config.tickMs,
  proposalTimer: metrics.proposalTimer,
});
const adminService = createAdminService({ replica, router, peers: adminPeers });
for (const each of new Set([server, peerServer])) {
  each.addService(catfeederV1.CatFeederServiceService, kvService);
  each.addService(catfeederV1.CatFeederAdminServiceService, adminService);
}

live.replica = replica;
replica.start();
if (peerServer !== server) {
  await peerServer.listen();
  peerServer.setServing();
}
const peerDrain: ShutdownStep[] =
  peerServer === server
    ? []
    : [
        {
          name: 'grpc peer server: drain',
          run: async () => {
            await peerServer.drain(Math.floor(config.shutdownGraceMs / 2));
          },
        },
      ];
const { port } = await serveService({
  ...base,
  config,
  server,
  // Raft stops before the drain: its peers' streams would otherwise hold the drain open, and a
  // replica on its way out should not vote or lead any more.
  beforeGrpcDrain: [{ name: 'raft: stop', run: () => replica.stop() }, ...peerDrain],
  drainNats: async () => {
    kvPeers.close();
    adminPeers.close();
    await nats?.drain();
  },
  lastSteps: [faults.shutdownStep],
});
logger.info(
  {
    id: config.nodeId,
    port,
    raftPort: config.raftPort ?? port,
    peers: Object.fromEntries(config.peers),
    dataDir: config.dataDir,
  },
  'cat-feeder replica serving',
);
