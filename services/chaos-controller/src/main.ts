// Composition root of the chaos controller: config, logger, the metrics and health listener,
// the API clients from the kubeconfig, the controller itself, and a shutdown that stops every
// run (reverting its faults) and hands the Lease over before the process exits.
import { KubeConfig } from '@kubernetes/client-node';
import { Gauge } from 'prom-client';
import {
  createLogger,
  createMetricsRegistry,
  installShutdownHandler,
  loadConfigOrExit,
  startMetricsHttpServer,
} from '@catmesh/runtime';
import { controllerConfigSchema } from './controller-config.js';
import { runController } from './controller.js';
import { kubeApis } from './kube-apis.js';

const config = loadConfigOrExit(controllerConfigSchema(), process.env);
const logger = createLogger({
  service: config.serviceName,
  instance: config.instanceId,
  level: config.logLevel,
});
const registry = createMetricsRegistry();
const leader = new Gauge({
  name: 'catmesh_chaos_controller_leader',
  help: '1 while this replica holds the Lease and reconciles experiments',
  registers: [registry],
});

const kubeconfig = new KubeConfig();
// KUBECONFIG when set, else the pod's service account (in-cluster).
kubeconfig.loadFromDefault();
const stop = new AbortController();
const metrics = await startMetricsHttpServer({
  host: config.listenHost,
  port: config.metricsPort,
  registry,
  // Alive and serving is all a probe can use: only one replica leads, the others stand by.
  isReady: () => !stop.signal.aborted,
});
const controller = runController(
  {
    apis: kubeApis(kubeconfig),
    namespace: config.namespace,
    identity: config.instanceId,
    leaseName: config.leaseName,
    meshSelector: config.meshSelector,
    logger,
    leaseDurationMs: config.leaseDurationMs,
    renewDeadlineMs: config.renewDeadlineMs,
    retryPeriodMs: config.retryPeriodMs,
    sweepIntervalMs: config.sweepIntervalMs,
    onLeadership: (leading) => leader.set(leading ? 1 : 0),
  },
  stop.signal,
);
const shutdown = installShutdownHandler({
  graceMs: config.shutdownGraceMs,
  logger,
  steps: [
    {
      name: 'controller: stop runs, release the Lease',
      run: async () => {
        stop.abort();
        await controller;
      },
    },
    { name: 'metrics listener', run: () => metrics.close() },
  ],
});
controller.catch((error: unknown) => {
  logger.fatal({ err: error }, 'the controller failed');
  void shutdown.shutdown('the controller failed');
});
logger.info(
  { namespace: config.namespace, mesh: config.meshSelector, lease: config.leaseName },
  'chaos controller running',
);
