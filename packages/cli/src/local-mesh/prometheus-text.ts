/** One sample of a metric in the Prometheus text format. */
export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of metric `name` in a `/metrics` page (text exposition format 0.0.4). */
export function samplesOf(text: string, name: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = SAMPLE_LINE.exec(line.trim());
    if (!match || match[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const [, label, value] of (match[2] ?? '').matchAll(LABEL)) {
      labels[label!] = value!.replace(/\\(.)/g, (_, escaped: string) =>
        escaped === 'n' ? '\n' : escaped,
      );
    }
    samples.push({ labels, value: Number(match[3]) });
  }
  return samples;
}

/** The gRPC calls a server has answered so far, and how many of them failed (not OK). */
export interface CallCounts {
  readonly calls: number;
  readonly errors: number;
}

/**
 * Totals of `grpc_server_handled_total`, health checks left out: `catmesh status` and the
 * runner ask those themselves, and they would drown an idle instance's real traffic.
 */
export function serverCallCounts(text: string): CallCounts {
  let calls = 0;
  let errors = 0;
  for (const { labels, value } of samplesOf(text, 'grpc_server_handled_total')) {
    if (labels['grpc_service'] === 'grpc.health.v1.Health') continue;
    calls += value;
    if (labels['grpc_code'] !== 'OK') errors += value;
  }
  return { calls, errors };
}
