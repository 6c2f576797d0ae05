import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { MESH_MARKER_VARIABLE } from './instance-environment.js';
import { commandLineOf, hasEnvironmentEntry } from './process-identity.js';
import type { StateDir } from './state-dir.js';

/** What a pid file holds: enough to tell, later, that the pid is still the process we started. */
export interface PidRecord {
  readonly pid: number;
  /** Its command line as commandLineOf reads it: a reused pid runs something else. */
  readonly commandLine: string;
  /** Whether its environment carries the mesh marker (instances do; the runner cannot). */
  readonly marked: boolean;
  readonly startedAt: string;
}

export interface PidFile {
  readonly name: string;
  readonly path: string;
  /** Undefined when the file is unreadable (cut short by a crash while it was written). */
  readonly record: PidRecord | undefined;
}

/**
 * Writes `<state>/run/<name>.pid`. With `exclusive`, fails with EEXIST when the file is there
 * already: two runners racing for one state directory cannot both win.
 */
export async function writePidFile(
  state: StateDir,
  name: string,
  record: PidRecord,
  options: { readonly exclusive?: boolean } = {},
): Promise<void> {
  await mkdir(state.runDir, { recursive: true });
  await writeFile(state.pidFile(name), `${JSON.stringify(record)}\n`, {
    flag: options.exclusive ? 'wx' : 'w',
  });
}

export async function removePidFile(state: StateDir, name: string): Promise<void> {
  await rm(state.pidFile(name), { force: true });
}

export async function readPidFile(state: StateDir, name: string): Promise<PidFile | undefined> {
  const path = state.pidFile(name);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return { name, path, record: parseRecord(text) };
}

/** Every pid file in the state directory. */
export async function readPidFiles(state: StateDir): Promise<PidFile[]> {
  let entries: string[];
  try {
    entries = await readdir(state.runDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const files = await Promise.all(
    entries
      .filter((entry) => entry.endsWith('.pid'))
      .map((entry) => readPidFile(state, basename(entry, '.pid'))),
  );
  return files.filter((file): file is PidFile => file !== undefined);
}

/**
 * Whether the pid in `record` is alive and still the process we started: same command line,
 * and (for instances) the mesh marker naming this state directory in its environment. Only
 * then may its process group be signalled; anything else is a pid the OS has handed on.
 */
export async function isOurLiveProcess(
  record: PidRecord | undefined,
  state: StateDir,
): Promise<boolean> {
  if (!record || !Number.isInteger(record.pid) || record.pid <= 1) return false;
  const commandLine = await commandLineOf(record.pid);
  if (commandLine === undefined || commandLine !== record.commandLine) return false;
  return !record.marked || hasEnvironmentEntry(record.pid, MESH_MARKER_VARIABLE, state.root);
}

function parseRecord(text: string): PidRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<PidRecord>;
    if (
      typeof value.pid === 'number' &&
      typeof value.commandLine === 'string' &&
      typeof value.marked === 'boolean'
    ) {
      return {
        pid: value.pid,
        commandLine: value.commandLine,
        marked: value.marked,
        startedAt: String(value.startedAt ?? ''),
      };
    }
    return undefined;
  } catch {
    return undefined;
  }
}
