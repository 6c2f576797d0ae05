// The chart's manifests for the dashboard's network-rules panel: `catmesh up` renders
// helm/catmesh with the helm `make setup` unpacks into .tools/bin, so the panel shows the
// NetworkPolicies a cluster would enforce for this very checkout. A local mesh has no
// NetworkPolicies of its own; the panel says so.
import { execFile } from 'node:child_process';
import { rename, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { REPO_ROOT } from './mesh-instances.js';
import type { StateDir } from './state-dir.js';

const execFileAsync = promisify(execFile);

const HELM = `${REPO_ROOT}.tools/bin/helm`;
const CHART = `${REPO_ROOT}helm/catmesh`;
/** helm template takes about 0.2 s here; a hung one must not hold up the mesh. */
const RENDER_TIMEOUT_MS = 15_000;

/**
 * Writes state.networkRules; on failure removes any older one (it could show rules that are no
 * longer the chart's) and says why, for the runner to print: the mesh starts either way.
 */
export async function renderNetworkRules(
  state: StateDir,
  helm: string = HELM,
): Promise<string | undefined> {
  try {
    const { stdout } = await execFileAsync(
      helm,
      ['template', 'catmesh', CHART, '--namespace', 'catmesh', '--skip-tests'],
      { timeout: RENDER_TIMEOUT_MS, maxBuffer: 16 << 20 },
    );
    const temporary = `${state.networkRules}.tmp`;
    await writeFile(temporary, stdout);
    await rename(temporary, state.networkRules);
    return undefined;
  } catch (error) {
    await rm(state.networkRules, { force: true });
    const { code, stderr, message } = error as NodeJS.ErrnoException & { stderr?: string };
    if (code === 'ENOENT') return `${helm} is missing (make setup unpacks it)`;
    return `helm template ${CHART} failed: ${(stderr || message).trim().split('\n')[0]}`;
  }
}
