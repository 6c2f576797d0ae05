// The user's side of the controller's end-to-end tests: the real kubectl against the fake API
// server, applying the experiment library's files (renamed, shortened by the time-scale
// annotation, edited) and reading their status as the controller writes it.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { EXPERIMENT_GROUP, EXPERIMENT_PLURAL, type ExperimentStatus } from '@catmesh/chaos';
import type { FakeApiServer, KubeObject, ResourceType } from '@catmesh/testkit';
import { parse, stringify } from 'yaml';
import { vi } from 'vitest';
import { TIME_SCALE_ANNOTATION } from '../../src/index.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const KUBECTL = join(ROOT, '.tools/bin/kubectl');
const LIBRARY = join(ROOT, 'k8s/experiments');

export const EXPERIMENTS: ResourceType = {
  group: EXPERIMENT_GROUP,
  version: 'v1alpha1',
  plural: EXPERIMENT_PLURAL,
  kind: 'ChaosExperiment',
  statusSubresource: true,
};

export type Experiment = KubeObject & { status?: ExperimentStatus };

export class ExperimentClient {
  constructor(
    private readonly server: FakeApiServer,
    /** The user's kubeconfig. */
    readonly kubeconfig: string,
    readonly namespace: string,
    /** Where the edited experiment files are written. */
    private readonly workDir: string,
  ) {}

  async kubectl(...args: string[]): Promise<string> {
    const { stdout } = await promisify(execFile)(KUBECTL, [
      ...['--kubeconfig', this.kubeconfig, '--namespace', this.namespace],
      ...args,
    ]);
    return stdout;
  }

  /** A library experiment, renamed, shortened by `timeScale` and edited, applied with kubectl. */
  async apply(
    file: string,
    name: string,
    timeScale: number,
    edit: (spec: Record<string, unknown>) => void = () => undefined,
  ): Promise<string> {
    const document = parse(await readFile(join(LIBRARY, file), 'utf8')) as {
      metadata: { name: string; annotations?: Record<string, string> };
      spec: Record<string, unknown>;
    };
    document.metadata.name = name;
    document.metadata.annotations = { [TIME_SCALE_ANNOTATION]: String(timeScale) };
    edit(document.spec);
    const path = join(this.workDir, `${name}.yaml`);
    await writeFile(path, stringify(document));
    return this.kubectl('apply', '-f', path);
  }

  /** The experiment as stored now. */
  get(name: string): Experiment {
    return this.server.store.get(EXPERIMENTS, this.namespace, name) as Experiment;
  }

  /** The experiment's status once its phase is one of `phases`. */
  async waitForPhase(name: string, phases: string[], timeout = 90_000): Promise<ExperimentStatus> {
    let status: ExperimentStatus = {};
    await vi.waitFor(
      () => {
        status = this.get(name).status ?? {};
        if (!phases.includes(status.phase ?? '')) {
          throw new Error(`${name} is ${status.phase ?? 'new'}, not ${phases.join('/')}`);
        }
      },
      { timeout, interval: 200 },
    );
    return status;
  }

  /** The first target of the experiment once it is Injected (the fault holds). */
  async waitForInjected(name: string, timeout = 60_000): Promise<ExperimentTarget> {
    let target: ExperimentTarget | undefined;
    await vi.waitFor(
      () => {
        target = this.get(name).status?.targets?.[0];
        if (target?.state !== 'Injected') throw new Error(`${name} is not injected yet`);
      },
      { timeout, interval: 100 },
    );
    return target!;
  }
}

export type ExperimentTarget = NonNullable<ExperimentStatus['targets']>[number];
