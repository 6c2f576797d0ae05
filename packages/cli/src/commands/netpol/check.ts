import { readFile } from 'node:fs/promises';
import { compareWithGraph, computeMatrix, ManifestError, parseServiceGraph } from '@catmesh/netpol';
import { UsageError } from '../../cli-errors.js';
import { writeJsonLine } from '../../cli-io.js';
import { defineCommand } from '../../command.js';
import { ExitCode } from '../../exit-codes.js';
import { CHART_VALUES, loadCluster, MANIFEST_OPTIONS, matrixOptions } from './manifest-input.js';

export const checkCommand = defineCommand({
  name: 'check',
  summary: 'compare what the policies allow with the declared service graph',
  usage: 'MANIFESTS [--graph VALUES] [--namespace NS] [--json]',
  description: `Computes the allow matrix of MANIFESTS (see \`catmesh netpol matrix\`) and compares
it with the service graph declared in the chart's values (serviceGraph in VALUES, default
helm/catmesh/values.yaml). Prints every difference, one edge a line: "allowed but not declared"
(a hole) and "declared but not allowed" (a call of the mesh the policies break); exits 1 when
there is any, 0 when the matrix is the graph. Edges of workloads MANIFESTS does not deploy are
listed as not deployed and left out.`,
  options: {
    ...MANIFEST_OPTIONS,
    graph: {
      type: 'string',
      valueName: 'VALUES',
      help: `the values file (default ${CHART_VALUES})`,
    },
  },
  positionals: [{ name: 'MANIFESTS' }],
  async run({ io, globals, options, positionals }) {
    const cluster = await loadCluster(positionals[0]!, options, io);
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
