import { ignoreGone, listNamespaces, removeNamespace } from './namespaces.js';
import { runCommand } from './run-command.js';
import { checkFamily, defaultFamily, parseRunName, processAlive } from './run-prefix.js';

export interface StaleCleanupOptions {
  /**
   * Also remove what runs whose owner process is still alive have made. Off by default, so that
   * cleaning up never pulls the network from under a concurrent run (another test file, say).
   */
  readonly includeLiveOwners?: boolean;
}

export interface StaleCleanupReport {
  readonly namespaces: readonly string[];
  readonly links: readonly string[];
  readonly tables: readonly { readonly netns: string | undefined; readonly table: string }[];
}

/**
 * Finds and removes what earlier runs of `family` left behind (a run killed with SIGKILL cannot
 * clean up after itself): namespaces (after killing the processes inside), root-namespace links,
 * and nft tables in the root namespace or in any other named namespace. Only names whose owner
 * pid is gone are touched, unless `includeLiveOwners`.
 */
export async function cleanupStale(
  family: string = defaultFamily,
  options: StaleCleanupOptions = {},
): Promise<StaleCleanupReport> {
  checkFamily(family);
  const stale = (name: string): boolean => {
    const parsed = parseRunName(name, family);
    return (
      parsed !== undefined && (options.includeLiveOwners === true || !processAlive(parsed.ownerPid))
    );
  };

  const namespaces: string[] = [];
  const survivors: string[] = [];
  for (const netns of await listNamespaces()) {
    if (stale(netns)) {
      await removeNamespace(netns);
      namespaces.push(netns);
    } else {
      survivors.push(netns);
    }
  }

  const links: string[] = [];
  const rootLinks = JSON.parse(await runCommand('ip', ['-j', 'link', 'show'])) as {
    ifname: string;
  }[];
  for (const { ifname } of rootLinks) {
    if (!stale(ifname)) continue;
    await runCommand('ip', ['link', 'del', ifname]).catch(ignoreGone);
    links.push(ifname);
  }

  const tables: { netns: string | undefined; table: string }[] = [];
  for (const netns of [undefined, ...survivors]) {
    let listing: string;
    try {
      listing = await runCommand('nft', ['-j', 'list', 'tables'], { netns });
    } catch {
      continue; // no nft here, or the namespace vanished meanwhile
    }
    const items = (
      JSON.parse(listing) as { nftables?: { table?: { family: string; name: string } }[] }
    ).nftables;
    for (const item of items ?? []) {
      if (!item.table || !stale(item.table.name)) continue;
      await runCommand('nft', ['delete', 'table', item.table.family, item.table.name], {
        netns,
      }).catch(ignoreGone);
      tables.push({ netns, table: item.table.name });
    }
  }
  return { namespaces, links, tables };
}
