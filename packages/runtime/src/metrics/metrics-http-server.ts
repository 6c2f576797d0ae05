import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { listenError } from '../net/listen-error.js';

export interface MetricsHttpServerOptions {
  readonly host: string;
  /** 0 lets the OS choose (the chosen port is on the result). */
  readonly port: number;
  readonly registry: Registry;
  /** Whether the process should get traffic now: true exactly while the gRPC server is SERVING. */
  readonly isReady: () => boolean;
}

export interface MetricsHttpServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The HTTP side of a service: `/metrics` (Prometheus text format), `/healthz` (the process is
 * alive: a liveness probe) and `/readyz` (200 only while serving: a readiness probe).
 */
export async function startMetricsHttpServer(
  options: MetricsHttpServerOptions,
): Promise<MetricsHttpServer> {
  const server = createServer((request, response) => {
    respond(options, request, response).catch((error: unknown) => {
      response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(`metrics failed: ${error instanceof Error ? error.message : String(error)}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(listenError('metrics HTTP server', options.host, options.port, error)),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

async function respond(
  options: MetricsHttpServerOptions,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
    response.end('method not allowed\n');
    return;
  }
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  switch (path) {
    case '/metrics': {
      const body = await options.registry.metrics();
      response.writeHead(200, { 'content-type': options.registry.contentType });
      response.end(body);
      return;
    }
    case '/healthz':
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('ok\n');
      return;
    case '/readyz': {
      const ready = options.isReady();
      response.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' });
      response.end(ready ? 'ready\n' : 'not serving\n');
      return;
    }
    default:
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('not found\n');
  }
}
