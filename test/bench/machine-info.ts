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

/** What the whole machine was doing while one cell was measured. */
export interface MachineLoad {
  /** The 1-minute load average at the end of the window (it smooths over the cells before). */
  readonly loadAverage: number;
  /**
   * CPU used by every process on the machine over the window, this benchmark's included, in % of
   * one core (like the client and server CPU, so that the three compare directly).
   */
  readonly cpuPercent: number;
}

/** The machine's CPU time so far, in clock ticks, from /proc/stat. */
export interface CpuTicks {
  readonly busy: number;
  readonly total: number;
  readonly cpus: number;
}

export function parseProcStat(text: string): CpuTicks {
  const lines = text.split('\n');
  // user nice system idle iowait irq softirq steal (guest time is already inside user and nice).
  // Steal counts as busy: a core the hypervisor gave to someone else was not ours to use.
  const [user, nice, system, idle, iowait, irq, softirq, steal] = lines[0]!
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number) as [number, number, number, number, number, number, number, number];
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  return {
    busy: total - idle - iowait,
    total,
    cpus: lines.filter((line) => /^cpu\d/.test(line)).length,
  };
}

/** The busy share of the ticks between two readings, in % of one core (0 when none passed). */
export function machineCpuPercent(before: CpuTicks, after: CpuTicks): number {
  const total = after.total - before.total;
  return total <= 0 ? 0 : ((after.busy - before.busy) / total) * after.cpus * 100;
}

const readCpuTicks = () => parseProcStat(readFileSync('/proc/stat', 'utf8'));

/**
 * The machine's load over [fromMs, toMs) from now: called as a cell starts, with the offsets of
 * its measured window. Both timers start now, as the closed loop's CPU snapshots do, so that a
 * late timer shifts one reading rather than the whole window.
 */
export async function watchMachine(fromMs: number, toMs: number): Promise<MachineLoad> {
  const at = (ms: number) =>
    new Promise<CpuTicks>((resolve) => setTimeout(() => resolve(readCpuTicks()), ms));
  const [before, after] = await Promise.all([at(fromMs), at(toMs)]);
  return { loadAverage: loadavg()[0]!, cpuPercent: machineCpuPercent(before, after) };
}
