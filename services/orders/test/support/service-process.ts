// A catmesh service as its own Node process, run from source the way `catmesh up` runs it in
// development (`node --conditions=@catmesh/source --import tsx src/main.ts`), that a test can
// kill -9, restart and stop.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

export class ServiceProcess {
  #child: ChildProcess | undefined;
  /** The last lines it wrote (both streams), for failure messages. */
  readonly output: string[] = [];

  constructor(
    /** `services/<name>`. */
    readonly service: string,
    readonly env: Readonly<Record<string, string>>,
  ) {}

  /** Starts it and waits for the log line with message `ready` (the timeout is a safety net). */
  async start(ready: string, timeoutMs = 60_000): Promise<void> {
    const child = spawn(
      process.execPath,
      ['--conditions=@catmesh/source', '--import', 'tsx', `${this.service}/src/main.ts`],
      {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...this.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.#child = child;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.service} not ready in ${timeoutMs} ms:\n${this.tail()}`)),
        timeoutMs,
      );
      const collect = (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n').filter(Boolean)) {
          this.output.push(line);
          if (line.includes(`"msg":"${ready}"`)) {
            clearTimeout(timer);
            resolve();
          }
        }
        if (this.output.length > 500) this.output.splice(0, this.output.length - 500);
      };
      child.stdout?.on('data', collect);
      child.stderr?.on('data', collect);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${this.service} exited (${code}) while starting:\n${this.tail()}`));
      });
    });
  }

  /** kill -9: nothing flushed, nothing drained. */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGTERM; resolves with the exit code. */
  async stop(): Promise<number | null> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    return exited;
  }

  tail(lines = 30): string {
    return this.output.slice(-lines).join('\n');
  }
}
