// Reverting what a run applied, by its run id, from outside the run: the run is gone (a crash, a
// Lease handover) or is being cut short by the experiment's deletion. Network partitions first:
// an app fault ends at its holder's expiry whatever happens here, but a partition policy stays
// until something deletes it.
import { FaultAdmins, type MeshAccess } from '@catmesh/chaos';

export interface Recovery {
  readonly reverted: readonly string[];
  /** Pods whose faults could not be reverted now, with why; empty when all is clean. */
  readonly failures: readonly string[];
}

export async function recoverRun(mesh: MeshAccess, runId: string): Promise<Recovery> {
  const reverted: string[] = [];
  const failures: string[] = [];
  try {
    reverted.push(...((await mesh.networkFaults?.revertAll(runId)) ?? []));
  } catch (error) {
    failures.push(`network partitions: ${messageOf(error)}`);
  }
  try {
    reverted.push(...((await mesh.processFaults?.revertAll(runId)) ?? []));
  } catch (error) {
    failures.push(`process faults: ${messageOf(error)}`);
  }
  // A pod that is gone took its faults with it; the ones there now are asked.
  const admins = new FaultAdmins(await mesh.instances());
  try {
    await Promise.all(
      admins.names.map(async (pod) => {
        try {
          reverted.push(...(await admins.revertAll(pod, runId)));
        } catch (error) {
          failures.push(`${pod}: ${messageOf(error)}`);
        }
      }),
    );
  } finally {
    admins.close();
  }
  return { reverted, failures };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
