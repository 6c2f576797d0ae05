import { randomBytes } from 'node:crypto';

// Everything a run creates in the kernel (namespaces, the root-side veth, nft tables) carries a
// name `<family>-<owner pid in base 36>-<random>`, so that a later run can find what a crashed one
// left behind and tell it apart from what a live run still uses. The root-side veth is named by
// the prefix alone, and Linux link names stop at 15 characters: hence the short family.

export const defaultFamily = 'cmf';

const familyPattern = /^[a-z][a-z0-9]{0,3}$/;

export function checkFamily(family: string): void {
  if (!familyPattern.test(family)) {
    throw new Error(`name family ${JSON.stringify(family)} must match ${String(familyPattern)}`);
  }
}

/** A fresh run prefix such as `cmf-2k1x-p7q`; at most 14 characters. */
export function newRunPrefix(family: string = defaultFamily): string {
  checkFamily(family);
  const random = (randomBytes(4).readUInt32BE(0) % 36 ** 3).toString(36).padStart(3, '0');
  return `${family}-${process.pid.toString(36)}-${random}`;
}

export interface ParsedName {
  readonly prefix: string;
  readonly ownerPid: number;
}

/**
 * Recognises a name made from a run prefix of `family`: the prefix itself, or the prefix followed
 * by `-suffix` (namespaces) or `_suffix` (nft tables, whose names cannot hold a dash, so the
 * prefix is written with underscores there).
 */
export function parseRunName(name: string, family: string): ParsedName | undefined {
  const match = /^([a-z][a-z0-9]{0,3})[-_]([0-9a-z]{1,7})[-_]([0-9a-z]{3})(?:[-_].*)?$/.exec(name);
  if (!match || match[1] !== family) return undefined;
  return { prefix: `${family}-${match[2]}-${match[3]}`, ownerPid: parseInt(match[2] ?? '', 36) };
}

/** The prefix spelt as an nft identifier (letters, digits, underscores). */
export function nftName(prefix: string, suffix: string): string {
  return `${prefix.replaceAll('-', '_')}_${suffix}`;
}

/** Whether a process with this pid exists (it may belong to someone else: pids are reused). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
