import { execFileSync } from 'node:child_process';

/**
 * Why a check cannot run on this machine, or undefined when it can: the cluster lives in network
 * namespaces and the faults are nftables rules and signals, which need Linux, root, `ip netns`
 * and `nft`.
 */
export function environmentProblem(): string | undefined {
  if (process.platform !== 'linux') {
    return `network namespaces need Linux (this is ${process.platform})`;
  }
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, nftables)';
  const probe = `cmjprobe${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'delete', probe], { stdio: 'pipe' });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return `\`ip netns add\` fails: ${stderr || (error as Error).message}`;
  }
  try {
    execFileSync('nft', ['--version'], { stdio: 'pipe' });
  } catch {
    return 'nft (nftables) is not installed';
  }
  return undefined;
}
