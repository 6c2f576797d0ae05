import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManifestError, parseManifests, type Cluster, type ManifestSource } from '@catmesh/netpol';
import { UsageError } from '../../cli-errors.js';
import type { CliIo } from '../../cli-io.js';
import type { OptionSpecs, OptionValues } from '../../command-line.js';
import { readAll } from '../../read-all.js';

/** The chart's values in this checkout: the declared service graph (src/ and dist/ alike). */
export const CHART_VALUES = fileURLToPath(
  new URL('../../../../../helm/catmesh/values.yaml', import.meta.url),
);

export const MANIFEST_OPTIONS = {
  namespace: {
    type: 'string',
    valueName: 'NS',
    help: 'the namespace of objects that name none, as `helm install --namespace` (default default)',
  },
  'dns-namespace': {
    type: 'string',
    valueName: 'NS',
    help: 'namespace of the cluster DNS pods (default kube-system)',
  },
  external: {
    type: 'string',
    valueName: 'ADDRESS',
    help: 'the address outside the cluster the external row connects from (default 203.0.113.10)',
  },
} as const satisfies OptionSpecs;

/** A file, every *.yaml, *.yml and *.json of a directory (sorted), or stdin for `-`. */
async function readSources(path: string, io: CliIo): Promise<ManifestSource[]> {
  if (path === '-') return [{ name: 'stdin', text: (await readAll(io.stdin)).toString('utf8') }];
  const info = await stat(path).catch(() => {
    throw new UsageError(`${path}: no such file or directory`);
  });
  if (!info.isDirectory()) return [{ name: path, text: await readFile(path, 'utf8') }];
  const names = (await readdir(path)).filter((n) => /\.(ya?ml|json)$/.test(n)).sort();
  return Promise.all(
    names.map(async (n) => ({ name: join(path, n), text: await readFile(join(path, n), 'utf8') })),
  );
}

export async function loadCluster(
  path: string,
  options: OptionValues,
  io: CliIo,
): Promise<Cluster> {
  const sources = await readSources(path, io);
  try {
    return parseManifests(sources, options.string('namespace') ?? 'default');
  } catch (error) {
    if (error instanceof ManifestError) throw new UsageError(error.message);
    throw error;
  }
}

export function matrixOptions(options: OptionValues) {
  return {
    externalAddress: options.string('external') ?? '203.0.113.10',
    dns: {
      namespace: options.string('dns-namespace') ?? 'kube-system',
      labels: { 'k8s-app': 'kube-dns' },
    },
  };
}
