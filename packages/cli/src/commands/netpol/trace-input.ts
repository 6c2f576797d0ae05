import { readFile } from 'node:fs/promises';
import { parseTraceDump, type ObservedSpan } from '@catmesh/netpol';
import { UsageError } from '../../cli-errors.js';

const JAEGER_LOOKBACK = '1h';
const JAEGER_LIMIT = 500;

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url).catch((error: Error) => {
    throw new UsageError(`--observed ${url}: ${error.message}`);
  });
  if (!response.ok) throw new UsageError(`--observed ${url}: HTTP ${response.status}`);
  return response.json();
}

/** Every service's traces of the last hour from Jaeger's HTTP API, as one API answer. */
async function fromJaeger(base: string): Promise<string> {
  const root = base.replace(/\/+$/, '');
  const services = (await getJson(`${root}/api/services`)) as { data?: string[] };
  const data: unknown[] = [];
  for (const service of services.data ?? []) {
    const query = new URLSearchParams({
      service,
      lookback: JAEGER_LOOKBACK,
      limit: String(JAEGER_LIMIT),
    });
    const traces = (await getJson(`${root}/api/traces?${query.toString()}`)) as {
      data?: unknown[];
    };
    data.push(...(traces.data ?? []));
  }
  return JSON.stringify({ data });
}

/** The spans of `--observed SOURCE`: Jaeger's query URL, or a dump file (OTLP/JSON or Jaeger's). */
export async function loadObservedSpans(source: string): Promise<ObservedSpan[]> {
  const text = /^https?:\/\//.test(source)
    ? await fromJaeger(source)
    : await readFile(source, 'utf8').catch(() => {
        throw new UsageError(`--observed ${source}: cannot read the file`);
      });
  try {
    return parseTraceDump(text, source);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
