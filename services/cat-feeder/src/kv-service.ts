// catmesh.catfeeder.v1.CatFeederService: validation, routing to the leader, consistency modes.
import { randomUUID } from 'node:crypto';
import { status, type Metadata, type ServerWritableStream } from '@grpc/grpc-js';
import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import type { catfeederStorageV1 } from '@catmesh/proto';
import { catfeederV1 } from '@catmesh/proto';
import {
  callUnary,
  invalidArgument,
  RpcStatusError,
  withDeadline,
  type ServiceImplementation,
} from '@catmesh/runtime';
import type { ApplyOutcome, ChangeEvent, KvStore } from './kv-store.js';
import { FORWARDED_HEADER, type LeaderRouter } from './leader-router.js';
import { memberList } from './member-list.js';
import type { PeerClients } from './peer-clients.js';
import type { Replica } from './replica.js';
import { checkKey, checkRequestId, checkValue, readModeOf } from './request-validation.js';
import { RevisionCompactedError, type WatchHub } from './watch-hub.js';

const { Role } = catfeederV1;
const tracer = trace.getTracer('@catmesh/cat-feeder');

/** A watcher this far behind (events buffered in the stream) is cut off rather than grow memory. */
const MAX_WATCH_BACKLOG = 10_000;

export interface KvServiceDeps {
  readonly replica: Replica;
  readonly store: KvStore;
  readonly watchHub: WatchHub;
  readonly router: LeaderRouter;
  /** Clients of the other replicas' CatFeederService, for forwarding. */
  readonly peers: PeerClients<typeof catfeederV1.CatFeederServiceClient>;
  readonly tickMs: number;
  /** Starts timing a write on the leader; the returned function stops it. */
  readonly proposalTimer: () => () => void;
}

type Implementation = ServiceImplementation<typeof catfeederV1.CatFeederServiceService>;

