import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertValidReport, renderSummary } from '@catmesh/chaos';
import { writeJsonLine } from '../../cli-io.js';
import { defineCommand } from '../../command.js';
import { ExitCode } from '../../exit-codes.js';
import {
  fetchExperimentReport,
  ReportUnavailableError,
} from '../../kubernetes/experiment-report.js';

export const reportCommand = defineCommand({
  name: 'report',
  summary: 'print the summary of a report written by chaos run, or by the controller',
  usage: 'DIR [--json] | NAME --kubernetes [--namespace NS] [--kubeconfig FILE] [--out DIR]',
  description: `Reads DIR/report.json (written by \`catmesh chaos run\`), checks it against the report
schema, and prints its summary (with --json: the report itself, one line). The page beside it,
DIR/report.html, opens in any browser.

With --kubernetes, NAME is a ChaosExperiment in a cluster: its report is read from the ConfigMap
its status names (the chaos controller writes it when the experiment has Finished), with your
kubeconfig as kubectl reads it; --out DIR also writes the report's files there.`,
  options: {
    kubernetes: { type: 'boolean', help: 'NAME is a ChaosExperiment in the cluster' },
    namespace: {
      type: 'string',
      short: 'n',
      valueName: 'NS',
      help: "the experiment's namespace (default: the kubeconfig context's)",
    },
    kubeconfig: {
      type: 'string',
      valueName: 'FILE',
      help: 'the kubeconfig (default: $KUBECONFIG, then ~/.kube/config)',
    },
    out: {
      type: 'string',
      valueName: 'DIR',
      help: "with --kubernetes: write the report's files here",
    },
  },
  positionals: [{ name: 'DIR' }],
  async run({ io, globals, options, positionals }) {
    const given = positionals[0]!;
    let source: string;
    let text: string;
    let page: string | undefined;
    if (options.flag('kubernetes')) {
      try {
        const stored = await fetchExperimentReport(given, {
          kubeconfig: options.string('kubeconfig') ?? io.env['KUBECONFIG']?.split(':')[0],
          namespace: options.string('namespace'),
        });
        source = `ConfigMap ${stored.configMap}`;
        text = stored.files['report.json'] ?? '';
        const out = options.string('out');
        if (out !== undefined) {
          await mkdir(out, { recursive: true });
          for (const [file, content] of Object.entries(stored.files)) {
            await writeFile(join(out, file), content);
          }
          if (stored.files['report.html'] !== undefined) page = join(out, 'report.html');
        }
      } catch (error) {
        if (!(error instanceof ReportUnavailableError)) throw error;
        io.stderr.write(`catmesh: ${error.message}\n`);
        return ExitCode.negative;
      }
    } else {
      for (const option of ['namespace', 'kubeconfig', 'out'] as const) {
        if (options.string(option) !== undefined) {
          io.stderr.write(`catmesh: --${option} goes with --kubernetes\n`);
          return ExitCode.usage;
        }
      }
      source = join(given, 'report.json');
      page = join(given, 'report.html');
      try {
        text = await readFile(source, 'utf8');
      } catch (error) {
        io.stderr.write(`catmesh: ${source}: ${(error as Error).message}\n`);
        return ExitCode.usage;
      }
    }
    let report: unknown;
    try {
      report = JSON.parse(text);
      assertValidReport(report);
    } catch (error) {
      io.stderr.write(`catmesh: ${source}: ${(error as Error).message}\n`);
      return ExitCode.usage;
    }
    if (globals.json) writeJsonLine(io.stdout, report);
    else
      io.stdout.write(`${renderSummary(report)}\n${page === undefined ? '' : `\npage: ${page}\n`}`);
    return ExitCode.ok;
  },
});
