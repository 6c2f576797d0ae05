import { withReplicaEndpoints } from '../../catfeeder/replica-endpoints.js';
import { parsePositiveInteger } from '../../argument-values.js';
import { writeJsonLine } from '../../cli-io.js';
import { defineCommand } from '../../command.js';
import { ExitCode } from '../../exit-codes.js';

export const transferLeaderCommand = defineCommand({
  name: 'transfer-leader',
  summary: 'hand leadership to another voter',
  usage: 'ID',
  description: `Asks the leader to hand leadership to voter ID (it brings ID up to date, then lets it
start an election at once) and prints the leader after the transfer.`,
  positionals: [{ name: 'ID' }],
  async run({ io, globals, positionals }) {
    const targetId = parsePositiveInteger(positionals[0]!, 'ID');
    const { value } = await withReplicaEndpoints(globals, io, (endpoints) =>
      endpoints.adminCall('transferLeadership', { targetId }, { resendable: false }),
    );
    if (globals.json) writeJsonLine(io.stdout, { leader_id: value.leaderId });
    else io.stdout.write(`${value.leaderId}\n`);
    return ExitCode.ok;
  },
});
