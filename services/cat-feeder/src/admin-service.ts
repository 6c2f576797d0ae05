// catmesh.catfeeder.v1.CatFeederAdminService: single-server membership changes (§4.1) and
// leadership transfer (§3.10), carried out by the leader wherever the request arrives.
import { status, type Metadata } from '@grpc/grpc-js';
import type { catfeederV1 } from '@catmesh/proto';
import type { ConfChange } from '@catmesh/raft';
import {
  callUnary,
  invalidArgument,
  RpcStatusError,
  type ServiceImplementation,
} from '@catmesh/runtime';
import { deadlineOf, isForwarded } from './kv-service.js';
import type { LeaderRouter } from './leader-router.js';
import { memberList } from './member-list.js';
import type { PeerClients } from './peer-clients.js';
import type { Replica } from './replica.js';

type Implementation = ServiceImplementation<typeof catfeederV1.CatFeederAdminServiceService>;
type AdminClient = catfeederV1.CatFeederAdminServiceClient;

/** A learner is promoted only once it holds this share of the committed log (as etcd does). */
const LEARNER_READY_SHARE = 0.9;

const ADDRESS = /^([A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/;

export interface AdminServiceDeps {
  readonly replica: Replica;
  readonly router: LeaderRouter;
  readonly peers: PeerClients<typeof catfeederV1.CatFeederAdminServiceClient>;
}

export function createAdminService(deps: AdminServiceDeps): Implementation {
  const { replica, router, peers } = deps;

  const members = (): catfeederV1.Peer[] => memberList(replica.status(), replica.addressBook());

  /** Runs `local` on the leader, forwarding the same request there when it is elsewhere. */
  const onLeader = <T>(
    call: { metadata: Metadata; getDeadline(): Date | number },
    local: () => Promise<T>,
    remote: (client: AdminClient, metadata: Metadata, ms: number) => Promise<T>,
  ): Promise<T> =>
    router.route({
      deadline: deadlineOf(call),
      servedBy: 'leader',
      forwarded: isForwarded(call.metadata),
      local,
      remote: (address, metadata, ms) => remote(peers.get(address), metadata, ms),
    });

  /** Proposes a membership change and waits until it is applied here. */
  const change = async (conf: ConfChange): Promise<catfeederV1.Peer[]> => {
    const result = replica.proposeConfChange(conf);
    if (!result.ok) {
      switch (result.reason) {
        case 'not-leader':
        case 'transferring':
          // The router looks for the leader again.
          throw new RpcStatusError(status.UNAVAILABLE, `not the leader (${result.reason})`);
        case 'conf-change-pending':
          throw new RpcStatusError(
            status.FAILED_PRECONDITION,
            'another membership change is not committed yet; retry shortly',
          );
        case 'invalid-conf-change':
          throw new RpcStatusError(status.FAILED_PRECONDITION, result.detail);
      }
    }
    await replica.waitApplied(result.index);
    return members();
  };

  return {
    addMember: async (call, callback) => {
      const { id, address, learner } = call.request;
      checkId(id, 'id');
      const match = ADDRESS.exec(address);
      if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) {
        throw invalidArgument('address', 'must be host:port');
      }
      const type = learner ? 'add-learner' : 'add-voter';
      const response = await onLeader(
        call,
        async () => ({ members: await change({ type, node: id, context: Buffer.from(address) }) }),
        (client, metadata, ms) =>
          callUnary(client, 'addMember', call.request, { metadata, deadlineMs: ms }),
      );
      callback(null, response);
    },

    removeMember: async (call, callback) => {
      checkId(call.request.id, 'id');
      const response = await onLeader(
        call,
        async () => ({ members: await change({ type: 'remove', node: call.request.id }) }),
        (client, metadata, ms) =>
          callUnary(client, 'removeMember', call.request, { metadata, deadlineMs: ms }),
      );
      callback(null, response);
    },

    promoteLearner: async (call, callback) => {
      const { id } = call.request;
      checkId(id, 'id');
      const response = await onLeader(
        call,
        async () => {
          const raft = replica.status();
          const progress = raft.progress.find((p) => p.id === id);
          if (progress && progress.match < raft.commit * LEARNER_READY_SHARE) {
            throw new RpcStatusError(
              status.FAILED_PRECONDITION,
              `learner ${id} has not caught up yet (it holds ${progress.match} of ${raft.commit} committed entries)`,
            );
          }
          return { members: await change({ type: 'promote-learner', node: id }) };
        },
        (client, metadata, ms) =>
          callUnary(client, 'promoteLearner', call.request, { metadata, deadlineMs: ms }),
      );
      callback(null, response);
    },

    transferLeadership: async (call, callback) => {
      const { targetId } = call.request;
      checkId(targetId, 'target_id');
      const response = await onLeader(
        call,
        async () => {
          const result = replica.transferLeadership(targetId);
          if (!result.ok) {
            if (result.reason === 'not-leader') {
              throw new RpcStatusError(status.UNAVAILABLE, 'not the leader');
            }
            throw new RpcStatusError(status.FAILED_PRECONDITION, result.detail);
          }
          await replica.waitForLeader(targetId);
          return { leaderId: targetId };
        },
        (client, metadata, ms) =>
          callUnary(client, 'transferLeadership', call.request, { metadata, deadlineMs: ms }),
      );
      callback(null, response);
    },
  };
}

function checkId(id: number, field: string): void {
  if (!Number.isSafeInteger(id) || id < 1) throw invalidArgument(field, 'must be a positive id');
}
