import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface FixtureProcess {
  readonly child: ChildProcess;
  /** Every stdout line so far. */
  stdout(): string[];
  /** Every stderr line so far. */
  stderr(): string[];
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
  /** Waits until a stdout line satisfies `predicate` (the timeout is only a safety net). */
  waitForLine(predicate: (line: string) => boolean, timeoutMs?: number): Promise<string>;
}

const packageRoot = fileURLToPath(new URL('..', import.meta.url));

/**
 * Runs `test/fixtures/<name>.ts` as its own Node process, the way the services run from source:
 * `node --conditions=@catmesh/source --import tsx`.
 */
export function spawnFixture(name: string, env: Record<string, string>): FixtureProcess {
  const script = fileURLToPath(new URL(`../fixtures/${name}.ts`, import.meta.url));
  const child = spawn(
    process.execPath,
    ['--conditions=@catmesh/source', '--import', 'tsx', script],
    {
      cwd: packageRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const out: string[] = [];
  const err: string[] = [];
  const waiters = new Set<() => void>();
  collectLines(child.stdout, out, waiters);
  collectLines(child.stderr, err, waiters);
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', (code) => {
      for (const wake of waiters) wake();
      resolve(code);
    });
  });
  return {
    child,
    stdout: () => [...out],
    stderr: () => [...err],
    exited,
    waitForLine: (predicate, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const line = out.find(predicate);
          if (line !== undefined) {
            done();
            resolve(line);
          } else if (child.exitCode !== null) {
            done();
            reject(
              new Error(
                `fixture ${name} exited (${child.exitCode}):\n${[...out, ...err].join('\n')}`,
              ),
            );
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(`fixture ${name}: no such line within ${timeoutMs} ms:\n${out.join('\n')}`),
          );
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
  };
}

function collectLines(
  stream: NodeJS.ReadableStream,
  lines: string[],
  waiters: ReadonlySet<() => void>,
): void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    for (const wake of [...waiters]) wake();
  });
  stream.on('end', () => {
    if (partial !== '') lines.push(partial);
    partial = '';
    for (const wake of [...waiters]) wake();
  });
}
