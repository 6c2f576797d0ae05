// The dashboard's HTTP server: the page (built by scripts/build-page.ts, every asset served
// from here: no CDN), the snapshot as JSON, the stream of snapshots as server-sent events, and
// an OTLP/HTTP receiver of traces (JSON) with the span tree of each trace it holds.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DashboardSnapshot } from './dashboard-snapshot.js';
import type { ExperimentRuns } from './experiment-runs.js';
import type { TraceStore } from './trace-store.js';

/** An export larger than this is refused: the receiver holds bodies in memory. */
const MAX_EXPORT_BYTES = 8 * 1024 * 1024;

/** The files of the built page, by the path they are served at. */
const PAGE_FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

export interface PageServerOptions {
  readonly host: string;
  readonly port: number;
  /** The directory of the built page. */
  readonly pageDir: URL;
  readonly snapshot: () => DashboardSnapshot;
  readonly traces: TraceStore;
  /** The runs whose reports `/reports/<run>/<file>` serves; none when not configured. */
  readonly runs?: Pick<ExperimentRuns, 'file'>;
}

export interface PageServer {
  readonly port: number;
  /** Sends the current snapshot to every open stream. */
  push(): void;
  close(): Promise<void>;
}

export async function startPageServer(options: PageServerOptions): Promise<PageServer> {
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const [path, { file, type }] of Object.entries(PAGE_FILES)) {
    const location = new URL(file, options.pageDir);
    const body = await readFile(location).catch((error: unknown) => {
      throw new Error(
        `the page is not built (${location.pathname}: ${(error as Error).message}): run make build`,
      );
    });
    files.set(path, { body, type });
  }
  const streams = new Set<ServerResponse>();
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', 'http://dashboard').pathname;
    if (!isDecodable(path)) {
      response.writeHead(400, { 'content-type': 'text/plain' }).end('malformed path\n');
      return;
    }
    if (path === '/v1/traces') {
      receiveTraces(request, response, options.traces);
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const page = files.get(path);
    if (page) {
      response.writeHead(200, { 'content-type': page.type, 'cache-control': 'no-cache' });
      response.end(page.body);
    } else if (path === '/api/snapshot') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(options.snapshot()));
    } else if (path.startsWith('/api/traces/')) {
      const tree = options.traces.tree(decodeURIComponent(path.slice('/api/traces/'.length)));
      response.writeHead(tree ? 200 : 404, { 'content-type': 'application/json' });
      response.end(JSON.stringify(tree ?? { error: 'no such trace here (yet)' }));
    } else if (path.startsWith('/reports/')) {
      serveReport(path, response, options.runs);
    } else if (path === '/api/stream') {
      response.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      streams.add(response);
      response.on('close', () => streams.delete(response));
      response.write(event(options.snapshot()));
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    push() {
      if (streams.size === 0) return;
      const data = event(options.snapshot());
      for (const stream of streams) stream.write(data);
    },
    async close() {
      // Open streams would keep the server from closing: end them first.
      for (const stream of streams) stream.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Whether every %-escape of `path` decodes (decodeURIComponent throws on one that does not). */
function isDecodable(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/** `/reports/<run>/<file>`: a file of an ended run's report directory (experiment-runs.ts). */
function serveReport(
  path: string,
  response: ServerResponse,
  runs: Pick<ExperimentRuns, 'file'> | undefined,
): void {
  const [run, name, ...rest] = path.slice('/reports/'.length).split('/').map(decodeURIComponent);
  const notFound = () =>
    response.writeHead(404, { 'content-type': 'text/plain' }).end('no such report here\n');
  if (!runs || !run || !name || rest.length > 0) {
    notFound();
    return;
  }
  runs.file(run, name).then(
    (found) => {
      if (!found) notFound();
      else response.writeHead(200, { 'content-type': found.type }).end(found.body);
    },
    () => notFound(),
  );
}

/**
 * OTLP/HTTP with JSON bodies (OTEL_EXPORTER_OTLP_PROTOCOL=http/json): the exporter POSTs an
 * ExportTraceServiceRequest and wants 200 with an ExportTraceServiceResponse (`{}`).
 */
function receiveTraces(
  request: IncomingMessage,
  response: ServerResponse,
  traces: TraceStore,
): void {
  if (request.method !== 'POST') {
    response.writeHead(405, { allow: 'POST' }).end();
    return;
  }
  if (!request.headers['content-type']?.includes('json')) {
    request.resume();
    response
      .writeHead(415, { 'content-type': 'text/plain' })
      .end('this receiver takes OTLP/JSON: set OTEL_EXPORTER_OTLP_PROTOCOL=http/json\n');
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  request.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_EXPORT_BYTES) {
      response.writeHead(413).end();
      request.destroy();
      return;
    }
    chunks.push(chunk);
  });
  request.on('end', () => {
    try {
      traces.add(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    } catch (error) {
      response
        .writeHead(400, { 'content-type': 'text/plain' })
        .end(`not an OTLP/JSON export: ${(error as Error).message}\n`);
    }
  });
}

function event(snapshot: DashboardSnapshot): string {
  return `data: ${JSON.stringify(snapshot)}\n\n`;
}
