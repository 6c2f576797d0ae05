import { ConfigError, loadConfig } from '@catmesh/runtime';
import { describe, expect, it } from 'vitest';
import { dashboardConfigSchema } from '../src/config.js';

describe("the dashboard's config", () => {
  it('reads the sources by name', () => {
    const config = loadConfig(dashboardConfigSchema(), {
      CATMESH_DASHBOARD_REPLICAS: '1=127.0.0.1:7101, 2=127.0.0.1:7102',
      CATMESH_DASHBOARD_METRICS: 'orders=http://127.0.0.1:9301/metrics',
      CATMESH_DASHBOARD_FAULT_ADMINS: 'orders=127.0.0.1:8301',
    });
    expect(config.replicas).toEqual([
      { name: '1', value: '127.0.0.1:7101' },
      { name: '2', value: '127.0.0.1:7102' },
    ]);
    expect(config.metrics).toEqual([{ name: 'orders', value: 'http://127.0.0.1:9301/metrics' }]);
    expect(config.faultAdmins).toEqual([{ name: 'orders', value: '127.0.0.1:8301' }]);
    expect(config.raftPollMs).toBe(250);
  });

  it('refuses a name given twice, or updates faster than 10 a second, naming the variable', () => {
    expect(() =>
      loadConfig(dashboardConfigSchema(), {
        CATMESH_DASHBOARD_REPLICAS: '1=127.0.0.1:7101,1=127.0.0.1:7102',
      }),
    ).toThrow(ConfigError);
    expect(() =>
      loadConfig(dashboardConfigSchema(), { CATMESH_DASHBOARD_PUSH_EVERY: '99ms' }),
    ).toThrow(/CATMESH_DASHBOARD_PUSH_EVERY/);
  });

  it('reads the Jaeger UI the page links traces to, without a trailing slash; a bad URL is refused by name', () => {
    expect(loadConfig(dashboardConfigSchema(), {}).jaegerUrl).toBeUndefined();
    expect(
      loadConfig(dashboardConfigSchema(), {
        CATMESH_DASHBOARD_JAEGER_URL: 'http://localhost:16686/',
      }).jaegerUrl,
    ).toBe('http://localhost:16686');
    for (const bad of ['localhost:16686', 'ftp://jaeger:16686']) {
      expect(() =>
        loadConfig(dashboardConfigSchema(), { CATMESH_DASHBOARD_JAEGER_URL: bad }),
      ).toThrow(
        `CATMESH_DASHBOARD_JAEGER_URL=${JSON.stringify(bad)}: expected a URL starting with http:// or https://`,
      );
    }
  });
});
