import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryStore, startReplica, type Replica } from './support/in-memory-cat-feeder.js';
import { requireBuiltCli } from './support/local-mesh.js';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
// The link `npm ci` makes from the package's "bin", which `npx catmesh` runs: the committed
// wrapper, then the built dist/ (not the TypeScript source).
const bin = fileURLToPath(new URL('../../../node_modules/.bin/catmesh', import.meta.url));

/** Runs the installed `catmesh` as its own process, the way a user's shell does. */
function runBin(args: string[], env: Record<string, string>) {
  const child = spawn(bin, args, {
    cwd: packageRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return {
    child,
    done: new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
      child.once('close', (code) => resolve({ code, stdout, stderr })),
    ),
  };
}

let store: InMemoryStore;
let replica: Replica;

beforeAll(async () => {
  requireBuiltCli();
  store = new InMemoryStore();
  replica = await startReplica(store, 1);
});
afterAll(() => replica.stop());

describe('the catmesh executable', () => {
  it('puts from stdin and gets, with CATMESH_ENDPOINTS, and exits with the right codes', async () => {
    const env = { CATMESH_ENDPOINTS: replica.address };
    const put = runBin(['kv', 'put', 'cat.state', '--stdin'], env);
    put.child.stdin.end('full');
    expect(await put.done).toEqual({ code: 0, stdout: `${store.revision}\n`, stderr: '' });
    expect(await runBin(['kv', 'get', 'cat.state'], env).done).toEqual({
      code: 0,
      stdout: 'full\n',
      stderr: '',
    });
    const missing = await runBin(['kv', 'get', 'nothing'], env).done;
    expect(missing).toEqual({ code: 1, stdout: '', stderr: "catmesh: key 'nothing' not found\n" });
  });

  it('a usage error exits 2', async () => {
    const run = await runBin(['kv', 'frobnicate'], {}).done;
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^catmesh: unknown command 'frobnicate'.*--help'\)\n$/);
  });
});
