// A stand-in for cat-feeder replicas, for the CLI's tests only (the real server is tested in
// services/cat-feeder): real gRPC servers over one in-memory store, with the answers the CLI
// must handle: revisions, compare-and-swap, request-id de-duplication, watch streams,
// INVALID_ARGUMENT naming the field, and UNAVAILABLE from a replica that cannot serve.
import {
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerErrorResponse,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import { catfeederV1 } from '@catmesh/proto';

const { EventType, Role } = catfeederV1;

type Change = { readonly type: catfeederV1.EventType; readonly kv: catfeederV1.KeyValue };

/** The replicated state all the replicas share (what Raft would keep identical). */
export class InMemoryStore {
  revision = 0;
  term = 1;
  leaderId = 1;
  readonly keys = new Map<string, catfeederV1.KeyValue>();
  readonly history: Change[] = [];
  members: catfeederV1.Peer[] = [];
  /** Answers of applied writes by request id: a resent write is answered, not applied again. */
  readonly #applied = new Map<string, unknown>();
  readonly #listeners = new Set<(change: Change) => void>();

  once<T>(requestId: catfeederV1.RequestId | undefined, write: () => T): T {
    if (requestId === undefined) return write();
    const id = `${requestId.clientId}/${requestId.sequence}`;
    if (this.#applied.has(id)) return this.#applied.get(id) as T;
    const answer = write();
    this.#applied.set(id, answer);
    return answer;
  }

  put(key: string, value: Buffer): catfeederV1.KeyValue {
    this.revision += 1;
    const old = this.keys.get(key);
    const kv = {
      key,
      value,
      createRevision: old?.createRevision ?? this.revision,
      modRevision: this.revision,
      version: (old?.version ?? 0) + 1,
    };
    this.keys.set(key, kv);
    this.#publish({ type: EventType.EVENT_TYPE_PUT, kv });
    return kv;
  }

  delete(key: string): boolean {
    if (!this.keys.delete(key)) return false;
    this.revision += 1;
    const kv = {
      key,
      value: Buffer.alloc(0),
      createRevision: 0,
      modRevision: this.revision,
      version: 0,
    };
    this.#publish({ type: EventType.EVENT_TYPE_DELETE, kv });
    return true;
  }

  subscribe(listener: (change: Change) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #publish(change: Change): void {
    this.history.push(change);
    for (const listener of this.#listeners) listener(change);
  }
}

/**
 * How a replica answers: `serving`; `unavailable`, every request UNAVAILABLE with a leader
 * hint but Status (a replica during an election); `answer-lost`, writes are applied and then
 * answered UNAVAILABLE (a leader whose answer never reached the client); `silent`, requests
 * are never answered (a minority replica waiting for a leader, a black-holed address).
 */
export type ReplicaMode = 'serving' | 'unavailable' | 'answer-lost' | 'silent';

export interface Replica {
  readonly id: number;
  readonly address: string;
  mode: ReplicaMode;
  /** Every request received, in order. */
  readonly calls: { readonly method: string; readonly request: unknown }[];
  openWatches(): number;
  /** Ends every open watch with UNAVAILABLE, as a replica that stops does. */
  breakWatches(): void;
  stop(): void;
}

export async function startReplica(store: InMemoryStore, id: number): Promise<Replica> {
  const server = new Server();
  const calls: { method: string; request: unknown }[] = [];
  const watches = new Set<
    ServerWritableStream<catfeederV1.WatchRequest, catfeederV1.WatchResponse>
  >();
  const replica = { mode: 'serving' as ReplicaMode };
  const header = (): catfeederV1.ResponseHeader => ({
    revision: store.revision,
    raftTerm: store.term,
    memberId: id,
  });
  const unavailable = (): ServerErrorResponse =>
    serviceError(status.UNAVAILABLE, `replica ${id} cannot serve this now: no leader is known`);

  /** A unary handler: records the call, answers UNAVAILABLE when unavailable, else `answer`. */
  function unary<Req, Res>(
    method: string,
    answer: (request: Req) => Res,
    options: { write?: boolean; always?: boolean } = {},
  ) {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      calls.push({ method, request: call.request });
      if (replica.mode === 'silent') return;
      if (replica.mode === 'unavailable' && !options.always) return callback(unavailable());
      try {
        const response = answer(call.request);
        if (replica.mode === 'answer-lost' && options.write) return callback(unavailable());
        callback(null, response);
      } catch (error) {
        callback(error as ServerErrorResponse);
      }
    };
  }

  const kv: catfeederV1.CatFeederServiceServer = {
    get: unary('get', (request: catfeederV1.GetRequest) => {
      checkKey(request.key);
      if (request.consistency > catfeederV1.Consistency.CONSISTENCY_STALE) {
        throw invalidArgument('consistency', `unknown value ${request.consistency}`);
      }
      return { header: header(), kv: store.keys.get(request.key) };
    }),
    put: unary(
      'put',
      (request: catfeederV1.PutRequest) => {
        checkKey(request.key);
        return store.once(request.requestId, () => {
          const written = store.put(request.key, request.value);
          return { header: header(), kv: written };
        });
      },
      { write: true },
    ),
    delete: unary(
      'delete',
      (request: catfeederV1.DeleteRequest) => {
        checkKey(request.key);
        return store.once(request.requestId, () => {
          const deleted = store.delete(request.key);
          return { header: header(), deleted };
        });
      },
      { write: true },
    ),
    compareAndSwap: unary(
      'compareAndSwap',
      (request: catfeederV1.CompareAndSwapRequest) => {
        checkKey(request.key);
        const { expected } = request;
        if (expected === undefined) {
          throw invalidArgument(
            'expected',
            'one of expected_value, expected_mod_revision or expected_absent is required',
          );
        }
        return store.once(request.requestId, () => {
          const current = store.keys.get(request.key);
          const holds =
            expected.$case === 'expectedValue'
              ? current !== undefined && current.value.equals(expected.value)
              : expected.$case === 'expectedModRevision'
                ? current?.modRevision === expected.value
                : current === undefined;
          const kv = holds ? store.put(request.key, request.newValue) : current;
          return { header: header(), succeeded: holds, kv };
        });
      },
      { write: true },
    ),
    range: unary('range', (request: catfeederV1.RangeRequest) => {
      const kvs = [...store.keys.values()].filter((kv) => kv.key.startsWith(request.prefix));
      return { header: header(), kvs, more: false };
    }),
    status: unary(
      'status',
      () => ({
        id,
        term: store.term,
        role: id === store.leaderId ? Role.ROLE_LEADER : Role.ROLE_FOLLOWER,
        leaderId: store.leaderId,
        commitIndex: store.revision + 1,
        appliedIndex: store.revision + 1,
        members: store.members.map((peer) => ({
          ...peer,
          lastContactMs: id === store.leaderId ? (peer.id === id ? 0 : 20) : undefined,
          matchIndex: id === store.leaderId ? store.revision + 1 : undefined,
        })),
        revision: store.revision,
        snapshotIndex: 0,
      }),
      { always: true },
    ),
    watch: (call) => {
      calls.push({ method: 'watch', request: call.request });
      if (replica.mode === 'silent') return;
      if (replica.mode === 'unavailable') {
        call.emit('error', unavailable());
        return;
      }
      const { prefix, startRevision } = call.request;
      const send = (changes: Change[]) => {
        const events = changes.filter((c) => c.kv.key.startsWith(prefix));
        if (events.length > 0) call.write({ header: header(), events });
      };
      if (startRevision > 0) send(store.history.filter((c) => c.kv.modRevision >= startRevision));
      const unsubscribe = store.subscribe((change) => send([change]));
      watches.add(call);
      call.write({ header: header(), events: [] });
      call.on('cancelled', () => {
        unsubscribe();
        watches.delete(call);
      });
      call.on('close', () => {
        unsubscribe();
        watches.delete(call);
      });
    },
  };

  const admin: catfeederV1.CatFeederAdminServiceServer = {
    addMember: unary('addMember', (request: catfeederV1.AddMemberRequest) => {
      if (store.members.some((m) => m.id === request.id)) {
        throw serviceError(status.FAILED_PRECONDITION, `id: ${request.id} is already a member`);
      }
      store.members.push({ id: request.id, address: request.address, learner: request.learner });
      return { members: store.members };
    }),
    removeMember: unary('removeMember', (request: catfeederV1.RemoveMemberRequest) => {
      if (!store.members.some((m) => m.id === request.id)) {
        throw serviceError(status.NOT_FOUND, `id: ${request.id} is not a member`);
      }
      store.members = store.members.filter((m) => m.id !== request.id);
      return { members: store.members };
    }),
    promoteLearner: unary('promoteLearner', (request: catfeederV1.PromoteLearnerRequest) => {
      const member = store.members.find((m) => m.id === request.id);
      if (!member?.learner) {
        throw serviceError(status.FAILED_PRECONDITION, `id: ${request.id} is not a learner`);
      }
      member.learner = false;
      return { members: store.members };
    }),
    transferLeadership: unary(
      'transferLeadership',
      (request: catfeederV1.TransferLeadershipRequest) => {
        if (!store.members.some((m) => m.id === request.targetId && !m.learner)) {
          throw invalidArgument('target_id', `${request.targetId} is not a voter`);
        }
        store.leaderId = request.targetId;
        store.term += 1;
        return { leaderId: store.leaderId };
      },
    ),
  };

  server.addService(catfeederV1.CatFeederServiceService, kv);
  server.addService(catfeederV1.CatFeederAdminServiceService, admin);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
  const address = `127.0.0.1:${port}`;
  store.members.push({ id, address, learner: false });

  return Object.assign(replica, {
    id,
    address,
    calls,
    openWatches: () => watches.size,
    breakWatches() {
      for (const call of watches) call.emit('error', unavailable());
      watches.clear();
    },
    stop: () => server.forceShutdown(),
  });
}

function checkKey(key: string): void {
  if (key.length === 0) throw invalidArgument('key', 'must not be empty');
}

function invalidArgument(field: string, problem: string): ServerErrorResponse {
  return serviceError(status.INVALID_ARGUMENT, `${field}: ${problem}`);
}

function serviceError(code: status, details: string): ServerErrorResponse {
  return Object.assign(new Error(details), { code, details });
}
