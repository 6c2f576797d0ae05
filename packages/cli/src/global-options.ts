import { envTypes, type EnvType } from '@catmesh/runtime';
import { parseDuration } from './argument-values.js';
import { UsageError } from './cli-errors.js';
import type { OptionSpecs, OptionValues } from './command-line.js';

export const DEFAULT_ENDPOINTS = '127.0.0.1:7101';
export const DEFAULT_TIMEOUT = '5s';
const ENDPOINTS_VARIABLE = 'CATMESH_ENDPOINTS';

/** The options every command accepts, before or after the command's name. */
export const GLOBAL_OPTIONS: OptionSpecs = {
  endpoints: {
    type: 'string',
    valueName: 'HOST:PORT[,...]',
    help: `cat-feeder replicas, tried in order while one is unavailable\n(default: $${ENDPOINTS_VARIABLE}, else ${DEFAULT_ENDPOINTS})`,
  },
  timeout: {
    type: 'string',
    valueName: 'DURATION',
    help: `give up after this long, retries included\n(with its unit: 500ms, 5s, 1m; default ${DEFAULT_TIMEOUT})`,
  },
  json: {
    type: 'boolean',
    help: 'machine-readable output: one JSON object per line;\nbytes as UTF-8 `value` and exact `value_base64`',
  },
  help: { type: 'boolean', short: 'h', help: 'show help' },
};

export interface GlobalOptions {
  readonly endpoints: readonly string[];
  readonly timeoutMs: number;
  readonly json: boolean;
}

const ENDPOINT = /^(?:[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/;
export const endpointType: EnvType<string> = {
  expected: 'host:port',
  parse: (raw) => {
    const port = Number(ENDPOINT.exec(raw)?.[1]);
    return port >= 1 && port <= 65535 ? raw : undefined;
  },
};
const endpointsType = envTypes.list(endpointType);

/** The global options as typed values; a bad one is a UsageError naming where it came from. */
export function resolveGlobalOptions(
  options: OptionValues,
  env: Readonly<Record<string, string | undefined>>,
): GlobalOptions {
  const fromFlag = options.string('endpoints');
  const fromEnv = env[ENDPOINTS_VARIABLE]?.trim() ? env[ENDPOINTS_VARIABLE] : undefined;
  const [source, rawEndpoints] =
    fromFlag !== undefined
      ? ['--endpoints', fromFlag]
      : fromEnv !== undefined
        ? [ENDPOINTS_VARIABLE, fromEnv]
        : ['the default', DEFAULT_ENDPOINTS];
  const endpoints = endpointsType.parse(rawEndpoints.trim());
  if (endpoints === undefined || endpoints.length === 0) {
    throw new UsageError(`${source}: expected host:port[,host:port...], got '${rawEndpoints}'`);
  }
  const timeoutMs = parseDuration(options.string('timeout') ?? DEFAULT_TIMEOUT, '--timeout');
  return { endpoints: [...new Set(endpoints)], timeoutMs, json: options.flag('json') };
}
