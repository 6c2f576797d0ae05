// What every service's main.ts does for the `app` mechanism: one fault table, the traffic gate
// over it, the metrics, and FaultAdminService on the process's own admin port.
import { faultsV1 } from '@catmesh/proto';
import {
  GrpcServer,
  type ListenAddress,
  type Logger,
  type PeerIdentity,
  type Registry,
  type ServiceConfig,
  type ShutdownStep,
  type TrafficHooks,
} from '@catmesh/runtime';
import { AppTrafficGate } from './app-traffic-gate.js';
import { createFaultAdminService } from './fault-admin-service.js';
import { createFaultMetrics, PAUSE_DIRECTION, PAUSE_TRANSPORT } from './fault-metrics.js';
import { FaultTable } from './fault-table.js';

export interface FaultAdminOptions {
  readonly config: Pick<
    ServiceConfig,
    'serviceName' | 'instanceId' | 'grpcHost' | 'adminHost' | 'adminPort' | 'faultAdmin'
  >;
  readonly logger: Logger;
  readonly registry: Registry;
  /** A cat-feeder replica's Raft id; 0 (the default) for every other process. */
  readonly raftId?: number;
}

export interface FaultAdmin {
  /** For createClient, GrpcServer (its `gate`) and connectNats. */
  readonly traffic: TrafficHooks;
  /** Where FaultAdminService listens; undefined with CATMESH_FAULT_ADMIN=off. */
  readonly address: ListenAddress | undefined;
  /** Ends every fault and closes the admin server; the last step of the shutdown. */
  readonly shutdownStep: ShutdownStep;
}

/**
 * Starts the `app` mechanism of this process. The admin server has no traffic gate, so no fault
 * ever cuts the chaos driver off. With `faultAdmin: 'off'` the process still sends its identity
 * but holds no faults, serves no admin API and its transports have no gate at all.
 */
export async function startFaultAdmin(options: FaultAdminOptions): Promise<FaultAdmin> {
  const { config, logger, registry } = options;
  const self: PeerIdentity = {
    service: config.serviceName,
    instance: config.instanceId,
    raftId: options.raftId ?? 0,
  };
  if (config.faultAdmin === 'off') {
    logger.info('fault admin off (CATMESH_FAULT_ADMIN=off): no app faults in this process');
    return {
      traffic: { self },
      address: undefined,
      shutdownStep: { name: 'fault admin: off', run: () => undefined },
    };
  }
  const log = logger.child({ component: 'faults' });
  const metrics = createFaultMetrics(registry, () => table.countByKind());
  const table = new FaultTable({
    onApply: ({ id, effect, experiment, expiresAtUnixMs }) =>
      log.info({ fault: id, kind: effect.kind, experiment, expiresAtUnixMs }, 'fault applied'),
    onEnd: (fault, reason) =>
      log.info({ fault: fault.id, kind: fault.effect.kind, reason }, 'fault ended'),
    onPause: () => metrics.injected('pause', PAUSE_TRANSPORT, PAUSE_DIRECTION),
  });
  const server = new GrpcServer({
    host: config.adminHost ?? config.grpcHost,
    port: config.adminPort,
    logger: log,
    registry,
  });
  server.addService(faultsV1.FaultAdminServiceService, createFaultAdminService(table, self));
  const address = await server.listen();
  server.setServing();
  log.info({ address: `${address.host}:${address.port}`, self }, 'fault admin serving');
  return {
    traffic: { self, gate: new AppTrafficGate({ table, metrics }) },
    address,
    shutdownStep: {
      name: 'fault admin: stop',
      run: async () => {
        table.revertAll();
        await server.drain(1_000);
      },
    },
  };
}
