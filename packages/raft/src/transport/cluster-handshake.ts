// The cluster id on every Raft call (etcd carries its cluster id in a header of every peer
// request): a replica refuses calls from another Raft group, and a sender learns that a peer
// refused it, with both ids, instead of replicating into the wrong group.
import { Metadata, status, type StatusObject } from '@grpc/grpc-js';

export const CLUSTER_ID_HEADER = 'catmesh-raft-cluster-id';

/** A call crossed two Raft groups; `direction` says which side noticed. */
export class ClusterIdMismatchError extends Error {
  override readonly name = 'ClusterIdMismatchError';

  constructor(
    readonly localClusterId: string,
    readonly remoteClusterId: string,
    /** `inbound`: this replica refused a peer's call; `outbound`: a peer refused this replica's. */
    readonly direction: 'inbound' | 'outbound',
    /** The peer's address (outbound) or the caller's (inbound). */
    readonly peer: string,
  ) {
    super(
      direction === 'outbound'
        ? `Raft peer ${peer} belongs to cluster ${remoteClusterId}, this replica to cluster ${localClusterId}: it refused this replica`
        : `refused a Raft call from ${peer} of cluster ${remoteClusterId}: this replica belongs to cluster ${localClusterId}`,
    );
  }
}

function headerOf(metadata: Metadata | undefined): string | undefined {
  const value = metadata?.get(CLUSTER_ID_HEADER)[0];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** This replica's cluster id as the transport uses it; a joiner learns it from its first peer. */
export class ClusterIdentity {
  constructor(
    private id: string | undefined,
    private readonly onAdopted: ((id: string) => void) | undefined,
  ) {}

  get current(): string | undefined {
    return this.id;
  }

  /** Headers of an outbound call. */
  callMetadata(): Metadata {
    const metadata = new Metadata();
    if (this.id !== undefined) metadata.set(CLUSTER_ID_HEADER, this.id);
    return metadata;
  }

  /**
   * Checks an inbound call's headers. A call without an id is admitted: it comes from a replica
   * older than cluster ids, or from a joiner that has not learned the id yet. A replica without
   * an id (a joiner) adopts the first one it is called with. Returns the refusal, if any.
   */
  admit(metadata: Metadata, peer: string): ClusterIdMismatchError | undefined {
    const remote = headerOf(metadata);
    if (remote === undefined || remote === this.id) return undefined;
    if (this.id === undefined) {
      this.id = remote;
      this.onAdopted?.(remote);
      return undefined;
    }
    return new ClusterIdMismatchError(this.id, remote, 'inbound', peer);
  }

  /** The status an inbound call is refused with: it names both ids and returns ours. */
  refusal(error: ClusterIdMismatchError): Partial<StatusObject> {
    const metadata = new Metadata();
    metadata.set(CLUSTER_ID_HEADER, error.localClusterId);
    return { code: status.FAILED_PRECONDITION, details: error.message, metadata };
  }

  /** Whether an outbound call failed because the peer belongs to another cluster. */
  mismatchIn(result: Partial<StatusObject>, peer: string): ClusterIdMismatchError | undefined {
    if (result.code !== status.FAILED_PRECONDITION) return undefined;
    const remote = headerOf(result.metadata);
    if (remote === undefined || this.id === undefined || remote === this.id) return undefined;
    return new ClusterIdMismatchError(this.id, remote, 'outbound', peer);
  }
}
