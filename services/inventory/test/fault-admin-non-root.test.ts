// The app mechanism needs no privileges: a real inventory process (the built dist/main.js),
// running as nobody/nogroup, applies, lists and reverts a fault through its admin port.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { credentials, Metadata } from '@grpc/grpc-js';
import { faultsV1 } from '@catmesh/proto';
import { freePort, startNatsServer, type NatsServer } from '@catmesh/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

let nats: NatsServer;
let child: ChildProcess | undefined;
let admin: faultsV1.FaultAdminServiceClient;
const output: string[] = [];

function call<T>(invoke: (cb: (error: Error | null, value: T) => void) => unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    invoke((error, value) => (error ? reject(error) : resolve(value)));
  });
}

const options = () => ({ deadline: Date.now() + 5_000 });

describe.skipIf(!isRoot)('fault admin as an unprivileged user (needs root to switch uid)', () => {
  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`make build\` first`);
    nats = await startNatsServer();
    const adminPort = await freePort();
    child = spawn(process.execPath, [MAIN], {
      uid: NOBODY,
      gid: NOBODY,
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        CATMESH_NATS_URL: nats.url,
        CATMESH_GRPC_HOST: '127.0.0.1',
        CATMESH_GRPC_PORT: String(await freePort()),
        CATMESH_METRICS_PORT: String(await freePort()),
        CATMESH_ADMIN_PORT: String(adminPort),
        CATMESH_INSTANCE_ID: 'inventory-nobody',
        OTEL_SDK_DISABLED: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => output.push(chunk.toString());
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    admin = new faultsV1.FaultAdminServiceClient(
      `127.0.0.1:${adminPort}`,
      credentials.createInsecure(),
    );
    await vi.waitFor(() => expect(output.join('')).toContain('inventory serving'), {
      timeout: 30_000,
      interval: 100,
    });
  });

  afterAll(async () => {
    admin?.close();
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    await nats?.stop();
  });

  it('applies, lists and reverts a fault', async () => {
    const applied = await call<faultsV1.ApplyFaultResponse>((cb) =>
      admin.applyFault(
        {
          fault: {
            id: 'slow-nats',
            kind: {
              $case: 'latency',
              value: {
                delayMs: 50,
                jitterMs: 10,
                distribution: faultsV1.Distribution.DISTRIBUTION_NORMAL,
              },
            },
            expiresAtUnixMs: Date.now() + 60_000,
            peers: [{ service: 'nats', instance: '', raftId: 0 }],
            direction: faultsV1.Direction.DIRECTION_OUTBOUND,
            transports: [faultsV1.Transport.TRANSPORT_NATS],
            experiment: 'non-root',
          },
        },
        new Metadata(),
        options(),
        cb,
      ),
    );
    expect(applied.fault?.id).toBe('slow-nats');
    const listed = await call<faultsV1.ListFaultsResponse>((cb) =>
      admin.listFaults({}, new Metadata(), options(), cb),
    );
    expect(listed.self).toEqual({ service: 'inventory', instance: 'inventory-nobody', raftId: 0 });
    expect(listed.faults.map((f) => f.fault?.id)).toEqual(['slow-nats']);
    const reverted = await call<faultsV1.RevertFaultResponse>((cb) =>
      admin.revertFault({ id: 'slow-nats' }, new Metadata(), options(), cb),
    );
    expect(reverted.reverted).toBe(true);
    const after = await call<faultsV1.ListFaultsResponse>((cb) =>
      admin.listFaults({}, new Metadata(), options(), cb),
    );
    expect(after.faults).toEqual([]);
    // The process really is unprivileged.
    const procStatus = await readFile(`/proc/${child?.pid}/status`, 'utf8');
    expect(procStatus).toMatch(/^Uid:\s+65534\s/m);
  });
});
