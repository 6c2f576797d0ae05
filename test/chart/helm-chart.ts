// Runs the real helm binary (unpacked from the npm kubectl layer by scripts/setup-k8s-tools.sh)
// over helm/catmesh, and parses what it renders.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CHART_DIR = `${REPO_ROOT}helm/catmesh`;
const HELM = `${REPO_ROOT}.tools/bin/helm`;

/** A rendered Kubernetes object, as far as these tests look into it. */
export interface RenderedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly [key: string]: unknown };
  readonly [key: string]: unknown;
}

export interface HelmResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** One helm command; resolves with its exit code and output whatever the code. */
export function helm(args: readonly string[]): Promise<HelmResult> {
  if (!existsSync(HELM)) {
    throw new Error(`${HELM} is missing: run make setup (or ./scripts/setup-k8s-tools.sh)`);
  }
  return new Promise((resolve, reject) => {
    execFile(HELM, [...args], { cwd: REPO_ROOT, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(new Error(`helm: ${error.message}`));
      else resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

/** A set of values to render the chart with: value files and --set pairs. */
export interface ValuesCase {
  readonly name: string;
  /** Relative to the chart (presets/kind.yaml), or absolute. */
  readonly files?: readonly string[];
  readonly set?: Readonly<Record<string, string>>;
}

export function valuesArgs(values: ValuesCase): string[] {
  return [
    ...(values.files ?? []).flatMap((file) => [
      '-f',
      file.startsWith('/') ? file : `${CHART_DIR}/${file}`,
    ]),
    ...Object.entries(values.set ?? {}).flatMap(([key, value]) => ['--set', `${key}=${value}`]),
  ];
}

export const RELEASE = 'catmesh';
export const NAMESPACE = 'catmesh';

/** `helm template` (the test hooks included) as parsed objects; throws with helm's stderr. */
export async function renderChart(values: ValuesCase): Promise<RenderedObject[]> {
  const result = await helm([
    'template',
    RELEASE,
    CHART_DIR,
    '--namespace',
    NAMESPACE,
    ...valuesArgs(values),
  ]);
  if (result.code !== 0) throw new Error(`helm template (${values.name}): ${result.stderr}`);
  return parseManifests(result.stdout);
}

/** Objects back to a multi-document YAML text, as `helm template` prints them. */
export function manifestText(objects: readonly RenderedObject[]): string {
  return objects.map((object) => `---\n${stringify(object)}`).join('');
}

export function parseManifests(text: string): RenderedObject[] {
  return parseAllDocuments(text)
    .map((document) => {
      if (document.errors.length > 0) throw new Error(document.errors.join('; '));
      return document.toJS() as RenderedObject | null;
    })
    .filter((object): object is RenderedObject => object !== null);
}

/** The value cases the chart must render cleanly. */
export const VALUES_MATRIX: readonly ValuesCase[] = [
  { name: 'defaults' },
  { name: '5 cat-feeder replicas', set: { 'catFeeder.replicas': '5' } },
  { name: 'tracing off', set: { 'tracing.enabled': 'false' } },
  { name: 'kind preset', files: ['presets/kind.yaml'] },
  { name: 'minikube preset', files: ['presets/minikube.yaml'] },
  { name: 'chaos controller off', set: { 'chaosController.enabled': 'false' } },
  { name: 'dashboard off', set: { 'dashboard.enabled': 'false' } },
  {
    name: 'ServiceMonitor on, loadgen off, metrics annotations off',
    set: {
      'metrics.serviceMonitor.enabled': 'true',
      'loadgen.enabled': 'false',
      'metrics.annotations': 'false',
    },
  },
];
