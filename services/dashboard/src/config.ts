import { envTypes, envVar, LOG_LEVELS, type ConfigOf, type EnvType } from '@catmesh/runtime';

/** `host:port` or `[v6]:port`, as a gRPC target. */
const ENDPOINT =
  /^(?:[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\]):(?:[1-9]\d{0,3}|[1-5]\d{4}|6[0-4]\d{3}|65[0-4]\d{2}|655[0-2]\d|6553[0-5])$/;
/** An instance name of the mesh: `orders`, `cat-feeder-2`. */
const INSTANCE_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** `name=value,...`: each value read by `value`, each name matching `name` and given once. */
function namedList<T>(
  name: RegExp,
  value: EnvType<T>,
): EnvType<{ readonly name: string; readonly value: T }[]> {
  const items = envTypes.list<{ readonly name: string; readonly value: T }>({
    expected: `name=${value.expected}`,
    parse(raw) {
      const at = raw.indexOf('=');
      if (at < 1) return undefined;
      const key = raw.slice(0, at).trim();
      const text = raw.slice(at + 1).trim();
      const parsed = text === '' ? undefined : value.parse(text);
      return name.test(key) && parsed !== undefined ? { name: key, value: parsed } : undefined;
    },
  });
  return {
    expected: `${items.expected}, each name once`,
    parse(raw) {
      const parsed = items.parse(raw);
      if (!parsed) return undefined;
      const names = new Set(parsed.map((item) => item.name));
      return names.size === parsed.length ? parsed : undefined;
    },
  };
}

const endpoint = envTypes.string({ pattern: ENDPOINT, description: 'host:port' });

/** An http(s) URL that paths are appended to: its trailing slashes taken off. */
const baseUrl: EnvType<string> = {
  expected: envTypes.url().expected,
  parse: (raw) => envTypes.url().parse(raw)?.replace(/\/+$/, ''),
};

export function dashboardConfigSchema() {
  return {
    instanceId: envVar('CATMESH_INSTANCE_ID', envTypes.string(), { default: 'dashboard' }),
    /** The page and /api/stream. */
    host: envVar('CATMESH_DASHBOARD_HOST', envTypes.host(), { default: '0.0.0.0' }),
    port: envVar('CATMESH_DASHBOARD_PORT', envTypes.port(), { default: 7501 }),
    /** The dashboard's own /metrics, /healthz and /readyz, like every catmesh process. */
    metricsPort: envVar('CATMESH_METRICS_PORT', envTypes.port(), { default: 9501 }),
    logLevel: envVar('CATMESH_LOG_LEVEL', envTypes.enumOf(LOG_LEVELS), { default: 'info' }),
    shutdownGraceMs: envVar('CATMESH_SHUTDOWN_GRACE', envTypes.duration({ minMs: 1 }), {
      default: 5_000,
    }),
    /** The cat-feeder replicas' gRPC APIs by Raft id: `1=127.0.0.1:7101,2=...`. */
    replicas: envVar('CATMESH_DASHBOARD_REPLICAS', namedList(/^[1-9]\d{0,5}$/, endpoint), {
      default: [],
    }),
    /** Each instance's Prometheus page: `orders=http://127.0.0.1:9301/metrics,...`. */
    metrics: envVar('CATMESH_DASHBOARD_METRICS', namedList(INSTANCE_NAME, envTypes.url()), {
      default: [],
    }),
    /** Each instance's fault admin API: `orders=127.0.0.1:8301,...`. */
    faultAdmins: envVar('CATMESH_DASHBOARD_FAULT_ADMINS', namedList(INSTANCE_NAME, endpoint), {
      default: [],
    }),
    /** Where `catmesh chaos run` writes its runs (`<state dir>/chaos`): the experiments panel. */
    reportsDir: envVar('CATMESH_DASHBOARD_REPORTS_DIR', envTypes.string(), { optional: true }),
    /** Rendered manifests (`helm template` of the chart): the network-rules panel. */
    networkRules: envVar('CATMESH_DASHBOARD_NETWORK_RULES', envTypes.string(), { optional: true }),
    /** How often the replicas are asked for their Status: the timeline's resolution. */
    raftPollMs: envVar(
      'CATMESH_DASHBOARD_RAFT_POLL_EVERY',
      envTypes.duration({ minMs: 50, maxMs: 10_000 }),
      { default: 250 },
    ),
    /**
     * How often everything else is asked, and a snapshot pushed: once a second by default, the
     * pace the page is made for. Faster is for tests that put minutes of updates into seconds.
     */
    pushEveryMs: envVar(
      'CATMESH_DASHBOARD_PUSH_EVERY',
      envTypes.duration({ minMs: 100, maxMs: 60_000 }),
      { default: 1_000 },
    ),
    /**
     * How long an order's trace must go without a new span before it is listed: longer than the
     * services' export interval (OTEL_BSP_SCHEDULE_DELAY, 5 s unless set), so that every process
     * it crossed has sent its spans and the tree is whole.
     */
    traceSettleMs: envVar(
      'CATMESH_DASHBOARD_TRACE_SETTLE',
      envTypes.duration({ minMs: 0, maxMs: 60_000 }),
      { default: 6_000 },
    ),
    /** The window of the SLIs (order success ratio, PlaceOrder p50 and p99). */
    sliWindowMs: envVar(
      'CATMESH_DASHBOARD_SLI_WINDOW',
      envTypes.duration({ minMs: 10_000, maxMs: 3_600_000 }),
      { default: 120_000 },
    ),
    /**
     * The Jaeger UI as the user's browser reaches it (`http://localhost:16686`), kept without a
     * trailing slash: when set, the page links each order's trace to `<url>/trace/<trace id>`
     * there. Unset: no links.
     */
    jaegerUrl: envVar('CATMESH_DASHBOARD_JAEGER_URL', baseUrl, { optional: true }),
  };
}

export type DashboardConfig = ConfigOf<ReturnType<typeof dashboardConfigSchema>>;
