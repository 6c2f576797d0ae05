import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { InstanceSpec } from './instance-spec.js';

/**
 * What is missing before the mesh can start, one line each, saying how to get it:
 * `nats-server is not installed: apt-get install nats-server (Debian, Ubuntu) or ...`.
 */
export async function missingRequirements(
  instances: readonly InstanceSpec[],
  path: string | undefined,
): Promise<string[]> {
  const problems = new Set<string>();
  for (const { requires, service } of instances) {
    if ('program' in requires) {
      if (!(await onPath(requires.program, path))) {
        problems.add(`${requires.program} is not installed: ${requires.install}`);
      }
    } else if (!(await isFile(requires.file, constants.R_OK))) {
      problems.add(`${service} is not built (no ${requires.file}): run ${requires.build}`);
    }
  }
  return [...problems];
}

async function onPath(program: string, path: string | undefined): Promise<boolean> {
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir !== '' && (await isFile(join(dir, program), constants.X_OK))) return true;
  }
  return false;
}

async function isFile(file: string, mode: number): Promise<boolean> {
  try {
    await access(file, mode);
    return true;
  } catch {
    return false;
  }
}
