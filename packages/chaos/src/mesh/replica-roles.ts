import { credentials } from '@grpc/grpc-js';
import { catfeederV1 } from '@catmesh/proto';
import { callUnary } from '@catmesh/runtime';
import { chaosCallerMetadata, RECONNECT_QUICKLY } from './caller.js';
import type { MeshInstance } from './mesh-access.js';

// Who leads the cat-feeder group right now, asked of every replica. A replica cut off from the
// others may still believe it leads (an older term): the leader is the one of the highest term.

export interface ReplicaStatus {
  readonly instance: string;
  readonly raftId: number;
  readonly term: number;
  readonly role: 'leader' | 'follower' | 'candidate' | 'other';
  readonly leaderId: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
}

export interface GroupView {
  /** The replicas that answered, by instance name. */
  readonly replicas: ReadonlyMap<string, ReplicaStatus>;
  /** Instance names that did not answer, with why. */
  readonly unreachable: ReadonlyMap<string, string>;
  /** The leader of the highest term any replica reports, if one claims it. */
  readonly leader?: ReplicaStatus;
}

const ROLES: Record<number, ReplicaStatus['role']> = {
  [catfeederV1.Role.ROLE_LEADER]: 'leader',
  [catfeederV1.Role.ROLE_FOLLOWER]: 'follower',
  [catfeederV1.Role.ROLE_CANDIDATE]: 'candidate',
};

/** Asks replicas for their Raft status; one client per replica, kept until close(). */
export class ReplicaRoles {
  readonly #clients = new Map<string, catfeederV1.CatFeederServiceClient>();

  constructor(private readonly replicas: readonly MeshInstance[]) {
    for (const replica of replicas) {
      this.#clients.set(
        replica.name,
        new catfeederV1.CatFeederServiceClient(
          replica.address,
          credentials.createInsecure(),
          RECONNECT_QUICKLY,
        ),
      );
    }
  }

  async view(timeoutMs = 1_000): Promise<GroupView> {
    const replicas = new Map<string, ReplicaStatus>();
    const unreachable = new Map<string, string>();
    await Promise.all(
      this.replicas.map(async ({ name }) => {
        try {
          const status = await callUnary(
            this.#clients.get(name)!,
            'status',
            {},
            { deadlineMs: timeoutMs, metadata: chaosCallerMetadata() },
          );
          replicas.set(name, {
            instance: name,
            raftId: status.id,
            term: status.term,
            role: ROLES[status.role] ?? 'other',
            leaderId: status.leaderId,
            commitIndex: status.commitIndex,
            appliedIndex: status.appliedIndex,
          });
        } catch (error) {
          unreachable.set(name, error instanceof Error ? error.message : String(error));
        }
      }),
    );
    let leader: ReplicaStatus | undefined;
    for (const status of replicas.values()) {
      if (status.role === 'leader' && (leader === undefined || status.term > leader.term)) {
        leader = status;
      }
    }
    return { replicas, unreachable, ...(leader && { leader }) };
  }

  close(): void {
    for (const client of this.#clients.values()) client.close();
  }
}
