import { headerJson } from '../../catfeeder/key-value-json.js';
import { withReplicaEndpoints } from '../../catfeeder/replica-endpoints.js';
import { oneWriteRequestId } from '../../catfeeder/request-id.js';
import { writeJsonLine } from '../../cli-io.js';
import { defineCommand } from '../../command.js';
import { ExitCode } from '../../exit-codes.js';

export const delCommand = defineCommand({
  name: 'del',
  summary: 'delete one key',
  usage: 'KEY',
  description: `Deletes KEY and prints the store revision of the delete. A key that did not exist is
exit code 1 (nothing deleted). Resent safely like put.`,
  positionals: [{ name: 'KEY' }],
  async run({ io, globals, positionals }) {
    const key = positionals[0]!;
    const { value: response } = await withReplicaEndpoints(globals, io, (endpoints) =>
      endpoints.kvCall('delete', { key, requestId: oneWriteRequestId() }, { resendable: true }),
    );
    const { header, deleted } = response;
    if (globals.json) {
      writeJsonLine(io.stdout, { key, deleted, ...headerJson(header) });
    } else if (deleted) {
      io.stdout.write(`${header?.revision ?? '?'}\n`);
    } else {
      io.stderr.write(`catmesh: key '${key}' not found, nothing deleted\n`);
    }
    return deleted ? ExitCode.ok : ExitCode.negative;
  },
});
