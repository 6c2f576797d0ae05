import type { catfeederV1 } from '@catmesh/proto';
import { headerJson, keyValueJson } from '../../catfeeder/key-value-json.js';
import { withReplicaEndpoints } from '../../catfeeder/replica-endpoints.js';
import { oneWriteRequestId } from '../../catfeeder/request-id.js';
import { parsePositiveInteger } from '../../argument-values.js';
import { UsageError } from '../../cli-errors.js';
import { writeJsonLine } from '../../cli-io.js';
import { defineCommand } from '../../command.js';
import type { OptionValues } from '../../command-line.js';
import { ExitCode } from '../../exit-codes.js';

export const casCommand = defineCommand({
  name: 'cas',
  summary: 'write one key if it holds what you expect (compare-and-swap)',
  usage: 'KEY NEW_VALUE (--expect-value V | --expect-revision N | --expect-absent)',
  description: `Writes NEW_VALUE to KEY only if the expectation holds, atomically. Prints the store
revision of the write and exits 0 when it swapped; when the expectation failed it writes
nothing, prints what KEY holds now (value and mod revision, or that it does not exist) and
exits 1. Resent safely like put.`,
  options: {
    'expect-value': { type: 'string', valueName: 'V', help: 'the current value is V' },
    'expect-revision': {
      type: 'string',
      valueName: 'N',
      help: 'the key was last changed at store revision N (its mod_revision)',
    },
    'expect-absent': { type: 'boolean', help: 'the key does not exist' },
  },
  positionals: [{ name: 'KEY' }, { name: 'NEW_VALUE' }],
  async run({ io, globals, options, positionals }) {
    const [key, newValue] = positionals as [string, string];
    const expected = expectationOf(options);
    const request = {
      key,
      expected,
      newValue: Buffer.from(newValue),
      requestId: oneWriteRequestId(),
    };
    const { value: response } = await withReplicaEndpoints(globals, io, (endpoints) =>
      endpoints.kvCall('compareAndSwap', request, { resendable: true }),
    );
    const { header, kv, succeeded } = response;
    if (globals.json) {
      writeJsonLine(io.stdout, {
        succeeded,
        found: kv !== undefined,
        ...(kv ? keyValueJson(kv) : { key }),
        ...headerJson(header),
      });
    } else if (succeeded) {
      io.stdout.write(`${header?.revision ?? kv?.modRevision ?? '?'}\n`);
    } else {
      const now = kv
        ? `${key} = ${new TextDecoder().decode(kv.value)} (mod revision ${kv.modRevision})`
        : `${key} does not exist`;
      io.stderr.write(`catmesh: compare failed, nothing written: ${now}\n`);
    }
    return succeeded ? ExitCode.ok : ExitCode.negative;
  },
});

function expectationOf(options: OptionValues): catfeederV1.CompareAndSwapRequest['expected'] {
  const value = options.string('expect-value');
  const revision = options.string('expect-revision');
  const absent = options.flag('expect-absent');
  const given = [value !== undefined, revision !== undefined, absent].filter(Boolean).length;
  if (given !== 1) {
    throw new UsageError(
      `give exactly one of --expect-value, --expect-revision, --expect-absent (got ${given})`,
    );
  }
  if (value !== undefined) return { $case: 'expectedValue', value: Buffer.from(value) };
  if (revision !== undefined) {
    return {
      $case: 'expectedModRevision',
      value: parsePositiveInteger(revision, '--expect-revision'),
    };
  }
  return { $case: 'expectedAbsent', value: true };
}
