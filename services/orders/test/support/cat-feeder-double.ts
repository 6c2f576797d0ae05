// An honest stand-in for a cat-feeder cluster, for tests of orders: the CatFeederService's Put,
// CompareAndSwap and Get over a map, with a revision and request-id de-duplication as the real
// store has them, served by the kit's GrpcServer (so its spans are real SERVER spans). It is
// only the cat-feeder side: everything else in these tests is real.
import { status } from '@grpc/grpc-js';
import { catfeederV1 } from '@catmesh/proto';
import {
  createLogger,
  createMetricsRegistry,
  GrpcServer,
  RpcStatusError,
  type ServiceImplementation,
} from '@catmesh/runtime';

export interface Write {
  readonly key: string;
  readonly value: string;
  readonly revision: number;
  readonly requestId: string;
}

export interface CatFeederDouble {
  readonly address: string;
  /** Every write applied (not the de-duplicated retries), in order. */
  readonly writes: Write[];
  value(key: string): string | undefined;
  /** A write from outside orders (a person with the CLI, say). */
  put(key: string, value: string): number;
  stop(): Promise<void>;
}

export async function startCatFeederDouble(port = 0): Promise<CatFeederDouble> {
  const data = new Map<string, catfeederV1.KeyValue>();
  const applied = new Map<string, unknown>();
  const writes: Write[] = [];
  let revision = 0;

  const write = (key: string, value: Buffer, requestId: string): catfeederV1.KeyValue => {
    revision += 1;
    const previous = data.get(key);
    const kv = {
      key,
      value,
      createRevision: previous?.createRevision ?? revision,
      modRevision: revision,
      version: (previous?.version ?? 0) + 1,
    };
    data.set(key, kv);
    writes.push({ key, value: value.toString(), revision, requestId });
    return kv;
  };
  /** Applies a request once per request id; a retry gets the first answer. */
  const once = <T>(requestId: catfeederV1.RequestId | undefined, apply: () => T): T => {
    if (!requestId) throw new RpcStatusError(status.INVALID_ARGUMENT, 'request_id: required here');
    const id = `${requestId.clientId}#${requestId.sequence}`;
    if (!applied.has(id)) applied.set(id, apply());
    return applied.get(id) as T;
  };
  const idOf = (r: catfeederV1.RequestId | undefined) => `${r?.clientId}#${r?.sequence}`;
  const header = () => ({ revision, raftTerm: 1, memberId: 1 });
  const unimplemented = (_call: unknown, callback: (error: { code: number }) => void) =>
    callback({ code: status.UNIMPLEMENTED });

  const service: ServiceImplementation<typeof catfeederV1.CatFeederServiceService> = {
    put: (call, callback) => {
      const { key, value, requestId } = call.request;
      callback(
        null,
        once(requestId, () => ({ header: header(), kv: write(key, value, idOf(requestId)) })),
      );
    },
    compareAndSwap: (call, callback) => {
      const { key, expected, newValue, requestId } = call.request;
      callback(
        null,
        once(requestId, () => {
          const current = data.get(key);
          const holds =
            expected?.$case === 'expectedModRevision'
              ? current?.modRevision === expected.value
              : expected?.$case === 'expectedAbsent'
                ? current === undefined
                : current !== undefined &&
                  expected !== undefined &&
                  current.value.equals(expected.value);
          if (!holds) return { header: header(), succeeded: false, kv: current };
          return { header: header(), succeeded: true, kv: write(key, newValue, idOf(requestId)) };
        }),
      );
    },
    get: (call, callback) => callback(null, { header: header(), kv: data.get(call.request.key) }),
    delete: unimplemented,
    range: unimplemented,
    watch: () => {
      throw new RpcStatusError(status.UNIMPLEMENTED, 'watch: not in this double');
    },
    status: unimplemented,
  };

  const registry = createMetricsRegistry();
  const logger = createLogger({ service: 'cat-feeder-double', instance: 'test', level: 'silent' });
  const server = new GrpcServer({ host: '127.0.0.1', port, logger, registry });
  server.addService(catfeederV1.CatFeederServiceService, service);
  const bound = await server.listen();
  server.setServing();
  return {
    address: `127.0.0.1:${bound.port}`,
    writes,
    value: (key) => data.get(key)?.value.toString(),
    put: (key, value) => write(key, Buffer.from(value), 'outside').modRevision,
    stop: async () => {
      await server.drain(2_000);
    },
  };
}