export function createKvService(deps: KvServiceDeps): Implementation {
  const { replica, store, router, peers } = deps;

  const header = (): catfeederV1.ResponseHeader => ({
    revision: store.revision,
    raftTerm: replica.term,
    memberId: replica.id,
  });

  // Writes that arrive without a request id get one here, on the first replica they reach: the
  // router may re-propose or re-forward a write after an ambiguous failure, and the id makes
  // the state machine apply it once whatever happens in between.
  const serverClientId = `replica-${replica.id}-${randomUUID()}`;
  let serverSequence = 0;
  const withRequestId = (requestId: catfeederV1.RequestId | undefined): catfeederV1.RequestId =>
    requestId ?? { clientId: serverClientId, sequence: ++serverSequence };

  /**
   * Proposes `command` (on the leader, or through it from a follower) and returns what applying
   * it here did.
   */
  const write = async <T>(
    call: { getDeadline(): Date | number },
    command: Omit<catfeederStorageV1.Command, 'traceContext'>,
    answer: (outcome: Extract<ApplyOutcome, { kind: 'applied' | 'duplicate' }>) => T,
  ): Promise<T> => {
    return router.route({
      deadline: deadlineOf(call),
      servedBy: 'any',
      local: () =>
        tracer.startActiveSpan('catfeeder.propose', { kind: SpanKind.INTERNAL }, async (span) => {
          const stopTimer = deps.proposalTimer();
          try {
            // Injected inside the propose span, so every replica's apply is its child.
            const traceContext: Record<string, string> = {};
            propagation.inject(context.active(), traceContext);
            const outcome = await replica.propose({ ...command, traceContext });
            span.setAttribute('catfeeder.outcome', outcome.kind);
            return settle(outcome);
          } catch (error) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
            throw error;
          } finally {
            stopTimer();
            span.end();
          }
        }),
    });

    function settle(outcome: ApplyOutcome): T {
      switch (outcome.kind) {
        case 'applied':
        case 'duplicate':
          return answer(outcome);
        case 'expired':
          throw new RpcStatusError(
            status.FAILED_PRECONDITION,
            `request_id.sequence: too old to tell whether it applied (oldest remembered is ${outcome.oldestRemembered})`,
          );
        case 'invalid':
          throw new RpcStatusError(status.INVALID_ARGUMENT, outcome.reason);
      }
    }
  };

  /**
   * Answers a read in the consistency it asks for: stale and linearizable reads from this
   * replica once its state may serve them; lease reads on the leader, forwarded to it from
   * elsewhere.
   */
  const read = async <T>(
    call: {
      request: { consistency: catfeederV1.Consistency };
      metadata: Metadata;
      getDeadline(): Date | number;
    },
    answer: () => T,
    forward: (client: catfeederV1.CatFeederServiceClient, m: Metadata, ms: number) => Promise<T>,
  ): Promise<T> => {
    const mode = readModeOf(call.request.consistency);
    if (mode === 'linearizable') {
      await withReadDeadline(replica.linearizableBarrier(), deadlineOf(call), replica);
    } else if (mode === 'lease' && replica.role === 'leader') {
      await withReadDeadline(replica.leaseBarrier(), deadlineOf(call), replica);
    } else if (mode === 'lease') {
      return router.route({
        deadline: deadlineOf(call),
        servedBy: 'leader',
        forwarded: isForwarded(call.metadata),
        local: async () => {
          await replica.leaseBarrier();
          return answer();
        },
        remote: (address, metadata, ms) => forward(peers.get(address), metadata, ms),
      });
    }
    return answer();
  };

  return {
    get: async (call, callback) => {
      checkKey(call.request.key);
      const response = await read(
        call,
        () => ({ header: header(), kv: store.get(call.request.key) }),
        (client, metadata, ms) =>
          callUnary(client, 'get', call.request, { metadata, deadlineMs: ms }),
      );
      callback(null, response);
    },

    range: async (call, callback) => {
      const { prefix, limit } = call.request;
      const response = await read(
        call,
        () => ({ header: header(), ...store.range(prefix, limit) }),
        (client, metadata, ms) =>
          callUnary(client, 'range', call.request, { metadata, deadlineMs: ms }),
      );
      callback(null, response);
    },

    put: async (call, callback) => {
      checkKey(call.request.key);
      checkValue(call.request.value);
      checkRequestId(call.request.requestId);
      const request = { ...call.request, requestId: withRequestId(call.request.requestId) };
      const { key, value, requestId } = request;
      const response = await write(
        call,
        { requestId, op: { $case: 'put', value: { key, value } } },
        (outcome) => ({
          header: { ...header(), revision: outcome.result.revision },
          kv: outcome.result.kv,
        }),
      );
      callback(null, response);
    },

    delete: async (call, callback) => {
      checkKey(call.request.key);
      checkRequestId(call.request.requestId);
      const request = { ...call.request, requestId: withRequestId(call.request.requestId) };
      const { key, requestId } = request;
      const response = await write(
        call,
        { requestId, op: { $case: 'delete', value: { key } } },
        (outcome) => ({
          header: { ...header(), revision: outcome.result.revision },
          deleted: outcome.result.changed,
        }),
      );
      callback(null, response);
    },

    compareAndSwap: async (call, callback) => {
      checkKey(call.request.key);
      checkValue(call.request.newValue, 'new_value');
      checkRequestId(call.request.requestId);
      const request = { ...call.request, requestId: withRequestId(call.request.requestId) };
      const { key, expected, newValue, requestId } = request;
      if (expected === undefined) {
        throw invalidArgument(
          'expected',
          'one of expected_value, expected_mod_revision or expected_absent is required',
        );
      }
      if (expected.$case === 'expectedAbsent' && !expected.value) {
        throw invalidArgument('expected_absent', 'must be true when set');
      }
      const response = await write(
        call,
        { requestId, op: { $case: 'compareAndSwap', value: { key, expected, newValue } } },
        (outcome) => ({
          header: { ...header(), revision: outcome.result.revision },
          succeeded: outcome.result.changed,
          kv: outcome.result.kv,
        }),
      );
      callback(null, response);
    },

    watch: (call) => serveWatch(call, deps, header),

    status: (_call, callback) => {
      const raft = replica.status();
      const members = memberList(raft, replica.addressBook(), deps.tickMs);
      callback(null, {
        id: raft.id,
        term: raft.term,
        role: roleOf(raft.role, raft.confState.learners.includes(raft.id)),
        leaderId: raft.leader,
        commitIndex: raft.commit,
        appliedIndex: replica.applied,
        members,
        revision: store.revision,
        snapshotIndex: raft.firstIndex - 1,
      });
    },
  };
}

