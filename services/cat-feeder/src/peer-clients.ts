import type { Client } from '@grpc/grpc-js';
import {
  createClient,
  type GeneratedClientConstructor,
  type Registry,
  type TrafficHooks,
} from '@catmesh/runtime';

export interface PeerClientsOptions {
  readonly registry: Registry;
  /** This replica's identity and traffic gate (the `app` fault mechanism). */
  readonly traffic?: TrafficHooks;
  /** The Raft id of the replica at an address, so that faults can match the peer by it. */
  readonly raftIdOf?: (address: string) => number | undefined;
}

/** One long-lived client per peer address, for forwarding requests to the leader. */
export class PeerClients<Ctor extends GeneratedClientConstructor<Client>> {
  private readonly clients = new Map<string, InstanceType<Ctor>>();

  constructor(
    private readonly ClientClass: Ctor,
    private readonly options: PeerClientsOptions,
  ) {}

  get(address: string): InstanceType<Ctor> {
    let client = this.clients.get(address);
    if (!client) {
      const { registry, traffic, raftIdOf } = this.options;
      const raftId = raftIdOf?.(address);
      // Not retried here: the leader router's own loop decides what to do after a failure.
      client = createClient(this.ClientClass, address, {
        registry,
        retry: { maxAttempts: 1 },
        ...(traffic && { traffic }),
        ...(raftId !== undefined && { server: { raftId } }),
      });
      this.clients.set(address, client);
    }
    return client;
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}
