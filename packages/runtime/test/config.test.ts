import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  envTypes,
  envVar,
  loadConfig,
  loadConfigOrExit,
  serviceConfigSchema,
  type EnvType,
} from '@catmesh/runtime';
import { spawnFixture } from './support/spawn-fixture.js';

/** Reads `raw` through a one-variable schema, as a service would. */
function read<T>(type: EnvType<T>, raw: string): T {
  return loadConfig({ value: envVar('CATMESH_TEST', type) }, { CATMESH_TEST: raw }).value;
}

function rejection<T>(type: EnvType<T>, raw: string): ConfigError {
  try {
    read(type, raw);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`${JSON.stringify(raw)} was accepted`);
}

describe('env types', () => {
  const cases: {
    name: string;
    type: EnvType<unknown>;
    good: [string, unknown][];
    bad: string[];
    expected: string;
  }[] = [
    {
      name: 'int with bounds',
      type: envTypes.int({ min: -5, max: 10 }),
      good: [
        ['0', 0],
        ['-5', -5],
        ['10', 10],
        ['+7', 7],
        [' 3 ', 3],
      ],
      bad: ['11', '-6', '1.5', 'abc', '1e3', '0x10', '99999999999999999999'],
      expected: 'an integer -5-10',
    },
    {
      name: 'int with a minimum',
      type: envTypes.int({ min: 1 }),
      good: [
        ['1', 1],
        ['123456', 123456],
      ],
      bad: ['0', '-1'],
      expected: 'an integer >= 1',
    },
    {
      name: 'port',
      type: envTypes.port(),
      good: [
        ['1', 1],
        ['50051', 50051],
        ['65535', 65535],
      ],
      bad: ['0', '65536', 'abc', '80.5', '-1'],
      expected: 'an integer port 1-65535',
    },
    {
      name: 'string',
      type: envTypes.string(),
      good: [
        ['inventory', 'inventory'],
        ['a b', 'a b'],
      ],
      bad: [],
      expected: 'a non-empty string',
    },
    {
      name: 'string with a pattern',
      type: envTypes.string({ pattern: /^[a-z-]+$/, description: 'a lowercase name' }),
      good: [['cat-feeder', 'cat-feeder']],
      bad: ['Cat', 'cat feeder', 'cat1'],
      expected: 'a lowercase name',
    },
    {
      name: 'host',
      type: envTypes.host(),
      good: [
        ['0.0.0.0', '0.0.0.0'],
        ['inventory.catmesh.svc', 'inventory.catmesh.svc'],
        ['::1', '::1'],
      ],
      bad: ['http://x', 'a b', 'host:50051/'],
      expected: 'a host name or IP address',
    },
    {
      name: 'enum',
      type: envTypes.enumOf(['linearizable', 'lease', 'stale']),
      good: [
        ['lease', 'lease'],
        ['stale', 'stale'],
      ],
      bad: ['LEASE', 'fast', 'lease,stale'],
      expected: 'one of linearizable, lease, stale',
    },
    {
      name: 'boolean',
      type: envTypes.boolean(),
      good: [
        ['true', true],
        ['TRUE', true],
        ['1', true],
        ['false', false],
        ['False', false],
        ['0', false],
      ],
      bad: ['yes', 'on', '2', 'tru'],
      expected: 'true or false',
    },
    {
      name: 'duration',
      type: envTypes.duration(),
      good: [
        ['250ms', 250],
        ['10s', 10_000],
        ['1.5s', 1500],
        ['2m', 120_000],
        ['1h', 3_600_000],
      ],
      // A bare number has no unit to read it in (it meant ms in one place and s in another).
      bad: ['250', '0', '10 s', '-1s', '10d', 's', '1.5.2s'],
      expected: 'a duration with its unit, such as 500ms, 5s or 2m',
    },
    {
      name: 'duration with bounds',
      type: envTypes.duration({ minMs: 1, maxMs: 60_000 }),
      good: [
        ['1ms', 1],
        ['1m', 60_000],
      ],
      bad: ['0ms', '61s', '1'],
      expected: 'a duration from 1ms to 60s with its unit, such as 500ms, 5s or 2m',
    },
    {
      name: 'url',
      type: envTypes.url(),
      good: [
        ['http://localhost:4318', 'http://localhost:4318'],
        ['https://jaeger.example/otlp', 'https://jaeger.example/otlp'],
      ],
      bad: ['localhost:4318', 'ftp://x', 'http://', 'not a url'],
      expected: 'a URL starting with http:// or https://',
    },
    {
      name: 'list',
      type: envTypes.list(envTypes.port()),
      good: [
        ['1,2, 3', [1, 2, 3]],
        ['50051', [50051]],
        ['7,,8,', [7, 8]],
      ],
      bad: ['1,x', '1;2', '0'],
      expected: 'a list separated by ",", each item an integer port 1-65535',
    },
  ];

  for (const { name, type, good, bad, expected } of cases) {
    it(`${name}: accepts good values`, () => {
      for (const [raw, value] of good) expect(read(type, raw), raw).toEqual(value);
    });
    it(`${name}: rejects bad values, naming the variable, the value and what was expected`, () => {
      expect(type.expected).toBe(expected);
      for (const raw of bad) {
        const error = rejection(type, raw);
        expect(error.variable).toBe('CATMESH_TEST');
        expect(error.value).toBe(raw);
        expect(error.message).toBe(`CATMESH_TEST=${JSON.stringify(raw)}: expected ${expected}`);
      }
    });
  }
});

