// catmesh.faults.v1.FaultAdminService over the fault table.
import type { faultsV1 } from '@catmesh/proto';
import { invalidArgument, type PeerIdentity, type ServiceImplementation } from '@catmesh/runtime';
import { FaultValidationError } from '../errors.js';
import type { ActiveAppFault, FaultTable } from './fault-table.js';

export function createFaultAdminService(
  table: FaultTable,
  self: PeerIdentity,
): ServiceImplementation<typeof faultsV1.FaultAdminServiceService> {
  return {
    applyFault: (call, callback) => {
      let entry: ActiveAppFault;
      try {
        entry = table.apply(call.request.fault);
      } catch (error) {
        if (error instanceof FaultValidationError)
          throw invalidArgument(error.field, error.problem);
        throw error;
      }
      callback(null, { fault: entry.fault.wire });
    },
    revertFault: (call, callback) => {
      callback(null, { reverted: table.revert(call.request.id) });
    },
    revertAll: (call, callback) => {
      callback(null, { ids: table.revertAll(call.request.experiment) });
    },
    listFaults: (_call, callback) => {
      callback(null, {
        faults: table.active.map((entry) => ({
          fault: entry.fault.wire,
          appliedAtUnixMs: entry.appliedAtUnixMs,
          injections: entry.injections,
        })),
        self: { ...self },
        nowUnixMs: Date.now(),
      });
    },
  };
}
