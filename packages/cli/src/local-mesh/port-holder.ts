import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** A process listening on a port, as far as this machine lets us see it. */
export interface PortHolder {
  readonly pid: number;
  /** Its command line, shortened. */
  readonly command: string;
}

/**
 * Who listens on TCP `port`: Linux's /proc (the socket's inode in /proc/net/tcp{,6}, then the
 * process holding that inode among its fds), else `lsof`. Undefined when it cannot tell (a
 * process of another user, no lsof).
 */
export async function findPortHolder(port: number): Promise<PortHolder | undefined> {
  return existsSync('/proc/net/tcp') ? fromProc(port) : fromLsof(port);
}

const LISTEN = '0A';

async function fromProc(port: number): Promise<PortHolder | undefined> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      if (!local || fields[3] !== LISTEN) continue;
      if (Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port) {
        inodes.add(fields[9]!);
      }
    }
  }
  if (inodes.size === 0) return undefined;
  const pids = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry));
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode !== undefined && inodes.has(inode)) {
        const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
        return { pid: Number(pid), command: shorten(cmdline.split('\0').join(' ').trim()) };
      }
    }
  }
  return undefined;
}

async function fromLsof(port: number): Promise<PortHolder | undefined> {
  try {
    const { stdout } = await execFileAsync('lsof', [
      '-nP',
      `-iTCP:${port}`,
      '-sTCP:LISTEN',
      '-Fpc',
    ]);
    const pid = /^p(\d+)$/m.exec(stdout)?.[1];
    const command = /^c(.+)$/m.exec(stdout)?.[1];
    return pid === undefined ? undefined : { pid: Number(pid), command: command ?? '?' };
  } catch {
    return undefined;
  }
}

function shorten(command: string): string {
  return command.length > 100 ? `${command.slice(0, 97)}...` : command;
}
