import { describe, expect, it } from 'vitest';
import type { ChangeEvent } from '../src/kv-store.js';
import { RevisionCompactedError, WatchHub } from '../src/watch-hub.js';

const event = (key: string, revision: number): ChangeEvent => ({
  type: 'put',
  kv: {
    key,
    value: Buffer.from(String(revision)),
    createRevision: revision,
    modRevision: revision,
    version: 1,
  },
});

function collect(hub: WatchHub, prefix: string, from: number) {
  const seen: number[] = [];
  const handle = hub.watch(
    { prefix, deliver: (events) => seen.push(...events.map((e) => e.kv.modRevision)) },
    from,
  );
  return { seen, handle };
}

describe('WatchHub', () => {
  it('delivers the backlog from a revision, then live changes, in order and by prefix', () => {
    const hub = new WatchHub(0);
    hub.publish([event('cat.state', 1), event('bowl', 2), event('cat.state', 3)]);
    const { seen } = collect(hub, 'cat.', 2);
    hub.publish([event('cat.state', 4), event('bowl', 5)]);
    expect(seen).toEqual([3, 4]);
  });

  it('starts after the current revision when asked from 0', () => {
    const hub = new WatchHub(0);
    hub.publish([event('k', 1)]);
    const { seen } = collect(hub, '', 0);
    hub.publish([event('k', 2)]);
    expect(seen).toEqual([2]);
  });

  it('reports revisions older than its history as compacted', () => {
    const hub = new WatchHub(0, 4);
    hub.publish([1, 2, 3, 4, 5, 6].map((revision) => event('k', revision)));
    expect(() => collect(hub, '', 2)).toThrow(RevisionCompactedError);
    expect(collect(hub, '', 3).seen).toEqual([3, 4, 5, 6]);
    hub.reset(10);
    expect(() => collect(hub, '', 5)).toThrow(/history starts at revision 11/);
  });

  it('stops delivering after cancel', () => {
    const hub = new WatchHub(0);
    const { seen, handle } = collect(hub, '', 0);
    handle.cancel();
    hub.publish([event('k', 1)]);
    expect(seen).toEqual([]);
    expect(hub.watcherCount).toBe(0);
  });
});
