// The reference: etcd 3.4 through the same harness must pass every check, which also shows that
// the harness does not cry wolf. Needs root and network namespaces, the etcd binary
// (./scripts/setup-system.sh jepsen, or apt-get install etcd-server) and etcd's rpc.proto from
// the etcd3 npm package (or CATMESH_JEPSEN_ETCD_PROTO naming a copy of proto/rpc.proto).
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { networkNamespaceProblem } from '@catmesh/faults';
import { requires } from '@catmesh/testkit';
import { defaultEtcdProto, runCheck } from '../src/index.js';
import { capturedIo } from './support/captured-io.js';

function etcdProblem(): string | undefined {
  try {
    execFileSync('etcd', ['--version'], { stdio: 'pipe' });
  } catch {
    return 'the etcd binary is missing (./scripts/setup-system.sh jepsen installs etcd-server)';
  }
  if (protoFile === undefined) {
    return "etcd's rpc.proto is missing: npm install -D etcd3, or set CATMESH_JEPSEN_ETCD_PROTO";
  }
  return undefined;
}

const protoFile = process.env['CATMESH_JEPSEN_ETCD_PROTO'] ?? defaultEtcdProto();
const prerequisites = requires(networkNamespaceProblem() ?? etcdProblem());

describe('etcd, linearizable reads, partitions and kill -9', prerequisites, () => {
  let out: string | undefined;
  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('passes every check', { timeout: 240_000 }, async () => {
    out = await mkdtemp(join(tmpdir(), 'jepsen-test-'));
    const io = capturedIo();
    const run = await runCheck(
      {
        target: 'etcd',
        durationMs: 20_000,
        seed: 7,
        nemeses: ['partition-random-halves', 'kill'],
        faultMs: { min: 2_000, max: 4_000 },
        quietMs: { min: 1_000, max: 2_000 },
        etcdProto: protoFile,
        outDir: out,
      },
      io,
    );
    expect(run.exitCode, io.text()).toBe(0);
    const report = run.report!;
    expect(report.checks.every((c) => c.passed)).toBe(true);
    expect(report.faults.length).toBeGreaterThan(0);
    for (const f of ['get', 'put', 'cas']) expect(report.stats.counts[f]?.ok).toBeGreaterThan(0);
  });
});
