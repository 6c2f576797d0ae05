// Cuts one etcd member off from its peers on loopback with nftables. All members share
// 127.0.0.1, so ports alone cannot tell the cut member's outgoing peer connections from the
// others': the member runs as a uid of its own, its connections to the other peer ports are
// marked in conntrack by that uid (`meta skuid`, seen in the output hook), and every packet of a
// marked connection is dropped both ways, as is everything to or from the member's own peer port.
// Client ports stay open, as with cat-feeder's fault API, which cuts peer traffic only.
import { execFileSync } from 'node:child_process';
import { onAbnormalExit } from './server-process.js';

export interface NftCut {
  readonly uid: number;
  readonly ownPeerPort: number;
  readonly otherPeerPorts: readonly number[];
}

const MARK = '0x4d455348';

/** Whether this process may add nftables tables (root, or CAP_NET_ADMIN); the reason if not. */
export function nftUnavailable(): string | undefined {
  const probe = `catmesh_probe_${process.pid}`;
  try {
    execFileSync('nft', ['add', 'table', 'inet', probe], { stdio: 'pipe' });
    execFileSync('nft', ['delete', 'table', 'inet', probe], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return `nft cannot add a table: ${stderr || (error as Error).message}`;
  }
}

/** Applies the cut; the returned function removes it (and so does any exit of the runner). */
export function cutOff(cut: NftCut): () => void {
  const table = `catmesh_scale_${process.pid}`;
  const others = cut.otherPeerPorts.join(', ');
  const ruleset = `table inet ${table} {
  chain output {
    type filter hook output priority 0; policy accept;
    meta skuid ${cut.uid} tcp dport { ${others} } ct mark set ${MARK}
    ct mark ${MARK} drop
    tcp dport ${cut.ownPeerPort} drop
    tcp sport ${cut.ownPeerPort} drop
  }
  chain input {
    type filter hook input priority 0; policy accept;
    ct mark ${MARK} drop
  }
}
`;
  execFileSync('nft', ['-f', '-'], { input: ruleset, stdio: ['pipe', 'ignore', 'pipe'] });
  const remove = () => execFileSync('nft', ['delete', 'table', 'inet', table], { stdio: 'ignore' });
  const forget = onAbnormalExit(remove);
  return () => {
    forget();
    remove();
  };
}
