// Random bytes as a gRPC request, for the hostile-input properties of every service: the bytes go
// on the wire as they are (the typed encoder is bypassed), and what comes back must be a status a
// handler chose on purpose.
//
// Bytes that do not decode as the method's request are refused by grpc-js itself with INTERNAL
// "Error deserializing request", as gRPC does in every language (grpc-go: codes.Internal); that
// one INTERNAL is deliberate, any other INTERNAL or UNKNOWN means a handler threw.
import { Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import fc from 'fast-check';

const DECODE_REFUSAL = 'Error deserializing request';
/** What a handler may answer a request it does not like; OK when the bytes happen to be valid. */
const DELIBERATE: ReadonlySet<status> = new Set([
  status.OK,
  status.INVALID_ARGUMENT,
  status.NOT_FOUND,
  status.FAILED_PRECONDITION,
  status.ALREADY_EXISTS,
  status.OUT_OF_RANGE,
  status.ABORTED,
  status.RESOURCE_EXHAUSTED,
]);

/** A method as generated code describes it (`XxxService` objects from @catmesh/proto). */
export interface GrpcMethod {
  readonly path: string;
  readonly responseStream?: boolean;
}

/** Request bodies a decoder trips on: short and long noise, and well-formed tags gone wrong. */
export const requestBytes: fc.Arbitrary<Buffer> = fc
  .oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.uint8Array({ minLength: 200, maxLength: 4096 }),
    // Valid tags with wrong wire types and lengths past the end.
    fc
      .array(fc.tuple(fc.integer({ min: 1, max: 15 }), fc.integer({ min: 0, max: 7 }), fc.nat(300)))
      .map((fields) =>
        fields.flatMap(([field, wire, n]) => [(field << 3) | wire, n & 0x7f, n >> 7]),
      ),
  )
  .map((bytes) => Buffer.from(bytes));

const identity = (b: Buffer) => b;
const OK = { code: status.OK, details: '' } as ServiceError;

/**
 * One call of `method` with `body` as its request bytes; the status it ended with. A server
 * stream that starts (a Watch the bytes happened to make valid) is cancelled once it has shown it
 * answers, and that counts as OK.
 */
export function callWithBytes(
  client: Client,
  method: GrpcMethod,
  body: Buffer,
  deadlineMs: number,
): Promise<ServiceError> {
  const deadline = Date.now() + deadlineMs;
  return new Promise((resolve) => {
    const done = (error: ServiceError | null) => resolve(error ?? OK);
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
    const stream = client.makeServerStreamRequest(
      method.path,
      identity,
      identity,
      body,
      new Metadata(),
      { deadline },
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

/** Why `outcome` is not a status a handler chose on purpose, or undefined when it is. */
export function undeliberate(outcome: ServiceError): string | undefined {
  if (outcome.code === status.INTERNAL && outcome.details === DECODE_REFUSAL) return undefined;
  if (DELIBERATE.has(outcome.code)) return undefined;
  return `${status[outcome.code]} ${outcome.details}`;
}
