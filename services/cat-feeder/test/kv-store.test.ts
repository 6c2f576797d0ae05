import type { catfeederStorageV1 } from '@catmesh/proto';
import { describe, expect, it } from 'vitest';
import { KvStore } from '../src/kv-store.js';

type Command = catfeederStorageV1.Command;

const put = (key: string, value: string, requestId?: [string, number]): Command => ({
  requestId: requestId && { clientId: requestId[0], sequence: requestId[1] },
  op: { $case: 'put', value: { key, value: Buffer.from(value) } },
  traceContext: {},
});
const del = (key: string): Command => ({
  requestId: undefined,
  op: { $case: 'delete', value: { key } },
  traceContext: {},
});
const cas = (
  key: string,
  expected: catfeederStorageV1.CompareAndSwapOp['expected'],
  value: string,
): Command => ({
  requestId: undefined,
  op: { $case: 'compareAndSwap', value: { key, expected, newValue: Buffer.from(value) } },
  traceContext: {},
});

function applied(store: KvStore, index: number, command: Command) {
  const outcome = store.apply(index, command);
  if (outcome.kind !== 'applied') throw new Error(`expected applied, got ${outcome.kind}`);
  return outcome;
}

describe('KvStore', () => {
  it('keeps etcd-style revisions: global revision, create/mod revision, version', () => {
    const store = new KvStore();
    applied(store, 1, put('cat.state', 'hungry'));
    applied(store, 2, put('bowl', 'empty'));
    const second = applied(store, 3, put('cat.state', 'full'));
    expect(store.revision).toBe(3);
    expect(second.result.kv).toMatchObject({ createRevision: 1, modRevision: 3, version: 2 });
    expect(second.events).toEqual([{ type: 'put', kv: second.result.kv }]);
  });

  it('deletes with a tombstone event and leaves the revision alone for a missing key', () => {
    const store = new KvStore();
    applied(store, 1, put('k', 'v'));
    const deleted = applied(store, 2, del('k'));
    expect(deleted.result).toMatchObject({ changed: true, revision: 2 });
    expect(deleted.events[0]).toMatchObject({ type: 'delete', kv: { key: 'k', modRevision: 2 } });
    const missing = applied(store, 3, del('k'));
    expect(missing.result).toMatchObject({ changed: false, revision: 2 });
    expect(missing.events).toEqual([]);
    // Re-creating starts a new generation.
    expect(applied(store, 4, put('k', 'again')).result.kv).toMatchObject({
      createRevision: 3,
      version: 1,
    });
  });

  it('compare-and-swap on value, on revision and on absence', () => {
    const store = new KvStore();
    const absent = applied(store, 1, cas('k', { $case: 'expectedAbsent', value: true }, 'a'));
    expect(absent.result.changed).toBe(true);
    const stale = applied(
      store,
      2,
      cas('k', { $case: 'expectedValue', value: Buffer.from('x') }, 'b'),
    );
    expect(stale.result).toMatchObject({ changed: false, kv: { value: Buffer.from('a') } });
    const byValue = applied(
      store,
      3,
      cas('k', { $case: 'expectedValue', value: Buffer.from('a') }, 'b'),
    );
    expect(byValue.result.changed).toBe(true);
    const modRevision = byValue.result.kv!.modRevision;
    const byOldRevision = applied(
      store,
      4,
      cas('k', { $case: 'expectedModRevision', value: 1 }, 'c'),
    );
    expect(byOldRevision.result.changed).toBe(false);
    const byRevision = applied(
      store,
      5,
      cas('k', { $case: 'expectedModRevision', value: modRevision }, 'c'),
    );
    expect(byRevision.result.changed).toBe(true);
    expect(
      applied(store, 6, cas('k', { $case: 'expectedAbsent', value: true }, 'd')).result.changed,
    ).toBe(false);
    expect(store.get('k')!.value.toString()).toBe('c');
  });

  it('applies a retried write once and answers with the original result (§6.3)', () => {
    const store = new KvStore();
    const first = applied(store, 1, put('k', 'v1', ['client-a', 7]));
    applied(store, 2, put('k', 'v2'));
    const retry = store.apply(3, put('k', 'v1', ['client-a', 7]));
    expect(retry).toEqual({ kind: 'duplicate', result: first.result });
    expect(store.get('k')!.value.toString()).toBe('v2');
    expect(store.revision).toBe(2);
  });

  it('refuses a retry older than the remembered window instead of applying it twice', () => {
    const store = new KvStore({ resultsPerClient: 2, maxSessions: 10 });
    for (let seq = 1; seq <= 3; seq++) applied(store, seq, put('k', `v${seq}`, ['c', seq]));
    expect(store.apply(4, put('k', 'v1', ['c', 1]))).toEqual({
      kind: 'expired',
      oldestRemembered: 2,
    });
    expect(store.revision).toBe(3);
  });

  it('forgets the least recently active session first', () => {
    const store = new KvStore({ resultsPerClient: 4, maxSessions: 2 });
    applied(store, 1, put('k', 'a', ['a', 1]));
    applied(store, 2, put('k', 'b', ['b', 1]));
    applied(store, 3, put('k', 'a2', ['a', 2]));
    applied(store, 4, put('k', 'c', ['c', 1])); // evicts b, the least recently active
    expect(store.apply(5, put('k', 'a', ['a', 1])).kind).toBe('duplicate');
    expect(store.apply(6, put('k', 'b', ['b', 1])).kind).toBe('applied');
  });

  it('ranges by prefix in key order with a limit', () => {
    const store = new KvStore();
    ['b/2', 'a/1', 'b/1', 'b/3'].forEach((k, i) => applied(store, i + 1, put(k, k)));
    expect(store.range('b/', 0).kvs.map((kv) => kv.key)).toEqual(['b/1', 'b/2', 'b/3']);
    expect(store.range('b/', 2)).toMatchObject({
      more: true,
      kvs: [{ key: 'b/1' }, { key: 'b/2' }],
    });
  });

  it('snapshots and restores everything, sessions included', () => {
    const store = new KvStore();
    applied(store, 1, put('cat.state', 'full', ['c', 1]));
    applied(store, 2, put('bowl', 'empty'));
    store.setMemberAddress(4, '127.0.0.1:7104');
    const copy = new KvStore();
    copy.restore(store.snapshot());
    expect(copy.revision).toBe(2);
    expect(copy.get('cat.state')).toEqual(store.get('cat.state'));
    expect(copy.apply(3, put('cat.state', 'full', ['c', 1])).kind).toBe('duplicate');
    expect(copy.memberAddresses()).toEqual(new Map([[4, '127.0.0.1:7104']]));
  });

  it('rejects a command without an operation without changing anything', () => {
    const store = new KvStore();
    expect(store.apply(1, { requestId: undefined, op: undefined, traceContext: {} })).toMatchObject(
      {
        kind: 'invalid',
      },
    );
    expect(store.revision).toBe(0);
  });
});
