import { isAlreadyGone, runCommand, runCommandSync } from './run-command.js';

// Helpers for network namespaces made by this package (`ip netns add` names under /run/netns).

// IPv6 autoconfiguration chatter (router solicitations, MLD reports) would otherwise show up in
// loss counters and packet captures; the hosts speak IPv4 only.
export async function quietIpv6(netns: string): Promise<void> {
  await runCommand(
    'sysctl',
    ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'],
    { netns },
  ).catch(() => undefined);
}

/** Names of all named network namespaces (`ip netns list`). */
export async function listNamespaces(): Promise<string[]> {
  const out = await runCommand('ip', ['-j', 'netns', 'list']);
  // Empty output (rather than `[]`) also means there are none.
  return out.trim() === '' ? [] : (JSON.parse(out) as { name: string }[]).map((ns) => ns.name);
}

/**
 * Kills every process inside the namespace, then deletes it. A namespace lives as long as a
 * process uses it, so killing first is what makes its veths and rules really go away.
 */
export async function removeNamespace(netns: string): Promise<void> {
  const pids = await runCommand('ip', ['netns', 'pids', netns]).catch(() => '');
  killAll(pids);
  await runCommand('ip', ['netns', 'delete', netns]).catch(ignoreGone);
}

/** The synchronous twin, for cleanups at process exit. */
export function removeNamespaceSync(netns: string): void {
  let pids = '';
  try {
    pids = runCommandSync('ip', ['netns', 'pids', netns]);
  } catch {
    // Already gone.
  }
  killAll(pids);
  try {
    runCommandSync('ip', ['netns', 'delete', netns]);
  } catch (error) {
    ignoreGone(error);
  }
}

// SIGKILL for each pid in `ip netns pids` output (it also ends stopped processes).
function killAll(pidList: string): void {
  for (const pid of pidList.split(/\s+/).filter(Boolean).map(Number)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Exited meanwhile.
    }
  }
}

/** Rethrows unless the error says the thing was already gone. */
export function ignoreGone(error: unknown): void {
  if (!isAlreadyGone(error)) throw error;
}