function serveWatch(
  call: ServerWritableStream<catfeederV1.WatchRequest, catfeederV1.WatchResponse>,
  deps: KvServiceDeps,
  header: () => catfeederV1.ResponseHeader,
): void {
  const { prefix, startRevision } = call.request;
  let backlog = 0;
  const send = (events: readonly ChangeEvent[]) => {
    if (call.writableEnded || call.destroyed) return;
    const more = call.write({
      header: header(),
      events: events.map((e) => ({
        type:
          e.type === 'put'
            ? catfeederV1.EventType.EVENT_TYPE_PUT
            : catfeederV1.EventType.EVENT_TYPE_DELETE,
        kv: e.kv,
      })),
    });
    if (more) return;
    backlog += events.length;
    if (backlog > MAX_WATCH_BACKLOG) {
      handle?.cancel();
      call.emit('error', {
        code: status.RESOURCE_EXHAUSTED,
        details: `watcher fell more than ${MAX_WATCH_BACKLOG} events behind; watch again from revision ${events[events.length - 1]!.kv.modRevision + 1}`,
      });
    }
  };
  call.on('drain', () => {
    backlog = 0;
  });
  let handle: { cancel(): void } | undefined;
  try {
    handle = deps.watchHub.watch({ prefix, deliver: send }, startRevision);
  } catch (error) {
    if (error instanceof RevisionCompactedError) {
      throw new RpcStatusError(status.OUT_OF_RANGE, `start_revision: ${error.message}`);
    }
    throw error;
  }
  // An empty response tells the client the watch is established (and at which revision).
  call.write({ header: header(), events: [] });
  call.on('cancelled', () => handle?.cancel());
  call.on('close', () => handle?.cancel());
}

function roleOf(role: string, learner: boolean): catfeederV1.Role {
  if (learner) return Role.ROLE_LEARNER;
  switch (role) {
    case 'leader':
      return Role.ROLE_LEADER;
    case 'candidate':
      return Role.ROLE_CANDIDATE;
    case 'pre-candidate':
      return Role.ROLE_PRE_CANDIDATE;
    default:
      return Role.ROLE_FOLLOWER;
  }
}

export function deadlineOf(call: { getDeadline(): Date | number }): number {
  const deadline = call.getDeadline();
  return deadline instanceof Date ? deadline.getTime() : deadline;
}

export function isForwarded(metadata: Metadata): boolean {
  return metadata.get(FORWARDED_HEADER).length > 0;
}

/** A read barrier that did not complete in time: no leader could confirm the read. */
function withReadDeadline(work: Promise<void>, deadline: number, replica: Replica): Promise<void> {
  const ms = Math.max(0, Math.min(deadline, Date.now() + 10_000) - Date.now());
  return withDeadline(work, ms, () => {
    const leader = replica.leader;
    return new RpcStatusError(
      status.UNAVAILABLE,
      `replica ${replica.id} could not confirm the read with a leader within ${ms} ms${leader === 0 ? ' (no leader is known)' : ` (leader is ${leader})`}`,
    );
  });
}