describe('loadConfig', () => {
  const schema = {
    port: envVar('CATMESH_PORT', envTypes.port(), { default: 50051 }),
    name: envVar('CATMESH_NAME', envTypes.string()),
    peers: envVar('CATMESH_PEERS', envTypes.list(envTypes.string()), { optional: true }),
  };

  it('uses defaults for unset and empty variables, and leaves optional ones undefined', () => {
    const config = loadConfig(schema, { CATMESH_NAME: 'orders', CATMESH_PORT: '' });
    expect(config).toEqual({ port: 50051, name: 'orders', peers: undefined });
  });

  it('reads set variables into typed fields', () => {
    const config = loadConfig(schema, {
      CATMESH_NAME: 'orders',
      CATMESH_PORT: '6000',
      CATMESH_PEERS: 'a,b',
    });
    expect(config).toEqual({ port: 6000, name: 'orders', peers: ['a', 'b'] });
  });

  it('names a required variable that is not set', () => {
    expect(() => loadConfig(schema, {})).toThrow(
      new ConfigError('CATMESH_NAME', undefined, 'a non-empty string'),
    );
    expect(() => loadConfig(schema, {})).toThrow(
      'CATMESH_NAME is not set: expected a non-empty string',
    );
  });

  it('quotes a value with a line break so the message stays one line', () => {
    expect(() => loadConfig(schema, { CATMESH_NAME: 'x', CATMESH_PORT: '1\n2' })).toThrow(
      'CATMESH_PORT="1\\n2": expected an integer port 1-65535',
    );
  });

  it('loadConfigOrExit writes one line and exits 2 on a bad value', () => {
    const written: string[] = [];
    const exits: number[] = [];
    expect(() =>
      loadConfigOrExit(
        schema,
        { CATMESH_NAME: 'x', CATMESH_PORT: 'abc' },
        {
          io: {
            writeError: (line) => void written.push(line),
            exit: (code) => {
              exits.push(code);
              throw new Error('exited');
            },
          },
        },
      ),
    ).toThrow('exited');
    expect(written).toEqual(['catmesh: CATMESH_PORT="abc": expected an integer port 1-65535\n']);
    expect(exits).toEqual([2]);
  });

  it('the common service config has the documented defaults', () => {
    const config = loadConfig(
      serviceConfigSchema({ serviceName: 'orders', grpcPort: 50061, metricsPort: 9461 }),
      {},
    );
    expect(config).toMatchObject({
      serviceName: 'orders',
      grpcHost: '0.0.0.0',
      grpcPort: 50061,
      metricsPort: 9461,
      logLevel: 'info',
      shutdownGraceMs: 20_000,
      otelSdkDisabled: false,
      otlpEndpoint: 'http://localhost:4318',
      otlpDashboardEndpoint: undefined,
      otelServiceName: undefined,
    });
    expect(config.instanceId).toMatch(/.+-\d+$/);
  });

  it('the common service config reads the standard OTEL_* variables', () => {
    const config = loadConfig(
      serviceConfigSchema({ serviceName: 'orders', grpcPort: 50061, metricsPort: 9461 }),
      {
        OTEL_SDK_DISABLED: 'true',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318',
        OTEL_SERVICE_NAME: 'orders-canary',
        CATMESH_SHUTDOWN_GRACE: '5s',
        CATMESH_OTLP_DASHBOARD_ENDPOINT: 'http://dashboard:7501',
      },
    );
    expect(config).toMatchObject({
      otelSdkDisabled: true,
      otlpEndpoint: 'http://jaeger:4318',
      otlpDashboardEndpoint: 'http://dashboard:7501',
      otelServiceName: 'orders-canary',
      shutdownGraceMs: 5000,
    });
  });
});

describe('a service process with a bad variable', () => {
  const badValues: [string, string, string][] = [
    ['CATMESH_GRPC_PORT', 'abc', 'expected an integer port 1-65535'],
    ['CATMESH_LOG_LEVEL', 'loud', 'expected one of trace, debug, info, warn, error, fatal, silent'],
    [
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'jaeger:4318',
      'expected a URL starting with http:// or https://',
    ],
    [
      'CATMESH_OTLP_DASHBOARD_ENDPOINT',
      'dashboard:7501',
      'expected a URL starting with http:// or https://',
    ],
  ];

  for (const [variable, value, expected] of badValues) {
    it(`exits 2 with one line naming ${variable}`, async () => {
      const fixture = spawnFixture('config-exit', { [variable]: value });
      expect(await fixture.exited).toBe(2);
      expect(fixture.stderr()).toEqual([`catmesh: ${variable}="${value}": ${expected}`]);
      expect(fixture.stdout()).toEqual([]);
    });
  }

  it('starts when every variable is good', async () => {
    const fixture = spawnFixture('config-exit', { CATMESH_GRPC_PORT: '6001' });
    expect(await fixture.exited).toBe(0);
    expect(fixture.stdout()).toEqual(['config ok: grpc port 6001']);
    expect(fixture.stderr()).toEqual([]);
  });
});
