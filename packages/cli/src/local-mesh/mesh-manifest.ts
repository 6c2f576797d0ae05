import { readFile, writeFile } from 'node:fs/promises';
import type { InstanceSpec } from './instance-spec.js';
import type { StateDir } from './state-dir.js';

/** An instance as `status`, `logs` and `down` need it; no environment (it may hold secrets). */
export type ManifestInstance = Omit<InstanceSpec, 'env' | 'requires'>;

/** `<state>/mesh.json`: what the last `catmesh up` on this state directory started. */
export interface MeshManifest {
  readonly portBase: number;
  readonly replicas: number;
  readonly startedAt: string;
  readonly traces: { readonly enabled: boolean; readonly endpoint?: string };
  /** In start order: every instance after the ones it depends on. */
  readonly instances: readonly ManifestInstance[];
}

export async function writeManifest(state: StateDir, manifest: MeshManifest): Promise<void> {
  await writeFile(state.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The manifest, or undefined when no mesh has been started from this state directory. */
export async function readManifest(state: StateDir): Promise<MeshManifest | undefined> {
  let text: string;
  try {
    text = await readFile(state.manifest, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const manifest = JSON.parse(text) as MeshManifest;
  if (!Array.isArray(manifest.instances)) {
    throw new Error(`${state.manifest} is not a mesh manifest (no "instances")`);
  }
  return manifest;
}

export function manifestInstance(spec: InstanceSpec): ManifestInstance {
  const { env: _env, requires: _requires, ...rest } = spec;
  return rest;
}
