import { describe, expect, it } from 'vitest';
import { droppedPackets, lossTable, partitionTable } from '../src/netfilter/nft-rules.js';
import { newRunPrefix, nftName, parseRunName } from '../src/netfilter/run-prefix.js';

describe('nft rule generation', () => {
  it('drops a partition at the receiver, by source address, with counters', () => {
    const script = partitionTable('cmf_1_abc_f1', ['10.77.0.2', 'fd00::3', '10.77.0.2']);
    expect(script).toContain('type filter hook input priority raw; policy accept;');
    expect(script).toContain('ip saddr { 10.77.0.2 } counter drop');
    expect(script).toContain('ip6 saddr { fd00::3 } counter drop');
    expect(script).not.toContain('output');
  });

  it('draws loss per packet in both directions, and drops everything at probability 1', () => {
    const half = lossTable('t', 'eth0', 0.5);
    expect(half).toContain('iifname "eth0" numgen random mod 1000000 < 500000 counter drop');
    expect(half).toContain('oifname "eth0" numgen random mod 1000000 < 500000 counter drop');
    expect(lossTable('t', 'eth0', 1)).toContain('iifname "eth0" counter drop');
    expect(lossTable('t', 'eth0', 1e-9)).toContain('< 1 counter');
  });

  it('refuses names and addresses that could inject nft syntax', () => {
    expect(() => partitionTable('t; flush ruleset', ['10.0.0.1'])).toThrow(/table name/);
    expect(() => partitionTable('t', ['10.0.0.1 } accept'])).toThrow(/not an IP/);
    expect(() => partitionTable('t', [])).toThrow(/at least one/);
    expect(() => lossTable('t', 'eth0"', 0.5)).toThrow(/device/);
  });

  it('sums rule counters from nft JSON', () => {
    const listing = JSON.stringify({
      nftables: [
        { metainfo: {} },
        { table: { family: 'inet', name: 't' } },
        { rule: { expr: [{ match: {} }, { counter: { packets: 3, bytes: 90 } }, { drop: null }] } },
        { rule: { expr: [{ counter: { packets: 4, bytes: 120 } }, { drop: null }] } },
      ],
    });
    expect(droppedPackets(listing)).toBe(7);
  });
});

describe('run prefixes', () => {
  it('carry the owner pid so stale names can be told from live ones', () => {
    const prefix = newRunPrefix('cmf');
    expect(prefix.length).toBeLessThanOrEqual(15);
    expect(parseRunName(`${prefix}-n1`, 'cmf')).toEqual({ prefix, ownerPid: process.pid });
    expect(parseRunName(nftName(prefix, 'f3'), 'cmf')).toEqual({ prefix, ownerPid: process.pid });
    expect(parseRunName(prefix, 'cmf')).toEqual({ prefix, ownerPid: process.pid });
    expect(parseRunName(`${prefix}-n1`, 'xyz')).toBeUndefined();
    expect(parseRunName('eth0', 'cmf')).toBeUndefined();
    expect(() => newRunPrefix('Too-Long')).toThrow(/family/);
  });
});
