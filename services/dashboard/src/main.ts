// Composition root of the dashboard: config, the sources it polls, the page server with its
// stream of snapshots and its OTLP receiver of traces, its own /metrics and health, and a clean
// shutdown. The dashboard starts no tracing of its own: its polls, several a second, would bury
// the mesh's real traces.
import {
  createLogger,
  createMetricsRegistry,
  installShutdownHandler,
  loadConfigOrExit,
  startMetricsHttpServer,
} from '@catmesh/runtime';
import { dashboardConfigSchema } from './config.js';
import { FileSources } from './file-sources.js';
import { MeshSources } from './mesh-sources.js';
import { startPageServer } from './page-server.js';
import { TraceStore } from './trace-store.js';

/** How many orders the traces panel lists. */
const RECENT_ORDERS = 15;

const config = loadConfigOrExit(dashboardConfigSchema(), process.env);
const logger = createLogger({
  service: 'dashboard',
  instance: config.instanceId,
  level: config.logLevel,
});
const registry = createMetricsRegistry();
const sources = new MeshSources({
  replicas: config.replicas,
  metrics: config.metrics,
  faultAdmins: config.faultAdmins,
  raftPollMs: config.raftPollMs,
  pollEveryMs: config.pushEveryMs,
  sliWindowMs: config.sliWindowMs,
});
sources.start();
const files = new FileSources({
  ...(config.reportsDir !== undefined && { reportsDir: config.reportsDir }),
  ...(config.networkRules !== undefined && { networkRules: config.networkRules }),
  pollEveryMs: config.pushEveryMs,
});
files.start();
const traces = new TraceStore();
const page = await startPageServer({
  host: config.host,
  port: config.port,
  pageDir: new URL('./page/', import.meta.url),
  snapshot: () => ({
    ...sources.snapshot(traces.recentOrders(RECENT_ORDERS, config.traceSettleMs)),
    experiments: files.experiments(),
    networkRules: files.networkRules(),
    ...(config.jaegerUrl !== undefined && { jaegerUrl: config.jaegerUrl }),
  }),
  traces,
  ...(files.runs && { runs: files.runs }),
});
const push = setInterval(() => page.push(), config.pushEveryMs);
let serving = true;
const http = await startMetricsHttpServer({
  host: config.host,
  port: config.metricsPort,
  registry,
  isReady: () => serving,
});
installShutdownHandler({
  graceMs: config.shutdownGraceMs,
  logger,
  steps: [
    {
      name: 'page: close',
      run: async () => {
        serving = false;
        clearInterval(push);
        await page.close();
      },
    },
    { name: 'sources: stop', run: () => sources.stop() },
    { name: 'files: stop', run: () => files.stop() },
    { name: 'http: close', run: () => http.close() },
  ],
});
logger.info(
  {
    url: `http://${config.host}:${page.port}/`,
    replicas: config.replicas.length,
    instances: config.metrics.map(({ name }) => name),
  },
  'dashboard running',
);
