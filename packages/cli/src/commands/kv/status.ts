import type { ServiceError } from '@grpc/grpc-js';
import { catfeederV1 } from '@catmesh/proto';
import { callUnary } from '@catmesh/runtime';
import { withReplicaEndpoints } from '../../catfeeder/replica-endpoints.js';
import { InterruptedError, isServiceError, oneLine, statusName } from '../../cli-errors.js';
import { writeJsonLine, type CliIo } from '../../cli-io.js';
import { defineCommand } from '../../command.js';
import { ExitCode } from '../../exit-codes.js';
import { formatTable } from '../../text-table.js';

const { Role } = catfeederV1;

export const statusCommand = defineCommand({
  name: 'status',
  summary: "every endpoint's view of the Raft group",
  usage: '',
  description: `Asks every endpoint for its status, at once, and prints one row each: member id,
endpoint, role, term, the leader it knows, commit and applied index, store revision and
snapshot index; then, from each leader, its peers' replication (match index) and how long
ago it heard from them. An endpoint that does not answer is shown as unreachable.
With --json: one line per endpoint, {"endpoint":...,"status":{...}} with the .proto's field
names, or {"endpoint":...,"error":{"code":...,"details":...}}.
Exit code 0 when at least one endpoint answered, 3 when none did.`,
  positionals: [],
  async run({ io, globals }) {
    const answers = await withReplicaEndpoints(globals, io, (endpoints) =>
      Promise.all(
        endpoints.addresses.map(async (address): Promise<EndpointStatus> => {
          try {
            const status = await callUnary(
              endpoints.kv(address),
              'status',
              {},
              { deadlineMs: globals.timeoutMs, signal: io.signal },
            );
            return { address, status };
          } catch (error) {
            if (!isServiceError(error)) throw error;
            return { address, error };
          }
        }),
      ),
    );
    if (io.signal?.aborted) throw new InterruptedError();
    if (globals.json) {
      for (const answer of answers) writeJsonLine(io.stdout, endpointJson(answer));
    } else {
      printStatusTable(io, answers);
    }
    return answers.some((answer) => answer.status) ? ExitCode.ok : ExitCode.unavailable;
  },
});

type EndpointStatus =
  | {
      readonly address: string;
      readonly status: catfeederV1.StatusResponse;
      readonly error?: never;
    }
  | { readonly address: string; readonly error: ServiceError; readonly status?: never };

function printStatusTable(io: CliIo, answers: readonly EndpointStatus[]): void {
  const rows = answers.map(({ address, status }) =>
    status
      ? [
          String(status.id),
          address,
          roleName(status.role),
          String(status.term),
          status.leaderId === 0 ? 'none' : String(status.leaderId),
          String(status.commitIndex),
          String(status.appliedIndex),
          String(status.revision),
          String(status.snapshotIndex),
        ]
      : ['-', address, 'unreachable', '-', '-', '-', '-', '-', '-'],
  );
  const heading = ['ID', 'ENDPOINT', 'ROLE', 'TERM', 'LEADER', 'COMMIT', 'APPLIED', 'REVISION'];
  io.stdout.write(formatTable([[...heading, 'SNAPSHOT'], ...rows]));
  for (const { address, error } of answers) {
    if (error)
      io.stdout.write(`${address}: ${statusName(error.code)}: ${oneLine(error.details)}\n`);
  }
  for (const { address, status } of answers) {
    if (status?.role !== Role.ROLE_LEADER) continue;
    io.stdout.write(`\nPeers of leader ${status.id} (${address}, term ${status.term}):\n`);
    const peers = status.members.map((peer) => [
      String(peer.id),
      peer.address,
      peer.learner ? 'learner' : 'voter',
      peer.matchIndex === undefined ? '-' : String(peer.matchIndex),
      peer.id === status.id
        ? '(self)'
        : peer.lastContactMs === undefined
          ? 'never'
          : `${peer.lastContactMs} ms ago`,
    ]);
    io.stdout.write(formatTable([['ID', 'ADDRESS', 'KIND', 'MATCH', 'LAST CONTACT'], ...peers]));
  }
}

function roleName(role: catfeederV1.Role): string {
  switch (role) {
    case Role.ROLE_LEADER:
      return 'leader';
    case Role.ROLE_FOLLOWER:
      return 'follower';
    case Role.ROLE_CANDIDATE:
      return 'candidate';
    case Role.ROLE_PRE_CANDIDATE:
      return 'pre-candidate';
    case Role.ROLE_LEARNER:
      return 'learner';
    default:
      return 'unknown';
  }
}

/** The status as the .proto names its fields (the enum by its value name). */
function endpointJson({ address, status, error }: EndpointStatus): Record<string, unknown> {
  if (!status) {
    return {
      endpoint: address,
      error: { code: statusName(error.code), details: oneLine(error.details) },
    };
  }
  return {
    endpoint: address,
    status: {
      id: status.id,
      term: status.term,
      role: catfeederV1.roleToJSON(status.role),
      leader_id: status.leaderId,
      commit_index: status.commitIndex,
      applied_index: status.appliedIndex,
      members: status.members.map((peer) => ({
        id: peer.id,
        address: peer.address,
        learner: peer.learner,
        last_contact_ms: peer.lastContactMs,
        match_index: peer.matchIndex,
      })),
      revision: status.revision,
      snapshot_index: status.snapshotIndex,
    },
  };
}
