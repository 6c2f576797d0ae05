import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { catfeederV1 } from '@catmesh/proto';
import { keyValueJson } from '../../catfeeder/key-value-json.js';
import { withReplicaEndpoints, type ReplicaEndpoints } from '../../catfeeder/replica-endpoints.js';
import { parsePositiveInteger } from '../../argument-values.js';
import { InterruptedError, oneLine, statusName } from '../../cli-errors.js';
import { writeJsonLine, type CliIo } from '../../cli-io.js';
import { defineCommand } from '../../command.js';
import { ExitCode } from '../../exit-codes.js';

const { EventType } = catfeederV1;

export const watchCommand = defineCommand({
  name: 'watch',
  summary: 'stream the changes under a prefix',
  usage: '[PREFIX] [--from-revision N] [--count N]',
  description: `Prints every change to the keys starting with PREFIX (all keys when omitted), one line
each, in revision order: "PUT cat.state = full (rev 12)", "DELETE cat.state (rev 13)". Runs
until Ctrl-C (exit 0) or --count changes. When the stream breaks it resumes on another
endpoint from the revision after the last one printed, so no change is missed or repeated.`,
  options: {
    'from-revision': {
      type: 'string',
      valueName: 'N',
      help: 'start with the changes at store revision N (default: only changes from now on)',
    },
    count: { type: 'string', valueName: 'N', help: 'exit after N changes' },
  },
  positionals: [{ name: 'PREFIX', optional: true }],
  async run({ io, globals, options, positionals }) {
    const from = options.string('from-revision');
    const count = options.string('count');
    const watch: WatchSpec = {
      prefix: positionals[0] ?? '',
      fromRevision: from === undefined ? 0 : parsePositiveInteger(from, '--from-revision'),
      count: count === undefined ? Infinity : parsePositiveInteger(count, '--count'),
      json: globals.json,
    };
    return withReplicaEndpoints(globals, io, (endpoints) => watchChanges(endpoints, io, watch));
  },
});

interface WatchSpec {
  readonly prefix: string;
  /** 0: changes after the current revision. */
  readonly fromRevision: number;
  readonly count: number;
  readonly json: boolean;
}

/** How an established watch stream ended. */
type StreamEnd = { readonly kind: 'done' } | { readonly kind: 'broken'; readonly why: string };

async function watchChanges(
  endpoints: ReplicaEndpoints,
  io: CliIo,
  watch: WatchSpec,
): Promise<number> {
  /** The revision to ask for when (re)connecting: the one after the last change printed. */
  let next = watch.fromRevision;
  let printed = 0;
  let startAt = 0;

  /**
   * Watches on one endpoint. Rejects (so that `endpoints.call` tries the next) when the stream
   * fails before its first response, which the server sends as soon as the watch is set up;
   * once established, resolves when it ends.
   */
  const streamFrom = (address: string, establishMs: number): Promise<StreamEnd> =>
    new Promise((resolve, reject) => {
      const stream = endpoints.kv(address).watch({ prefix: watch.prefix, startRevision: next });
      let established = false;
      let finished = false;
      const finish = (): void => {
        finished = true;
        clearTimeout(timer);
        io.signal?.removeEventListener('abort', stop);
      };
      const stop = (): void => {
        finish();
        stream.cancel();
        resolve({ kind: 'done' });
      };
      const fail = (error: ServiceError): void => {
        finish();
        if (established) {
          resolve({ kind: 'broken', why: `${statusName(error.code)}: ${oneLine(error.details)}` });
        } else {
          reject(error);
        }
      };
      const timer = setTimeout(() => {
        finish();
        stream.cancel();
        reject(serviceError(status.DEADLINE_EXCEEDED, `no answer within ${establishMs} ms`));
      }, establishMs);
      io.signal?.addEventListener('abort', stop, { once: true });

      stream.on('data', (response: catfeederV1.WatchResponse) => {
        if (finished) return;
        established = true;
        clearTimeout(timer);
        for (const event of response.events) {
          if (event.kv === undefined) continue;
          printEvent(io, watch.json, event.type, event.kv, response.header);
          next = event.kv.modRevision + 1;
          printed += 1;
          if (printed >= watch.count) {
            stop();
            return;
          }
        }
        // The first answer of a watch "from now" says which revision "now" was.
        if (next === 0 && response.header) next = response.header.revision + 1;
      });
      stream.on('error', (error: ServiceError) => {
        if (!finished) fail(error);
      });
      stream.on('end', () => {
        if (!finished) fail(serviceError(status.UNAVAILABLE, 'the server ended the watch'));
      });
    });

  for (;;) {
    let ended: { readonly value: StreamEnd; readonly address: string };
    try {
      ended = await endpoints.call(streamFrom, { resendable: true, startAt });
    } catch (error) {
      if (error instanceof InterruptedError) return ExitCode.ok;
      throw error;
    }
    if (ended.value.kind === 'done') return ExitCode.ok;
    const resume = next === 0 ? 'now' : `revision ${next}`;
    io.stderr.write(
      `catmesh: watch on ${ended.address} broke (${ended.value.why}); resuming from ${resume}\n`,
    );
    startAt = (endpoints.addresses.indexOf(ended.address) + 1) % endpoints.addresses.length;
  }
}

function printEvent(
  io: CliIo,
  json: boolean,
  type: catfeederV1.EventType,
  kv: catfeederV1.KeyValue,
  header: catfeederV1.ResponseHeader | undefined,
): void {
  const deleted = type === EventType.EVENT_TYPE_DELETE;
  const name = deleted ? 'DELETE' : type === EventType.EVENT_TYPE_PUT ? 'PUT' : 'UNKNOWN';
  if (json) {
    // A delete's kv carries only the key and the deleting revision.
    const change = deleted ? { key: kv.key, mod_revision: kv.modRevision } : keyValueJson(kv);
    const servedBy = header === undefined ? {} : { served_by: header.memberId };
    writeJsonLine(io.stdout, { type: name, ...change, ...servedBy });
    return;
  }
  const value = deleted ? '' : ` = ${new TextDecoder().decode(kv.value)}`;
  io.stdout.write(`${name} ${kv.key}${value} (rev ${kv.modRevision})\n`);
}

/** A failure of our own making (a timeout, an ended stream) in the shape grpc-js gives its own. */
function serviceError(code: status, details: string): ServiceError {
  return Object.assign(new Error(`${code} ${statusName(code)}: ${details}`), {
    code,
    details,
    metadata: new Metadata(),
  });
}
