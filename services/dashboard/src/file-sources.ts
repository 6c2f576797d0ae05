// The sources the dashboard reads from files rather than asks over the network: the runs of
// `catmesh chaos run` (the experiments panel) and the chart's rendered manifests (the
// network-rules panel). Either may be left unconfigured; the panel then says how to give it.
import type { ExperimentsView, NetworkRulesView, SourceStatus } from './dashboard-snapshot.js';
import { ExperimentRuns } from './experiment-runs.js';
import { NetworkRulesFile, type NetworkRules } from './network-rules.js';
import { Poller } from './poller.js';

export interface FileSourcesOptions {
  readonly reportsDir?: string;
  readonly networkRules?: string;
  readonly pollEveryMs: number;
}

export class FileSources {
  readonly runs: ExperimentRuns | undefined;
  readonly #runs: Poller<Omit<ExperimentsView, 'source'>> | undefined;
  readonly #rules: Poller<NetworkRules> | undefined;

  constructor(options: FileSourcesOptions) {
    if (options.reportsDir !== undefined) {
      const runs = new ExperimentRuns(options.reportsDir);
      this.runs = runs;
      this.#runs = new Poller(`experiment runs in ${runs.dir}`, options.pollEveryMs, () =>
        runs.read(),
      );
    }
    if (options.networkRules !== undefined) {
      const rules = new NetworkRulesFile(options.networkRules);
      this.#rules = new Poller(`network rules in ${rules.file}`, options.pollEveryMs, () =>
        rules.read(),
      );
    }
  }

  start(): void {
    this.#runs?.start();
    this.#rules?.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.#runs?.stop(), this.#rules?.stop()]);
  }

  experiments(): ExperimentsView {
    const source = this.#runs?.status ?? unconfigured('experiment runs', 'REPORTS_DIR');
    return { source, running: [], past: [], ...this.#runs?.value };
  }

  networkRules(): NetworkRulesView {
    const source = this.#rules?.status ?? unconfigured('network rules', 'NETWORK_RULES');
    return { source, from: [], to: [], allowed: [], policies: 0, ...this.#rules?.value };
  }
}

function unconfigured(source: string, variable: string): SourceStatus {
  return { source, up: false, reason: `not configured (CATMESH_DASHBOARD_${variable})` };
}
