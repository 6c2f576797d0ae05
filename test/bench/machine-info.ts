// Where and with what a benchmark ran, for the report: figures mean little without it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, tmpdir, totalmem } from 'node:os';

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly kernel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly etcd: string;
  readonly gitCommit: string;
  readonly dataFilesystem: string;
}

function run(command: string, args: readonly string[]): string | undefined {
  try {
    return execFileSync(command, args, { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

export function describeMachine(): MachineInfo {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  const etcdVersion = run('etcd', ['--version']);
  const etcd = etcdVersion
    ? `etcd ${/^etcd Version: (\S+)/m.exec(etcdVersion)?.[1] ?? '?'} ` +
      `(${/^Go Version: (\S+)/m.exec(etcdVersion)?.[1] ?? '?'})`
    : 'etcd not installed';
  const commit = run('git', ['rev-parse', '--short', 'HEAD']) ?? 'unknown';
  const dirty = (run('git', ['status', '--porcelain']) ?? '') !== '';
  return {
    cpus: availableParallelism(),
    cpuModel: model,
    kernel: release(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    etcd,
    gitCommit: dirty ? `${commit} with uncommitted changes` : commit,
    dataFilesystem: `${tmpdir()} (${run('df', ['--output=fstype', tmpdir()])?.split('\n')[1] ?? 'unknown'})`,
  };
}

/** The 1-minute load average, to show what else the shared machine was doing. */
export function loadAverage(): string {
  return loadavg()[0]!.toFixed(2);
}
