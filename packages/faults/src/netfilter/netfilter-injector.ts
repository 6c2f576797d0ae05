import { FaultConflictError, UnsupportedFaultError } from '../errors.js';
import { createInjector } from '../injector.js';
import type { FaultEvent, FaultInjector, FaultMechanism, FaultStep } from '../injector.js';
import type { Fault, FaultKind } from '../model.js';
import { partitionCuts } from '../model.js';
import { killStep, pauseStep } from '../process/process-fault-steps.js';
import type { ProcessSupervisor } from '../process/process-supervisor.js';
import { netemDelayArgs, netemSupport } from './netem.js';
import type { NetworkTarget } from './network-target.js';
import { droppedPackets, lossTable, partitionTable } from './nft-rules.js';
import { isAlreadyGone, runCommand, runCommandSync } from './run-command.js';
import { defaultFamily, newRunPrefix, nftName } from './run-prefix.js';

// The `netfilter` mechanism: network faults in the kernel, inside each target's network
// namespace (nftables tables for partition and loss, a tc netem qdisc for latency), and process
// faults through a process supervisor (kill -9 and restart, SIGSTOP and SIGCONT). Needs root, or
// NET_ADMIN in the targets' namespaces.

export interface NetfilterInjectorOptions {
  /** The nodes network faults can target, e.g. `localNetwork.targets()`. */
  readonly targets: readonly NetworkTarget[];
  /** The processes kill and pause faults act on, by node name; without it they are unsupported. */
  readonly processes?: ProcessSupervisor;
  /** First part of the nft table names (see cleanupStale); `cmf`. */
  readonly family?: string;
  /** Applied, reverted and revert-failed events, e.g. for a Jepsen-style history. */
  readonly onEvent?: (event: FaultEvent) => void;
  /**
   * Loses what a killed node had not fsynced (a power loss): rolls back its power-loss journal.
   * Without it, a kill fault with `powerLoss` is unsupported.
   */
  readonly loseUnsynced?: (node: string) => Promise<void>;
}

export function createNetfilterInjector(options: NetfilterInjectorOptions): FaultInjector {
  const family = options.family ?? defaultFamily;
  const prefix = newRunPrefix(family);
  const targets = new Map(options.targets.map((t) => [t.name, t]));
  if (targets.size !== options.targets.length) throw new Error('targets: names must be unique');
  // One netem qdisc per device: a second latency fault on a target would have to replace the first.
  const delayed = new Set<string>();

  const target = (name: string): NetworkTarget => {
    const found = targets.get(name);
    if (!found) throw new Error(`no network target ${name}`);
    return found;
  };
  const supervisor = (kind: FaultKind): ProcessSupervisor => {
    if (!options.processes) {
      throw new UnsupportedFaultError(
        kind,
        'the netfilter injector was given no process supervisor',
      );
    }
    return options.processes;
  };

  const mechanism: FaultMechanism = {
    name: 'netfilter',
    knownTargets(kind) {
      return kind === 'kill' || kind === 'pause' ? supervisor(kind).names() : [...targets.keys()];
    },
    async plan(fault: Fault, id: string): Promise<FaultStep[]> {
      const table = nftName(prefix, id);
      switch (fault.kind) {
        case 'partition': {
          const sourcesByTarget = new Map<string, string[]>();
          for (const { from, to } of partitionCuts(fault)) {
            const sources = sourcesByTarget.get(to) ?? [];
            sources.push(...target(from).addresses);
            sourcesByTarget.set(to, sources);
          }
          // Dropping at the receiver is enough to cut a direction, and keeps one-way cuts exact.
          return [...sourcesByTarget].map(([to, sources]) =>
            nftTableStep(target(to).netns, table, partitionTable(table, sources)),
          );
        }
        case 'loss':
          return fault.targets.map((name) => {
            const t = target(name);
            return nftTableStep(t.netns, table, lossTable(table, t.device, fault.probability));
          });
        case 'latency': {
          const support = await netemSupport(family);
          if (!support.supported) throw new UnsupportedFaultError('latency', support.reason);
          const busy = fault.targets.find((name) => delayed.has(name));
          if (busy !== undefined) {
            throw new FaultConflictError(`${busy} already has a latency fault applied`);
          }
          return fault.targets.map((name) =>
            netemStep(
              target(name),
              netemDelayArgs(target(name).device, fault.delayMs, fault.jitterMs ?? 0),
              delayed,
            ),
          );
        }
        case 'kill': {
          const lose = options.loseUnsynced;
          if (fault.powerLoss === true && lose === undefined) {
            throw new UnsupportedFaultError(
              'kill',
              'a power loss needs the targets’ power-loss journals (loseUnsynced), and none was given',
            );
          }
          return fault.targets.map((name) =>
            killStep(
              supervisor('kill'),
              name,
              fault.restartAfterMs,
              fault.powerLoss === true ? () => lose!(name) : undefined,
            ),
          );
        }
        case 'pause':
          return fault.targets.map((name) => pauseStep(supervisor('pause'), name));
      }
    },
  };
  return createInjector(mechanism, { onEvent: options.onEvent });
}

function nftTableStep(netns: string | undefined, table: string, script: string): FaultStep {
  let reverted = false;
  let lastCount = 0;
  const count = async (): Promise<number> => {
    if (reverted) return lastCount;
    const listing = await runCommand('nft', ['-j', 'list', 'table', 'inet', table], { netns });
    lastCount = droppedPackets(listing);
    return lastCount;
  };
  return {
    async apply() {
      // `nft -f` applies the whole table atomically or not at all.
      await runCommand('nft', ['-f', '-'], { netns, input: script });
    },
    async revert() {
      if (reverted) return;
      await count().catch(() => undefined); // the final tally, while the counters still exist
      await runCommand('nft', ['delete', 'table', 'inet', table], { netns }).catch(
        (error: unknown) => {
          if (!isAlreadyGone(error)) throw error;
        },
      );
      reverted = true;
    },
    revertAtExit() {
      if (reverted) return;
      reverted = true;
      try {
        runCommandSync('nft', ['delete', 'table', 'inet', table], { netns });
      } catch {
        // Gone already, or the namespace with it.
      }
    },
    droppedPackets: () => count().catch(() => lastCount),
  };
}

function netemStep(
  target: NetworkTarget,
  addArgs: readonly string[],
  delayed: Set<string>,
): FaultStep {
  const { netns, device, name } = target;
  let applied = false;
  const deleteArgs = ['qdisc', 'del', 'dev', device, 'root'];
  return {
    async apply() {
      delayed.add(name);
      // `add` (not `replace`) fails rather than clobber a root qdisc someone else installed.
      await runCommand('tc', addArgs, { netns });
      applied = true;
    },
    async revert() {
      if (applied) {
        await runCommand('tc', deleteArgs, { netns }).catch((error: unknown) => {
          if (!isAlreadyGone(error)) throw error;
        });
        applied = false;
      }
      delayed.delete(name);
    },
    revertAtExit() {
      if (!applied) return;
      applied = false;
      try {
        runCommandSync('tc', deleteArgs, { netns });
      } catch {
        // Gone already, or the namespace with it.
      }
    },
  };
}
