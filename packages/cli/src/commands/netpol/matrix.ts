import { computeMatrix, formatMatrix, NOT_MODELLED } from '@catmesh/netpol';
import { writeJsonLine } from '../../cli-io.js';
import { defineCommand } from '../../command.js';
import { ExitCode } from '../../exit-codes.js';
import { loadCluster, MANIFEST_OPTIONS, matrixOptions } from './manifest-input.js';

export const matrixCommand = defineCommand({
  name: 'matrix',
  summary: 'what the NetworkPolicies of rendered manifests allow, workload by workload',
  usage: 'MANIFESTS [--namespace NS] [--json]',
  description: `Computes the allow matrix of MANIFESTS (a file, a directory, or - for stdin, e.g.
\`helm template catmesh helm/catmesh | catmesh netpol matrix -\`) from its NetworkPolicies and
the labels and container ports of its workloads' pods, by the Kubernetes API's semantics: a pod
no policy selects is open in that direction; otherwise a connection needs a rule of a selecting
policy matching the peer and the port, on the source's egress and on the destination's
ingress. Each cell lists the destination ports allowed. --json prints one line per cell with the
policies that decided it.`,
  options: MANIFEST_OPTIONS,
  positionals: [{ name: 'MANIFESTS' }],
  async run({ io, globals, options, positionals }) {
    const cluster = await loadCluster(positionals[0]!, options, io);
    const matrix = computeMatrix(cluster, matrixOptions(options));
    if (globals.json) {
      for (const cell of matrix.cells) writeJsonLine(io.stdout, cell);
      for (const dns of matrix.dns) writeJsonLine(io.stdout, { ...dns, to: 'cluster-dns' });
      writeJsonLine(io.stdout, { notModelled: NOT_MODELLED });
      return ExitCode.ok;
    }
    io.stdout.write(formatMatrix(matrix));
    return ExitCode.ok;
  },
});
