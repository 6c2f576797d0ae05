// The test-only variables: refused unless the process is explicitly in test mode.
import { loadConfig } from '@catmesh/runtime';
import { describe, expect, it } from 'vitest';
import { catFeederConfigSchema, checkCatFeederConfig } from '../src/config.js';

const base = {
  CATMESH_NODE_ID: '1',
  CATMESH_PEERS: '1=127.0.0.1:7101',
  CATMESH_DATA_DIR: '/tmp/cat-feeder-config-test',
};

function load(env: Record<string, string>) {
  const config = loadConfig(catFeederConfigSchema(), { ...base, ...env });
  checkCatFeederConfig(config);
  return config;
}

describe('cat-feeder test-only settings', () => {
  it('refuses the power-loss journal and planted bugs without CATMESH_TEST_MODE=1', () => {
    expect(() => load({ CATMESH_TEST_POWER_LOSS_JOURNAL: '/tmp/j' })).toThrow(
      'CATMESH_TEST_POWER_LOSS_JOURNAL="/tmp/j": expected unset unless CATMESH_TEST_MODE=1',
    );
    expect(() => load({ CATMESH_TEST_PLANTED_STORAGE_BUG: 'skip-append-datasync' })).toThrow(
      /^CATMESH_TEST_PLANTED_STORAGE_BUG="skip-append-datasync": expected unset unless/,
    );
  });

  it('accepts them in test mode, and names the variable of an unknown bug', () => {
    const config = load({
      CATMESH_TEST_MODE: '1',
      CATMESH_TEST_POWER_LOSS_JOURNAL: '/tmp/j',
      CATMESH_TEST_PLANTED_STORAGE_BUG: 'skip-rename-directory-fsync',
    });
    expect(config.powerLossJournal).toBe('/tmp/j');
    expect(config.plantedStorageBug).toBe('skip-rename-directory-fsync');
    expect(() =>
      load({ CATMESH_TEST_MODE: '1', CATMESH_TEST_PLANTED_STORAGE_BUG: 'no-fsync-at-all' }),
    ).toThrow(/^CATMESH_TEST_PLANTED_STORAGE_BUG="no-fsync-at-all": expected /);
  });

  it('leaves production without them', () => {
    const config = load({});
    expect(config.testMode).toBe(false);
    expect(config.powerLossJournal).toBeUndefined();
    expect(config.plantedStorageBug).toBeUndefined();
  });
});

describe('CATMESH_RAFT_PORT', () => {
  it('is off by default: Raft shares the gRPC port', () => {
    expect(load({}).raftPort).toBeUndefined();
  });

  it('refuses a port another listener of the replica takes, naming both', () => {
    expect(() => load({ CATMESH_GRPC_PORT: '7101', CATMESH_RAFT_PORT: '7101' })).toThrow(
      'CATMESH_RAFT_PORT="7101": expected a port other than CATMESH_GRPC_PORT (7101)',
    );
    expect(() => load({ CATMESH_ADMIN_PORT: '8101', CATMESH_RAFT_PORT: '8101' })).toThrow(
      'CATMESH_RAFT_PORT="8101": expected a port other than CATMESH_ADMIN_PORT (8101)',
    );
    expect(load({ CATMESH_RAFT_PORT: '7102' }).raftPort).toBe(7102);
  });
});
