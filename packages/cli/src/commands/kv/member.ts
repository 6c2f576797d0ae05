import type { catfeederV1 } from '@catmesh/proto';
import { withReplicaEndpoints } from '../../catfeeder/replica-endpoints.js';
import { parsePositiveInteger } from '../../argument-values.js';
import { writeJsonLine, type CliIo } from '../../cli-io.js';
import { commandGroup } from '../../command-group.js';
import { defineCommand } from '../../command.js';
import { ExitCode } from '../../exit-codes.js';
import { formatTable } from '../../text-table.js';

// Membership changes are not resent after a timeout (`resendable: false`): they carry no
// request id, and a second AddMember would be refused for the member the first one added.

const addCommand = defineCommand({
  name: 'add',
  summary: 'add a member (a voter, or a learner with --learner)',
  usage: 'ID ADDRESS [--learner]',
  description: `Adds member ID, reachable by the others at ADDRESS (host:port), to the Raft group, one
member at a time. A learner receives the log without voting until promoted; adding a new
replica as a learner first keeps the group available while it catches up.
Prints the members after the change.`,
  options: { learner: { type: 'boolean', help: 'add as a learner (no vote until promoted)' } },
  positionals: [{ name: 'ID' }, { name: 'ADDRESS' }],
  async run({ io, globals, options, positionals }) {
    const [id, address] = positionals as [string, string];
    const request = {
      id: parsePositiveInteger(id, 'ID'),
      address,
      learner: options.flag('learner'),
    };
    const { value } = await withReplicaEndpoints(globals, io, (endpoints) =>
      endpoints.adminCall('addMember', request, { resendable: false }),
    );
    printMembers(io, globals.json, value.members);
    return ExitCode.ok;
  },
});

const removeCommand = defineCommand({
  name: 'remove',
  summary: 'remove a member',
  usage: 'ID',
  description: `Removes member ID (a voter or a learner) from the Raft group. Prints the members after
the change.`,
  positionals: [{ name: 'ID' }],
  async run({ io, globals, positionals }) {
    const id = parsePositiveInteger(positionals[0]!, 'ID');
    const { value } = await withReplicaEndpoints(globals, io, (endpoints) =>
      endpoints.adminCall('removeMember', { id }, { resendable: false }),
    );
    printMembers(io, globals.json, value.members);
    return ExitCode.ok;
  },
});

const promoteCommand = defineCommand({
  name: 'promote',
  summary: 'make a caught-up learner a voter',
  usage: 'ID',
  description: `Promotes learner ID to a voter; refused while it is still catching up with the log.
Prints the members after the change.`,
  positionals: [{ name: 'ID' }],
  async run({ io, globals, positionals }) {
    const id = parsePositiveInteger(positionals[0]!, 'ID');
    const { value } = await withReplicaEndpoints(globals, io, (endpoints) =>
      endpoints.adminCall('promoteLearner', { id }, { resendable: false }),
    );
    printMembers(io, globals.json, value.members);
    return ExitCode.ok;
  },
});

export const memberCommand = commandGroup({
  name: 'member',
  summary: "change the Raft group's members",
  description: `Changes the members of the cat-feeder's Raft group through any replica (the leader
carries the change out).`,
  commands: [addCommand, removeCommand, promoteCommand],
});

function printMembers(io: CliIo, json: boolean, members: readonly catfeederV1.Peer[]): void {
  if (json) {
    writeJsonLine(io.stdout, {
      members: members.map((m) => ({ id: m.id, address: m.address, learner: m.learner })),
    });
    return;
  }
  const rows = members.map((m) => [String(m.id), m.address, m.learner ? 'learner' : 'voter']);
  io.stdout.write(formatTable([['ID', 'ADDRESS', 'KIND'], ...rows]));
}
