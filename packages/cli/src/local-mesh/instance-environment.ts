import type { InstanceSpec } from './instance-spec.js';

/**
 * Set in every instance's environment to its mesh's state directory: proof, beside the command
 * line, that a pid found in a pid file is still our process (pid-files.ts), and how a test or an
 * operator finds a mesh's processes (`grep -l` over /proc/<pid>/environ).
 */
export const MESH_MARKER_VARIABLE = 'CATMESH_LOCAL_MESH';

/** How long an instance gets to shut down on SIGTERM; the runner SIGKILLs after STOP_TIMEOUT_MS. */
const INSTANCE_GRACE = '10s';
export const STOP_TIMEOUT_MS = 12_000;

/** Where the services send traces, and why. */
export interface TraceExport {
  readonly enabled: boolean;
  /** The OTLP/HTTP endpoint, when enabled. */
  readonly endpoint?: string;
  /** Set when the endpoint is the mesh's own dashboard, chosen because the user named none. */
  readonly toDashboard?: true;
  /**
   * The dashboard's receiver, when the endpoint is the user's and the mesh has a dashboard: it
   * gets a copy of every span (CATMESH_OTLP_DASHBOARD_ENDPOINT), so that it still lists orders.
   */
  readonly dashboardCopy?: string;
  /**
   * CATMESH_DASHBOARD_JAEGER_URL as the user set it, when the mesh has a dashboard: the Jaeger
   * UI its page links each order's trace to. Nothing is guessed: unset, there are no links.
   */
  readonly jaegerUi?: string;
  /** Variables every instance gets because of this decision. */
  readonly env: Readonly<Record<string, string>>;
  /** Variables the dashboard alone gets, beside `env`. */
  readonly dashboardEnv?: Readonly<Record<string, string>>;
}

/** The services' own default (runtime's service-config). */
const DEFAULT_OTLP_ENDPOINT = 'http://localhost:4318';

/**
 * Traces go where the user says: OTEL_EXPORTER_OTLP_ENDPOINT (Jaeger v2 takes OTLP on :4318),
 * or the services' default with OTEL_SDK_DISABLED=false; an OTEL_SDK_DISABLED the user set is
 * always passed on as it is. Said nothing, they go to the mesh's dashboard (`dashboardReceiver`,
 * its OTLP/HTTP receiver, which takes JSON), so that an order's trace is there to see with no
 * Jaeger anywhere; a mesh without a dashboard gets OTEL_SDK_DISABLED=true, so that its instances
 * do not keep failing to reach a collector that is not there. When the user's endpoint is used
 * and the mesh has a dashboard, the dashboard gets a copy of every span as well
 * (CATMESH_OTLP_DASHBOARD_ENDPOINT), through an exporter of its own in each service.
 */
export function decideTraceExport(
  env: Readonly<Record<string, string | undefined>>,
  dashboardReceiver?: string,
): TraceExport {
  const disabled = env['OTEL_SDK_DISABLED']?.trim().toLowerCase();
  const endpoint = env['OTEL_EXPORTER_OTLP_ENDPOINT']?.trim() || undefined;
  const jaegerUi = dashboardReceiver && (env['CATMESH_DASHBOARD_JAEGER_URL']?.trim() || undefined);
  const links = jaegerUi ? { jaegerUi } : {};
  const delayMs = exportDelayMs(env);
  // The user's settle time, passed on to the dashboard as every CATMESH_* variable is, wins.
  const settleEnv = env['CATMESH_DASHBOARD_TRACE_SETTLE']?.trim()
    ? {}
    : { dashboardEnv: { CATMESH_DASHBOARD_TRACE_SETTLE: `${3 * delayMs + 500}ms` } };
  if (disabled === 'true') return { enabled: false, env: {}, ...links };
  if (disabled || endpoint) {
    const chosen = endpoint ?? DEFAULT_OTLP_ENDPOINT;
    return dashboardReceiver
      ? {
          enabled: true,
          endpoint: chosen,
          dashboardCopy: dashboardReceiver,
          ...links,
          env: {
            CATMESH_OTLP_DASHBOARD_ENDPOINT: dashboardReceiver,
            OTEL_BSP_SCHEDULE_DELAY: String(delayMs),
          },
          ...settleEnv,
        }
      : { enabled: true, endpoint: chosen, env: {} };
  }
  if (dashboardReceiver) {
    return {
      enabled: true,
      endpoint: dashboardReceiver,
      toDashboard: true,
      ...links,
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: dashboardReceiver,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: String(delayMs),
      },
      ...settleEnv,
    };
  }
  return { enabled: false, env: { OTEL_SDK_DISABLED: 'true' } };
}

/** How often a service sends its batch of spans when the dashboard shows them. */
const LIVE_EXPORT_DELAY_MS = 500;

/**
 * With a dashboard to show them, spans leave each service every half second rather than the
 * SDK's 5 s, and the dashboard lists an order once its trace has had no new span for three of
 * those intervals (its tree whole by then): an order is on the page about 2 s after it is placed.
 * The user's OTEL_BSP_SCHEDULE_DELAY wins (and the dashboard's settle time follows it).
 */
function exportDelayMs(env: Readonly<Record<string, string | undefined>>): number {
  const given = Number(env['OTEL_BSP_SCHEDULE_DELAY']?.trim() || Number.NaN);
  return Number.isFinite(given) && given > 0 ? given : LIVE_EXPORT_DELAY_MS;
}

/** The variables of the user's environment an instance sees: the basics, and CATMESH_* and OTEL_*. */
function passedThrough(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    // CATMESH_* tunes the services (CATMESH_LOG_LEVEL=debug, CATMESH_HUNGER_AFTER=10s); the
    // port plan's own variables are set after these, so they cannot move an instance's ports.
    if (BASICS.has(name) || name.startsWith('CATMESH_') || name.startsWith('OTEL_')) {
      kept[name] = value;
    }
  }
  return kept;
}

const BASICS = new Set(['PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR']);

/** Everything an instance's process is started with, later entries winning. */
export function instanceEnvironment(
  spec: InstanceSpec,
  userEnv: Readonly<Record<string, string | undefined>>,
  stateDir: string,
  traces: TraceExport,
): Record<string, string> {
  return {
    ...passedThrough(userEnv),
    ...traces.env,
    ...(spec.service === 'dashboard' && traces.dashboardEnv),
    CATMESH_SHUTDOWN_GRACE: INSTANCE_GRACE,
    [MESH_MARKER_VARIABLE]: stateDir,
    ...spec.env,
  };
}
