import type { Client } from '@grpc/grpc-js';
import { createClient, type GeneratedClientConstructor, type Registry } from '@catmesh/runtime';

/** One long-lived client per peer address, for forwarding requests to the leader. */
export class PeerClients<Ctor extends GeneratedClientConstructor<Client>> {
  private readonly clients = new Map<string, InstanceType<Ctor>>();

  constructor(
    private readonly ClientClass: Ctor,
    private readonly registry: Registry,
  ) {}

  get(address: string): InstanceType<Ctor> {
    let client = this.clients.get(address);
    if (!client) {
      // Not retried here: the leader router's own loop decides what to do after a failure.
      client = createClient(this.ClientClass, address, {
        registry: this.registry,
        retry: { maxAttempts: 1 },
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
