import { execFileSync, spawn } from 'node:child_process';

/** A system command (ip, nft, tc) that failed; `stderr` carries the tool's own explanation. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`\`${argv.join(' ')}\` failed (exit ${exitCode ?? 'signal'}): ${stderr.trim()}`);
  }
}

export interface CommandOptions {
  /** Run inside this named network namespace (`ip netns exec`); the current one when omitted. */
  readonly netns?: string | undefined;
  /** Written to the command's stdin (e.g. an nft script for `nft -f -`). */
  readonly input?: string;
}

function argvFor(command: string, args: readonly string[], netns: string | undefined): string[] {
  return netns === undefined
    ? [command, ...args]
    : ['ip', 'netns', 'exec', netns, command, ...args];
}

/** Runs a command and resolves with its stdout; rejects with a `CommandError`. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: CommandOptions = {},
): Promise<string> {
  const [file, ...rest] = argvFor(command, args, options.netns) as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const child = spawn(file, rest, {
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', (error) => reject(new CommandError([file, ...rest], null, error.message)));
    child.once('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new CommandError([file, ...rest], code, stderr));
    });
    if (child.stdin) {
      // A command that fails before reading its input closes the pipe; its exit code tells why.
      child.stdin.once('error', () => undefined);
      child.stdin.end(options.input);
    }
  });
}

/** The synchronous twin, for cleanups that run inside the process 'exit' event. */
export function runCommandSync(
  command: string,
  args: readonly string[],
  options: CommandOptions = {},
): string {
  const [file, ...rest] = argvFor(command, args, options.netns) as [string, ...string[]];
  try {
    return execFileSync(file, rest, {
      encoding: 'utf8',
      input: options.input,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
  } catch (error) {
    const failure = error as { status?: number | null; stderr?: string; message: string };
    throw new CommandError(
      [file, ...rest],
      failure.status ?? null,
      failure.stderr || failure.message,
    );
  }
}

// What ip, nft and tc print when the thing to remove is not there (any more).
const alreadyGone = [
  'Could not process rule: No such file or directory', // nft delete table
  'Cannot open network namespace', // ip netns exec into a deleted namespace
  'Cannot remove namespace file', // ip netns delete
  'Cannot find device', // ip link / tc on a deleted link
  // ip link del of a veth whose peer's namespace was just deleted: the kernel takes the pair
  // down on its own, after the listing that named it.
  'No such device',
  'Cannot delete qdisc with handle of zero', // tc qdisc del when only the default is left
];

/** Errors that mean "already gone", which is success for a revert or a teardown. */
export function isAlreadyGone(error: unknown): boolean {
  return error instanceof CommandError && alreadyGone.some((text) => error.stderr.includes(text));
}
