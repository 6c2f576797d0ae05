import { execFileSync } from 'node:child_process';

/**
 * Why LocalNetwork and the netfilter injector cannot run on this machine, or undefined when they
 * can: they need Linux, root, a working `ip netns` and `nft`. A real namespace is added and
 * deleted, because a container may have the tools and still refuse the syscall.
 */
export function networkNamespaceProblem(): string | undefined {
  if (process.platform !== 'linux') {
    return `network namespaces need Linux (this is ${process.platform})`;
  }
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, nftables)';
  const probe = `cmprobe${process.pid}`;
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
