import { isIPv4, isIPv6 } from 'node:net';

// Each applied fault gets its own nftables table in each namespace it touches. Base chains of
// every table see every packet and a drop anywhere is final, so a fault's table works whatever
// else is loaded (kube-proxy, firewalld, another fault), and reverting it is `delete table`:
// exactly what was added goes, nothing else. Chains hook at priority `raw` (-300), ahead of
// conntrack, so a cut also stops established connections and leaves no half-tracked state.
// Rules carry counters: how many packets a fault dropped is part of what it did.

const devicePattern = /^[A-Za-z0-9_.@-]{1,15}$/;
const tablePattern = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

function checkTable(table: string): void {
  if (!tablePattern.test(table)) throw new Error(`invalid nft table name ${JSON.stringify(table)}`);
}

function checkDevice(device: string): void {
  if (!devicePattern.test(device)) throw new Error(`invalid device name ${JSON.stringify(device)}`);
}

function baseChain(name: 'input' | 'output', rules: readonly string[]): string {
  return [
    `  chain ${name} {`,
    `    type filter hook ${name} priority raw; policy accept;`,
    ...rules.map((rule) => `    ${rule}`),
    '  }',
  ].join('\n');
}

function table(name: string, chains: readonly string[]): string {
  return `table inet ${name} {\n${chains.join('\n')}\n}\n`;
}

/** Drops every packet this namespace receives from `sources` (addresses of cut-off peers). */
export function partitionTable(name: string, addresses: readonly string[]): string {
  checkTable(name);
  const sources = [...new Set(addresses)];
  const v4 = sources.filter((a) => isIPv4(a));
  const v6 = sources.filter((a) => isIPv6(a));
  const invalid = sources.find((a) => !isIPv4(a) && !isIPv6(a));
  if (invalid !== undefined) throw new Error(`not an IP address: ${JSON.stringify(invalid)}`);
  if (sources.length === 0) throw new Error('a partition table needs at least one source address');
  const rules: string[] = [];
  if (v4.length > 0) rules.push(`ip saddr { ${v4.join(', ')} } counter drop`);
  if (v6.length > 0) rules.push(`ip6 saddr { ${v6.join(', ')} } counter drop`);
  return table(name, [baseChain('input', rules)]);
}

// numgen draws uniformly from [0, lossScale); a packet is dropped when the draw is below the
// threshold. A millionth is finer than any loss worth simulating.
const lossScale = 1_000_000;

/** Drops each packet in and out of `device` with `probability`. */
export function lossTable(name: string, device: string, probability: number): string {
  checkTable(name);
  checkDevice(device);
  if (!(probability > 0 && probability <= 1)) throw new Error(`loss probability ${probability}`);
  const threshold = Math.max(1, Math.round(probability * lossScale));
  const coin = threshold >= lossScale ? '' : ` numgen random mod ${lossScale} < ${threshold}`;
  return table(name, [
    baseChain('input', [`iifname "${device}"${coin} counter drop`]),
    baseChain('output', [`oifname "${device}"${coin} counter drop`]),
  ]);
}

/** Sums the packet counters in the JSON of `nft -j list table`. */
export function droppedPackets(listTableJson: string): number {
  const parsed = JSON.parse(listTableJson) as { nftables?: unknown[] };
  let total = 0;
  for (const item of parsed.nftables ?? []) {
    const expr = (item as { rule?: { expr?: unknown[] } }).rule?.expr ?? [];
    for (const part of expr) {
      const packets = (part as { counter?: { packets?: unknown } }).counter?.packets;
      if (typeof packets === 'number') total += packets;
    }
  }
  return total;
}
