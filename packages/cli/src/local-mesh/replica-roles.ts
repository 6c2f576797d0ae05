import { credentials } from '@grpc/grpc-js';
import { catfeederV1 } from '@catmesh/proto';
import { callUnary } from '@catmesh/runtime';
import { isServiceError } from '../cli-errors.js';

/** A cat-feeder replica's place in its Raft group, from its Status RPC. */
export interface ReplicaRole {
  readonly id: number;
  /** `leader`, `follower`, `candidate`, `pre-candidate`, `learner`. */
  readonly role: string;
  readonly term: number;
  /** 0 while it knows of no leader. */
  readonly leaderId: number;
}

/** Asks each replica (by gRPC address) for its role; undefined for one that does not answer. */
export async function readReplicaRoles(
  addresses: readonly string[],
  timeoutMs: number,
): Promise<(ReplicaRole | undefined)[]> {
  return Promise.all(
    addresses.map(async (address) => {
      const client = new catfeederV1.CatFeederServiceClient(address, credentials.createInsecure());
      try {
        const status = await callUnary(client, 'status', {}, { deadlineMs: timeoutMs });
        return {
          id: status.id,
          role: roleName(status.role),
          term: status.term,
          leaderId: status.leaderId,
        };
      } catch (error) {
        if (isServiceError(error)) return undefined;
        throw error;
      } finally {
        client.close();
      }
    }),
  );
}

/** The leader the replicas agree on: one says it leads; undefined while none does. */
export function leaderOf(roles: readonly (ReplicaRole | undefined)[]): ReplicaRole | undefined {
  return roles.find((role) => role?.role === 'leader');
}

function roleName(role: catfeederV1.Role): string {
  return catfeederV1
    .roleToJSON(role)
    .replace(/^ROLE_/, '')
    .toLowerCase()
    .replace(/_/g, '-');
}
