// A ChaosExperiment's report as the controller stored it: the experiment's status names the
// ConfigMap, which holds report.json (and report.html when it fitted). Read with the user's own
// kubeconfig, as kubectl would.
import {
  EXPERIMENT_GROUP,
  EXPERIMENT_PLURAL,
  EXPERIMENT_VERSION,
  type ExperimentStatus,
} from '@catmesh/chaos';

/** What stops the report from being read; the message says what to do. */
export class ReportUnavailableError extends Error {
  override readonly name = 'ReportUnavailableError';
}

export interface StoredReport {
  readonly configMap: string;
  /** File name (report.json, report.html, ...) to its text. */
  readonly files: Readonly<Record<string, string>>;
}

export interface ClusterTarget {
  /** A kubeconfig file; else KUBECONFIG, ~/.kube/config or the pod's service account. */
  readonly kubeconfig: string | undefined;
  /** Else the kubeconfig context's namespace, else `default`. */
  readonly namespace: string | undefined;
}

export async function fetchExperimentReport(
  name: string,
  target: ClusterTarget,
): Promise<StoredReport> {
  // Loaded only here: the rest of the CLI never needs a Kubernetes client.
  const { CoreV1Api, CustomObjectsApi, KubeConfig } = await import('@kubernetes/client-node');
  const config = new KubeConfig();
  try {
    if (target.kubeconfig === undefined) config.loadFromDefault();
    else config.loadFromFile(target.kubeconfig);
  } catch (error) {
    throw new ReportUnavailableError(
      `kubeconfig ${target.kubeconfig ?? '(default)'}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const namespace =
    target.namespace ?? config.getContextObject(config.getCurrentContext())?.namespace ?? 'default';
  const where = `chaosexperiment ${name} in namespace ${namespace} (${config.getCurrentCluster()?.server ?? 'no cluster'})`;
  let experiment: { status?: ExperimentStatus };
  try {
    experiment = (await config.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
      group: EXPERIMENT_GROUP,
      version: EXPERIMENT_VERSION,
      namespace,
      plural: EXPERIMENT_PLURAL,
      name,
    })) as { status?: ExperimentStatus };
  } catch (error) {
    throw new ReportUnavailableError(`${where}: ${apiMessage(error)}`);
  }
  const status = experiment.status ?? {};
  if (status.reportConfigMap === undefined) {
    const phase = status.phase ?? 'Pending';
    throw new ReportUnavailableError(
      phase === 'Failed'
        ? `${where} failed without a report: ${status.summary ?? 'no reason given'}`
        : `${where} is ${phase}: its report comes when it has Finished (kubectl get chaosexperiment ${name} -w)`,
    );
  }
  try {
    const configMap = await config
      .makeApiClient(CoreV1Api)
      .readNamespacedConfigMap({ namespace, name: status.reportConfigMap });
    return { configMap: status.reportConfigMap, files: configMap.data ?? {} };
  } catch (error) {
    throw new ReportUnavailableError(
      `${where}: ConfigMap ${status.reportConfigMap}: ${apiMessage(error)}`,
    );
  }
}

/** The API's own message (its Status), else the error's. */
function apiMessage(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      const message = (JSON.parse(body) as { message?: unknown }).message;
      if (typeof message === 'string') return message;
    } catch {
      // Not a Status: the error's message below.
    }
  }
  return error instanceof Error ? error.message : String(error);
}
