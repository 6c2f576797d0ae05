import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const HAS_PROC = existsSync('/proc/self/cmdline');

/**
 * The command line of process `pid`, its arguments joined by spaces (as `ps` shows it), or
 * undefined when there is no such process or it has exited and awaits its parent (a zombie).
 * Linux reads /proc; elsewhere (macOS) it asks `ps`.
 */
export async function commandLineOf(pid: number): Promise<string | undefined> {
  if (!HAS_PROC) return commandLineFromPs(pid);
  try {
    const [cmdline, stat] = await Promise.all([readFile(`/proc/${pid}/cmdline`), procStat(pid)]);
    if (!stat || stat.state === 'Z' || cmdline.length === 0) return undefined;
    return argvOfCmdline(cmdline).join(' ');
  } catch {
    return undefined;
  }
}

/** The arguments of a /proc/<pid>/cmdline: NUL-separated, with a trailing NUL. */
export function argvOfCmdline(cmdline: Buffer): string[] {
  const text = cmdline.toString('utf8');
  return (text.endsWith('\0') ? text.slice(0, -1) : text).split('\0');
}

async function commandLineFromPs(pid: number): Promise<string | undefined> {
  try {
    const { stdout } = await execFileAsync('ps', ['-o', 'stat=,command=', '-p', String(pid)]);
    const match = /^\s*(\S+)\s+(.*)$/.exec(stdout.trimEnd());
    if (!match || match[1]!.startsWith('Z')) return undefined;
    return match[2];
  } catch {
    return undefined;
  }
}

/**
 * Whether process `pid` has `name=value` in its environment. Where that cannot be read (no
 * /proc), true: the command line is then the only evidence.
 */
export async function hasEnvironmentEntry(
  pid: number,
  name: string,
  value: string,
): Promise<boolean> {
  if (!HAS_PROC) return true;
  try {
    const environ = await readFile(`/proc/${pid}/environ`);
    return argvOfCmdline(environ).includes(`${name}=${value}`);
  } catch {
    return false;
  }
}

/** The command line of this process, as commandLineOf will read it later. */
export async function ownCommandLine(): Promise<string> {
  return (
    (await commandLineOf(process.pid)) ??
    [process.argv0, ...process.execArgv, ...process.argv.slice(1)].join(' ')
  );
}

/**
 * Whether any process of group `pgid` is still running. A process that has exited but not yet
 * been reaped (a zombie) does not count: an orphan's new parent (init, or whatever runs as
 * pid 1 in a container) may take its time to reap it, and the process is done all the same.
 */
export async function processGroupExists(pgid: number): Promise<boolean> {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (!HAS_PROC) return true;
  const leader = await procStat(pgid);
  if (leader && leader.state !== 'Z') return true;
  // The leader is done: the group lives on only if another member runs.
  const pids = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry));
  for (const pid of pids) {
    const stat = await procStat(Number(pid));
    if (stat && stat.pgrp === pgid && stat.state !== 'Z') return true;
  }
  return false;
}

/** A process's state letter and process group, from /proc/<pid>/stat; undefined if gone. */
async function procStat(pid: number): Promise<{ state: string; pgrp: number } | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The fields after the parenthesised name (which may itself contain ") "): state ppid pgrp.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return state === undefined ? undefined : { state, pgrp: Number(pgrp) };
  } catch {
    return undefined;
  }
}
