import { readdir } from 'node:fs/promises';
import { basename } from 'node:path';
import { parsePositiveInteger } from '../argument-values.js';
import { UsageError } from '../cli-errors.js';
import { defineCommand } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import {
  followLogs,
  logSize,
  readMergedLogs,
  type NamedLine,
  type NamedLog,
} from '../local-mesh/log-files.js';
import { readManifest } from '../local-mesh/mesh-manifest.js';
import { prefixedLine, prettyLogLine } from '../local-mesh/pretty-log-line.js';
import { DEFAULT_STATE_DIR, STATE_DIR_OPTION, StateDir } from '../local-mesh/state-dir.js';

/** Lines of each log shown before following it, unless --tail says otherwise (as tail -f). */
const FOLLOW_TAIL = 10;

export const logsCommand = defineCommand({
  name: 'logs',
  summary: "the local mesh's logs: one instance's, or all interleaved",
  usage: '[NAME] [--follow] [--tail N] [--state-dir DIR]',
  description: `Prints the log of instance NAME (cat-feeder-2), of every instance of a service
(cat-feeder), or with no NAME of every instance, interleaved by time with each line's
instance in front. On a terminal the lines are made readable (time, level, message, fields,
in colour; NO_COLOR turns colour off); otherwise they are printed as written, JSON lines
of the services (nats-server writes text), so \`catmesh logs orders | jq\` works.
--follow keeps printing what is appended until Ctrl-C, after the last ${FOLLOW_TAIL} lines of each
log (or --tail N). Logs of other instances (an earlier mesh's, the runner's watchdog) are
shown when named.`,
  options: {
    follow: { type: 'boolean', short: 'f', help: 'keep printing new lines until Ctrl-C' },
    tail: {
      type: 'string',
      valueName: 'N',
      help: `only the last N lines of each log (default: all; ${FOLLOW_TAIL} with --follow)`,
    },
    ...STATE_DIR_OPTION,
  },
  positionals: [{ name: 'NAME', optional: true }],
  async run({ io, options, positionals }) {
    const state = new StateDir(options.string('state-dir') ?? DEFAULT_STATE_DIR);
    const known = await knownLogs(state);
    if (known.length === 0) {
      io.stderr.write(`catmesh: no logs in ${state.logsDir} (start a mesh with catmesh up)\n`);
      return ExitCode.negative;
    }
    const name = positionals[0];
    const logs =
      name === undefined
        ? known.filter((log) => log.current)
        : known.filter((log) => log.name === name || log.service === name);
    if (logs.length === 0) {
      throw new UsageError(
        `unknown instance '${name}'; one of: ${known.map((log) => log.name).join(', ')}`,
      );
    }
    const follow = options.flag('follow');
    const tailText = options.string('tail');
    const tail =
      tailText === undefined
        ? follow
          ? FOLLOW_TAIL
          : undefined
        : parsePositiveInteger(tailText, '--tail');
    const pretty = io.stdout.isTTY === true;
    const colour = pretty && !io.env['NO_COLOR'];
    const several = logs.length > 1;
    const nameWidth = Math.max(...logs.map((log) => log.name.length));
    const print = ({ name: from, line }: NamedLine): void => {
      const text = pretty
        ? prettyLogLine(line, { ...(several && { name: from }), nameWidth, colour })
        : several
          ? prefixedLine(from, nameWidth, line.raw)
          : line.raw;
      io.stdout.write(`${text}\n`);
    };
    const sized = await Promise.all(
      logs.map(async (log) => ({ ...log, size: await logSize(log.path) })),
    );
    for (const line of await readMergedLogs(sized, tail)) print(line);
    if (follow) await followLogs(sized, print, io.signal);
    return ExitCode.ok;
  },
});

interface KnownLog extends NamedLog {
  readonly service: string;
  /** An instance of the last mesh started here (or, with no manifest, any log). */
  readonly current: boolean;
}

/**
 * The logs there are: the instances of the last mesh in start order, then any other log file
 * (an instance of an earlier mesh, the runner's watchdog).
 */
async function knownLogs(state: StateDir): Promise<KnownLog[]> {
  const manifest = await readManifest(state).catch(() => undefined);
  const files = await readdir(state.logsDir).catch(() => [] as string[]);
  const names = files.filter((file) => file.endsWith('.log')).map((file) => basename(file, '.log'));
  const instances = manifest?.instances ?? [];
  return [
    ...instances.map(({ name, service }) => ({ name, service, current: true })),
    ...names
      .filter((name) => !instances.some((instance) => instance.name === name))
      .map((name) => ({ name, service: name, current: manifest === undefined })),
  ].map((log) => ({ ...log, path: state.log(log.name) }));
}
