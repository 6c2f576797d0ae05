import { readFile } from 'node:fs/promises';
import {
  compareWithGraph,
  compareWithObserved,
  computeMatrix,
  ManifestError,
  observedEdges,
  parseServiceGraph,
  type AllowMatrix,
} from '@catmesh/netpol';
import type { CliIo } from '../../cli-io.js';
import { UsageError } from '../../cli-errors.js';
import { writeJsonLine } from '../../cli-io.js';
import { defineCommand } from '../../command.js';
import { ExitCode } from '../../exit-codes.js';
import { CHART_VALUES, loadCluster, MANIFEST_OPTIONS, matrixOptions } from './manifest-input.js';
import { loadObservedSpans } from './trace-input.js';

/** `--observed`: what the traces used against what the policies allow. */
async function checkObserved(
  matrix: AllowMatrix,
  source: string,
  io: CliIo,
  json: boolean,
): Promise<number> {
  const spans = await loadObservedSpans(source);
  const result = compareWithObserved(matrix, observedEdges(spans, new Set(matrix.sources)));
  if (json) {
    writeJsonLine(io.stdout, { spans: spans.length, ...result });
  } else {
    for (const edge of result.usedNotAllowed) io.stdout.write(`used but not allowed: ${edge}\n`);
    for (const edge of result.allowedNotUsed) io.stdout.write(`allowed but never used: ${edge}\n`);
    for (const service of result.outsideServices) {
      io.stdout.write(`not a workload of the manifests: ${service}\n`);
    }
    io.stdout.write(
      result.usedNotAllowed.length === 0
        ? `every edge used in ${spans.length} spans is allowed\n`
        : `${result.usedNotAllowed.length} edge(s) used in the traces that the policies would block\n`,
    );
  }
  return result.usedNotAllowed.length === 0 ? ExitCode.ok : ExitCode.negative;
}

export const checkCommand = defineCommand({
  name: 'check',
  summary: 'compare what the policies allow with the declared service graph',
  usage: 'MANIFESTS [--graph VALUES | --observed TRACES] [--namespace NS] [--json]',
  description: `Computes the allow matrix of MANIFESTS (see \`catmesh netpol matrix\`) and compares
it with the service graph declared in the chart's values (serviceGraph in VALUES, default
helm/catmesh/values.yaml). Prints every difference, one edge a line: "allowed but not declared"
(a hole) and "declared but not allowed" (a call of the mesh the policies break); exits 1 when
there is any, 0 when the matrix is the graph. Edges of workloads MANIFESTS does not deploy are
listed as not deployed and left out.

With --observed TRACES, the matrix is compared with the edges real traffic used instead: TRACES
is Jaeger's query URL (http://localhost:16686: the last hour of every service) or a dump file,
OTLP/JSON (one export a line) or a Jaeger API answer. A server span under a client span is a
call (to the gRPC port; between two cat-feeder replicas, to their raft port), a NATS producer or
consumer span a connection to nats:client, and every service that exported a span reached
jaeger:otlp-http. Prints the edges used but not allowed (exit 1 when there is any) and those
allowed but never used.`,
  options: {
    ...MANIFEST_OPTIONS,
    graph: {
      type: 'string',
      valueName: 'VALUES',
      help: `the values file (default ${CHART_VALUES})`,
    },
    observed: {
      type: 'string',
      valueName: 'TRACES',
      help: 'compare with the edges of real traces: a Jaeger URL or a trace dump file',
    },
  },
  positionals: [{ name: 'MANIFESTS' }],
  async run({ io, globals, options, positionals }) {
    const cluster = await loadCluster(positionals[0]!, options, io);
    const observed = options.string('observed');
    if (observed !== undefined) {
      if (options.string('graph') !== undefined) {
        throw new UsageError('--graph and --observed compare with different things: give one');
      }
      return checkObserved(
        computeMatrix(cluster, matrixOptions(options)),
        observed,
        io,
        globals.json,
      );
    }
    const graphFile = options.string('graph') ?? CHART_VALUES;
    const graphText = await readFile(graphFile, 'utf8').catch(() => {
      throw new UsageError(`--graph ${graphFile}: cannot read the file`);
    });
    let graph;
    try {
      graph = parseServiceGraph(graphText, graphFile);
    } catch (error) {
      if (error instanceof ManifestError) throw new UsageError(error.message);
      throw error;
    }
    const result = compareWithGraph(computeMatrix(cluster, matrixOptions(options)), graph);
    const differences = result.allowedNotDeclared.length + result.declaredNotAllowed.length;
    if (globals.json) {
      writeJsonLine(io.stdout, result);
    } else {
      for (const edge of result.allowedNotDeclared) {
        io.stdout.write(`allowed but not declared: ${edge}\n`);
      }
      for (const edge of result.declaredNotAllowed) {
        io.stdout.write(`declared but not allowed: ${edge}\n`);
      }
      for (const edge of result.notDeployed) io.stdout.write(`not deployed: ${edge}\n`);
      io.stdout.write(
        differences === 0
          ? 'the policies allow exactly the declared service graph\n'
          : `${differences} difference(s) between the policies and the declared service graph\n`,
      );
    }
    return differences === 0 ? ExitCode.ok : ExitCode.negative;
  },
});
