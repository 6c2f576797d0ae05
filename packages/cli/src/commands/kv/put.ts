import { headerJson, keyValueJson } from '../../catfeeder/key-value-json.js';
import { withReplicaEndpoints } from '../../catfeeder/replica-endpoints.js';
import { oneWriteRequestId } from '../../catfeeder/request-id.js';
import { readAll } from '../../read-all.js';
import { UsageError } from '../../cli-errors.js';
import { writeJsonLine } from '../../cli-io.js';
import { defineCommand } from '../../command.js';
import { ExitCode } from '../../exit-codes.js';

export const putCommand = defineCommand({
  name: 'put',
  summary: 'write one key',
  usage: 'KEY VALUE | KEY --stdin',
  description: `Writes VALUE (or all of stdin, bytes as they are) to KEY and prints the store revision
of the write. The write carries a request id of its own, so it is resent safely, to another
endpoint if need be, until --timeout: the store applies it once.`,
  options: {
    stdin: { type: 'boolean', help: 'read the value from stdin instead of VALUE' },
  },
  positionals: [{ name: 'KEY' }, { name: 'VALUE', optional: true }],
  async run({ io, globals, options, positionals }) {
    const [key, text] = positionals as [string, string | undefined];
    if (options.flag('stdin') && text !== undefined) {
      throw new UsageError('give VALUE or --stdin, not both');
    }
    if (!options.flag('stdin') && text === undefined) throw new UsageError('missing VALUE');
    const value = text === undefined ? await readAll(io.stdin) : Buffer.from(text);
    const { value: response } = await withReplicaEndpoints(globals, io, (endpoints) =>
      endpoints.kvCall('put', { key, value, requestId: oneWriteRequestId() }, { resendable: true }),
    );
    const { header, kv } = response;
    if (globals.json) {
      writeJsonLine(io.stdout, {
        ...(kv ? keyValueJson(kv) : { key }),
        ...headerJson(header),
      });
    } else {
      io.stdout.write(`${header?.revision ?? kv?.modRevision ?? '?'}\n`);
    }
    return ExitCode.ok;
  },
});
