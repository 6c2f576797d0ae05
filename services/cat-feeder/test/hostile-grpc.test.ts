// Hostile requests to every API a cat-feeder replica serves, tried by machine: random bytes as
// the request body of each method of CatFeederService, CatFeederAdminService and
// FaultAdminService (bypassing the typed encoder), and well-typed requests with random keys,
// values and limits. Each call ends with a deliberate status before its deadline, the process
// stays up, and a call that did not succeed left the store as it was.
//
// Bytes that do not decode as the method's request are refused by grpc-js itself with INTERNAL
// "Error deserializing request", as gRPC does in every language (grpc-go: codes.Internal); that
// one INTERNAL is accepted, any other INTERNAL or UNKNOWN means a handler threw.
import { credentials, Client, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import fc from 'fast-check';
import { catfeederV1, faultsV1 } from '@catmesh/proto';
import { propertyRuns } from '@catmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, unary, type ReplicaProcess } from './support/cluster.js';

const DEADLINE_MS = 5_000;
const DECODE_REFUSAL = 'Error deserializing request';
/** What a handler may answer a request it does not like; OK when the bytes happen to be valid. */
const DELIBERATE = new Set([
  status.OK,
  status.INVALID_ARGUMENT,
  status.NOT_FOUND,
  status.FAILED_PRECONDITION,
  status.ALREADY_EXISTS,
  status.OUT_OF_RANGE,
  status.ABORTED,
  status.RESOURCE_EXHAUSTED,
  status.UNIMPLEMENTED,
]);

interface MethodDefinition {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

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

const identity = (b: Buffer) => b;

/** One call with `body` as the request bytes; the status it ended with. */
function callRaw(client: Client, method: MethodDefinition, body: Buffer): Promise<ServiceError> {
  const deadline = Date.now() + DEADLINE_MS;
  return new Promise((resolve) => {
    const done = (error: ServiceError | null) =>
      resolve(error ?? ({ code: status.OK, details: '' } as ServiceError));
    if (!method.responseStream) {
      client.makeUnaryRequest(
        method.path,
        identity,
        identity,
        body,
        new Metadata(),
        { deadline },
        done,
      );
      return;
    }
    // A stream that starts (a Watch that happens to be valid) is cancelled once it has shown it
    // answers; ending in CANCELLED by our hand counts as OK.
    const stream = client.makeServerStreamRequest(
      method.path,
      identity,
      identity,
      body,
      new Metadata(),
      {
        deadline,
      },
    );
    const timer = setTimeout(() => stream.cancel(), 300);
    stream.on('data', () => stream.cancel());
    stream.on('error', (error: ServiceError) => {
      clearTimeout(timer);
      done(error.code === status.CANCELLED ? null : error);
    });
    stream.on('end', () => {
      clearTimeout(timer);
      done(null);
    });
  });
}

function expectDeliberate(method: MethodDefinition, outcome: ServiceError): void {
  const what = `${method.path}: ${status[outcome.code]} ${outcome.details}`;
  if (outcome.code === status.INTERNAL) expect(outcome.details, what).toBe(DECODE_REFUSAL);
  else expect(DELIBERATE.has(outcome.code), what).toBe(true);
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

const methodsOf = (service: Record<string, MethodDefinition>) => Object.values(service);
const body = fc
  .oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.uint8Array({ minLength: 200, maxLength: 4096 }),
    // Valid tags with wrong wire types and lengths past the end: what a decoder trips on.
    fc
      .array(fc.tuple(fc.integer({ min: 1, max: 15 }), fc.integer({ min: 0, max: 7 }), fc.nat(300)))
      .map((fields) =>
        fields.flatMap(([field, wire, n]) => [(field << 3) | wire, n & 0x7f, n >> 7]),
      ),
  )
  .map((bytes) => Buffer.from(bytes));

describe('a cat-feeder replica under hostile requests', () => {
  it('answers random bytes to every CatFeederService method deliberately, writing nothing it refused', async () => {
    const methods = methodsOf(catfeederV1.CatFeederServiceService);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...methods), body, async (method, bytes) => {
        const before = await contents();
        const outcome = await callRaw(raw, method, bytes);
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
      fc.asyncProperty(fc.constantFrom(...targets), body, async ([client, method], bytes) => {
        expectDeliberate(method, await callRaw(client, method, bytes));
      }),
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
