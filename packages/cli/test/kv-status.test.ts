import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@catmesh/testkit';
import { InMemoryStore, startReplica, type Replica } from './support/in-memory-cat-feeder.js';
import { catmesh, jsonLines } from './support/run-catmesh.js';

let store: InMemoryStore;
let leader: Replica;
let follower: Replica;
let dead: string;

beforeAll(async () => {
  store = new InMemoryStore();
  leader = await startReplica(store, 1);
  follower = await startReplica(store, 2);
  dead = `127.0.0.1:${await freePort()}`;
  store.put('cat.state', Buffer.from('hungry'));
});
afterAll(() => {
  leader.stop();
  follower.stop();
});

describe('catmesh kv status', () => {
  it("prints every endpoint's view, an unreachable one as such, and the leader's peers", async () => {
    const endpoints = `${leader.address},${dead},${follower.address}`;
    const run = await catmesh(['kv', 'status', '--endpoints', endpoints]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const lines = run.stdout.split('\n');
    const columns = (line: string | undefined) => line?.trim().split(/\s+/);
    expect(columns(lines[0])).toEqual([
      'ID',
      'ENDPOINT',
      'ROLE',
      'TERM',
      'LEADER',
      'COMMIT',
      'APPLIED',
      'REVISION',
      'SNAPSHOT',
    ]);
    const r = String(store.revision);
    const index = String(store.revision + 1);
    expect(columns(lines[1])).toEqual([
      '1',
      leader.address,
      'leader',
      '1',
      '1',
      index,
      index,
      r,
      '0',
    ]);
    expect(columns(lines[2])).toEqual(['-', dead, 'unreachable', '-', '-', '-', '-', '-', '-']);
    expect(columns(lines[3])).toEqual([
      '2',
      follower.address,
      'follower',
      '1',
      '1',
      index,
      index,
      r,
      '0',
    ]);
    expect(lines[4]).toMatch(new RegExp(`^${dead}: UNAVAILABLE: `));
    expect(lines.slice(5)).toEqual([
      '',
      `Peers of leader 1 (${leader.address}, term 1):`,
      expect.stringMatching(/^ID\s+ADDRESS\s+KIND\s+MATCH\s+LAST CONTACT$/),
      expect.stringMatching(
        new RegExp(`^1\\s+${leader.address}\\s+voter\\s+${index}\\s+\\(self\\)$`),
      ),
      expect.stringMatching(
        new RegExp(`^2\\s+${follower.address}\\s+voter\\s+${index}\\s+20 ms ago$`),
      ),
      '',
    ]);
  });

  it('--json prints the raw status of each endpoint, or its error', async () => {
    const run = await catmesh([
      'kv',
      'status',
      '--json',
      '--endpoints',
      `${dead},${follower.address}`,
    ]);
    expect(run.code).toBe(0);
    expect(jsonLines(run.stdout)).toEqual([
      {
        endpoint: dead,
        error: { code: 'UNAVAILABLE', details: expect.stringContaining('ECONNREFUSED') as string },
      },
      {
        endpoint: follower.address,
        status: {
          id: 2,
          term: 1,
          role: 'ROLE_FOLLOWER',
          leader_id: 1,
          commit_index: store.revision + 1,
          applied_index: store.revision + 1,
          members: [
            { id: 1, address: leader.address, learner: false },
            { id: 2, address: follower.address, learner: false },
          ],
          revision: store.revision,
          snapshot_index: 0,
        },
      },
    ]);
  });

  it('exit 3 when no endpoint answers', async () => {
    const run = await catmesh(['kv', 'status', '--timeout', '2s', '--endpoints', dead]);
    expect(run.code).toBe(3);
    expect(run.stdout).toContain('unreachable');
  });
});

describe('catmesh kv member and transfer-leader', () => {
  it('add, promote and remove a member; the members are printed after each change', async () => {
    const endpoint = ['--endpoints', follower.address];
    const add = await catmesh([
      'kv',
      'member',
      'add',
      '3',
      '10.0.0.3:7101',
      '--learner',
      ...endpoint,
    ]);
    expect(add.code).toBe(0);
    expect(add.stdout.split('\n').map((line) => line.trim().split(/\s+/))).toEqual([
      ['ID', 'ADDRESS', 'KIND'],
      ['1', leader.address, 'voter'],
      ['2', follower.address, 'voter'],
      ['3', '10.0.0.3:7101', 'learner'],
      [''],
    ]);
    const promote = await catmesh(['kv', 'member', 'promote', '3', '--json', ...endpoint]);
    expect(jsonLines(promote.stdout)).toEqual([
      {
        members: [
          { id: 1, address: leader.address, learner: false },
          { id: 2, address: follower.address, learner: false },
          { id: 3, address: '10.0.0.3:7101', learner: false },
        ],
      },
    ]);
    const remove = await catmesh(['kv', 'member', 'remove', '3', ...endpoint]);
    expect(remove.code).toBe(0);
    expect(remove.stdout).not.toContain('10.0.0.3');
    const again = await catmesh(['kv', 'member', 'remove', '3', ...endpoint]);
    expect(again).toMatchObject({ code: 1, stderr: 'catmesh: NOT_FOUND: id: 3 is not a member\n' });
  });

  it('transfer-leader prints the new leader', async () => {
    const run = await catmesh(['kv', 'transfer-leader', '2', '--endpoints', leader.address]);
    expect(run).toMatchObject({ code: 0, stdout: '2\n' });
    const json = await catmesh([
      'kv',
      'transfer-leader',
      '1',
      '--json',
      '--endpoints',
      leader.address,
    ]);
    expect(jsonLines(json.stdout)).toEqual([{ leader_id: 1 }]);
  });
});
