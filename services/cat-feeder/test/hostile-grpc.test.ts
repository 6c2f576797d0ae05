// Hostile requests to every API a cat-feeder replica serves, tried by machine: random bytes as
// the request body of each method of CatFeederService, CatFeederAdminService and
// FaultAdminService (bypassing the typed encoder), and well-typed requests with random keys,
// values and limits. Each call ends with a deliberate status before its deadline, the process
// stays up, and a call that did not succeed left the store as it was.
//
// grpc-js's own refusal of bytes that do not decode is deliberate too (see @catmesh/testkit).
import { credentials, Client, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import fc from 'fast-check';
import { catfeederV1, faultsV1 } from '@catmesh/proto';
import {
  callWithBytes,
  propertyRuns,
  requestBytes,
  undeliberate,
  type GrpcMethod,
} from '@catmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, unary, type ReplicaProcess } from './support/cluster.js';

const DEADLINE_MS = 5_000;
let cluster: Cluster;
let replica: ReplicaProcess;
let raw: Client;
let rawAdmin: Client;
let faults: faultsV1.FaultAdminServiceClient;

beforeAll(async () => {
  cluster = await Cluster.start({ size: 1 });
  replica = await cluster.waitForLeader();
  raw = new Client(replica.address, credentials.createInsecure());
  const adminAddress = `127.0.0.1:${replica.adminPort}`;
  rawAdmin = new Client(adminAddress, credentials.createInsecure());
  faults = new faultsV1.FaultAdminServiceClient(adminAddress, credentials.createInsecure());
}, 60_000);

afterAll(async () => {
  raw?.close();
  rawAdmin?.close();
  faults?.close();
  await cluster?.shutdown();
});

function expectDeliberate(method: GrpcMethod, outcome: ServiceError): void {
  expect(undeliberate(outcome), method.path).toBeUndefined();
}

async function contents(): Promise<string> {
  const response = await unary<catfeederV1.RangeResponse>((cb) =>
    replica.client.range(
      { prefix: '', consistency: catfeederV1.Consistency.CONSISTENCY_LINEARIZABLE, limit: 0 },
      new Metadata(),
      { deadline: Date.now() + DEADLINE_MS },
      cb,
    ),
  );
  return JSON.stringify(response.kvs.map((kv) => [kv.key, Buffer.from(kv.value).toString('hex')]));
}

/** The replica still answers and still writes. */
async function expectHealthy(): Promise<void> {
  expect(replica.process?.exitCode ?? null, cluster.describe()).toBeNull();
  const { leaderId } = await cluster.status(replica);
  expect(leaderId).toBe(replica.id);
}

const methodsOf = (service: Record<string, GrpcMethod>) => Object.values(service);
describe('a cat-feeder replica under hostile requests', () => {
  it('answers random bytes to every CatFeederService method deliberately, writing nothing it refused', async () => {
    const methods = methodsOf(catfeederV1.CatFeederServiceService);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...methods), requestBytes, async (method, bytes) => {
        const before = await contents();
        const outcome = await callWithBytes(raw, method, bytes, DEADLINE_MS);
        expectDeliberate(method, outcome);
        if (outcome.code !== status.OK) expect(await contents()).toBe(before);
      }),
      propertyRuns(120),
    );
    await expectHealthy();
  }, 180_000);

  it('answers random bytes to the fault and membership admin APIs deliberately', async () => {
    const targets = [
      ...methodsOf(faultsV1.FaultAdminServiceService).map((m) => [rawAdmin, m] as const),
      ...methodsOf(catfeederV1.CatFeederAdminServiceService).map((m) => [raw, m] as const),
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...targets),
        requestBytes,
        async ([client, method], bytes) => {
          expectDeliberate(method, await callWithBytes(client, method, bytes, DEADLINE_MS));
        },
      ),
      propertyRuns(80),
    );
    // Whatever random bytes happened to apply is taken back before the store is checked.
    await unary((cb) =>
      faults.revertAll(
        { experiment: '' },
        new Metadata(),
        { deadline: Date.now() + DEADLINE_MS },
        cb,
      ),
    );
    await expectHealthy();
  }, 180_000);

  it('answers reads with any consistency value and limit: a result, or INVALID_ARGUMENT', async () => {
    const consistency = fc.oneof(
      fc.constantFrom(0, 1, 2, 3),
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    );
    const read = fc.record({
      prefix: fc.string({ maxLength: 8 }),
      consistency,
      limit: fc.nat({ max: 2 ** 32 - 1 }),
      asGet: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(read, async ({ prefix, consistency, limit, asGet }) => {
        const deadline = Date.now() + DEADLINE_MS;
        const outcome = await unary((cb) =>
          asGet
            ? replica.client.get(
                { key: prefix || 'k', consistency },
                new Metadata(),
                { deadline },
                cb,
              )
            : replica.client.range(
                { prefix, consistency, limit },
                new Metadata(),
                { deadline },
                cb,
              ),
        ).then(
          () => status.OK,
          (error: ServiceError) => error.code,
        );
        const known = consistency >= 0 && consistency <= 3;
        expect(outcome, `consistency ${consistency}`).toBe(
          known ? status.OK : status.INVALID_ARGUMENT,
        );
      }),
      propertyRuns(100),
    );
  });

  it('refuses keys and values it cannot store, and stores the ones it accepts exactly', async () => {
    const key = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({ minLength: 1000, maxLength: 5000 }),
    );
    const value = fc.uint8Array({ maxLength: 2048 });
    await fc.assert(
      fc.asyncProperty(key, value, async (k, v) => {
        const before = await contents();
        const outcome = await unary<catfeederV1.PutResponse>((cb) =>
          replica.client.put(
            { key: k, value: Buffer.from(v), requestId: undefined },
            new Metadata(),
            { deadline: Date.now() + DEADLINE_MS },
            cb,
          ),
        ).then(
          () => undefined,
          (error: ServiceError) => error,
        );
        if (outcome) {
          expect(outcome.code, `${JSON.stringify(k)}: ${outcome.details}`).toBe(
            status.INVALID_ARGUMENT,
          );
          expect(await contents()).toBe(before);
          return;
        }
        const read = await unary<catfeederV1.GetResponse>((cb) =>
          replica.client.get(
            { key: k, consistency: catfeederV1.Consistency.CONSISTENCY_LINEARIZABLE },
            new Metadata(),
            { deadline: Date.now() + DEADLINE_MS },
            cb,
          ),
        );
        expect(Buffer.from(read.kv!.value).equals(Buffer.from(v))).toBe(true);
      }),
      propertyRuns(100),
    );
    await expectHealthy();
  }, 180_000);
});
