import { CommandError, runCommand } from './run-command.js';
import { defaultFamily, newRunPrefix } from './run-prefix.js';

// Latency goes through the kernel's netem queueing discipline. Some kernels are built without it
// (sch_netem missing, as on the machines this was written on), so support is probed once, on a
// scratch namespace that touches nothing else, and the answer is cached for the process.

export type NetemSupport =
  { readonly supported: true } | { readonly supported: false; readonly reason: string };

let probe: Promise<NetemSupport> | undefined;

/** Whether `tc qdisc add ... netem` works on this machine; probed once per process. */
export function netemSupport(family: string = defaultFamily): Promise<NetemSupport> {
  probe ??= probeNetem(family);
  return probe;
}

async function probeNetem(family: string): Promise<NetemSupport> {
  const netns = `${newRunPrefix(family)}-netem`;
  try {
    await runCommand('ip', ['netns', 'add', netns]);
  } catch (error) {
    return {
      supported: false,
      reason: `cannot create a network namespace to probe netem: ${why(error)}`,
    };
  }
  try {
    await runCommand('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    await runCommand('tc', [
      '-n',
      netns,
      'qdisc',
      'add',
      'dev',
      'lo',
      'root',
      'netem',
      'delay',
      '1ms',
    ]);
    return { supported: true };
  } catch (error) {
    return {
      supported: false,
      reason: `the kernel refuses a netem qdisc (${why(error)}); sch_netem is missing or not loadable`,
    };
  } finally {
    await runCommand('ip', ['netns', 'delete', netns]).catch(() => undefined);
  }
}

function why(error: unknown): string {
  return error instanceof CommandError ? error.stderr.trim() : String(error);
}

/** Arguments for `tc` that put a netem delay on a device's egress. */
export function netemDelayArgs(device: string, delayMs: number, jitterMs: number): string[] {
  const args = ['qdisc', 'add', 'dev', device, 'root', 'netem', 'delay', `${delayMs}ms`];
  // netem draws each packet's delay uniformly from delay ± jitter (so jitter can reorder packets).
  if (jitterMs > 0) args.push(`${jitterMs}ms`);
  return args;
}
