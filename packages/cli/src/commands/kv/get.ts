import { catfeederV1 } from '@catmesh/proto';
import { headerJson, keyValueJson } from '../../catfeeder/key-value-json.js';
import { withReplicaEndpoints } from '../../catfeeder/replica-endpoints.js';
import { UsageError } from '../../cli-errors.js';
import { writeJsonLine } from '../../cli-io.js';
import { defineCommand } from '../../command.js';
import { ExitCode } from '../../exit-codes.js';

const { Consistency } = catfeederV1;
const CONSISTENCIES: Readonly<Record<string, catfeederV1.Consistency>> = {
  linearizable: Consistency.CONSISTENCY_LINEARIZABLE,
  lease: Consistency.CONSISTENCY_LEASE,
  stale: Consistency.CONSISTENCY_STALE,
};

export const getCommand = defineCommand({
  name: 'get',
  summary: 'read one key',
  usage: 'KEY [--consistency linearizable|lease|stale]',
  description: `Reads KEY and prints its value (with --json: the key, value, revisions and the id of
the member that served the read). A missing key is exit code 1, with a message on stderr
(with --json: {"found":false,...} on stdout).`,
  options: {
    consistency: {
      type: 'string',
      valueName: 'MODE',
      help: `linearizable (default): confirmed with a quorum, never stale
lease: the leader's lease, no round trip (trusts bounded clock drift)
stale: the first endpoint's own copy, possibly behind`,
    },
  },
  positionals: [{ name: 'KEY' }],
  async run({ io, globals, options, positionals }) {
    const key = positionals[0]!;
    const mode = options.string('consistency') ?? 'linearizable';
    const consistency = CONSISTENCIES[mode];
    if (consistency === undefined) {
      throw new UsageError(`--consistency: expected linearizable, lease or stale, got '${mode}'`);
    }
    const { value: response } = await withReplicaEndpoints(globals, io, (endpoints) =>
      endpoints.kvCall('get', { key, consistency }, { resendable: true }),
    );
    const { kv, header } = response;
    if (kv === undefined) {
      if (globals.json) writeJsonLine(io.stdout, { found: false, key, ...headerJson(header) });
      else io.stderr.write(`catmesh: key '${key}' not found\n`);
      return ExitCode.negative;
    }
    if (globals.json) {
      writeJsonLine(io.stdout, { found: true, ...keyValueJson(kv), ...headerJson(header) });
    } else {
      io.stdout.write(kv.value);
      io.stdout.write('\n');
    }
    return ExitCode.ok;
  },
});
