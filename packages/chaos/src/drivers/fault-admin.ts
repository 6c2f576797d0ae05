import { credentials } from '@grpc/grpc-js';
import { faultsV1 } from '@catmesh/proto';
import { callUnary } from '@catmesh/runtime';
import { chaosCallerMetadata } from '../mesh/caller.js';
import type { MeshInstance } from '../mesh/mesh-access.js';

// The app mechanism's driver side: the FaultAdminService of every instance that has one. The
// processes hold the faults and their expiries; this only asks.

const ADMIN_DEADLINE_MS = 2_000;

export class FaultAdmins {
  readonly #clients = new Map<string, faultsV1.FaultAdminServiceClient>();

  constructor(instances: readonly MeshInstance[]) {
    for (const instance of instances) {
      if (instance.adminAddress === undefined) continue;
      this.#clients.set(
        instance.name,
        new faultsV1.FaultAdminServiceClient(instance.adminAddress, credentials.createInsecure()),
      );
    }
  }

  /** The instances with an admin API, by name. */
  get names(): readonly string[] {
    return [...this.#clients.keys()];
  }

  async apply(instance: string, fault: faultsV1.Fault): Promise<faultsV1.Fault> {
    const response = await callUnary(
      this.#client(instance),
      'applyFault',
      { fault },
      this.#options(),
    );
    return response.fault ?? fault;
  }

  async revert(instance: string, id: string): Promise<boolean> {
    const response = await callUnary(
      this.#client(instance),
      'revertFault',
      { id },
      this.#options(),
    );
    return response.reverted;
  }

  /** Reverts one run's faults (`experiment`), or every fault when it is empty. */
  async revertAll(instance: string, experiment = ''): Promise<readonly string[]> {
    const response = await callUnary(
      this.#client(instance),
      'revertAll',
      { experiment },
      this.#options(),
    );
    return response.ids;
  }

  list(instance: string): Promise<faultsV1.ListFaultsResponse> {
    return callUnary(this.#client(instance), 'listFaults', {}, this.#options());
  }

  close(): void {
    for (const client of this.#clients.values()) client.close();
  }

  #client(instance: string): faultsV1.FaultAdminServiceClient {
    const client = this.#clients.get(instance);
    if (!client) throw new Error(`${instance} has no fault admin API`);
    return client;
  }

  #options() {
    return { deadlineMs: ADMIN_DEADLINE_MS, metadata: chaosCallerMetadata() };
  }
}
