import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MESH_HOST } from './mesh-instances.js';
import { parseProcessFaultRequest } from './process-fault-request.js';
import type { ProcessFaults } from './process-faults.js';
import {
  RunnerControlError,
  type ErrorResponse,
  type InstanceRecord,
  type InstancesResponse,
  type ProcessFaultsResponse,
} from './runner-control-api.js';
import { removeRunnerControlFile, writeRunnerControlFile } from './runner-control-file.js';
import type { StateDir } from './state-dir.js';

const MAX_BODY_BYTES = 64 * 1024;
const FAULTS_PATH = '/v1/process-faults';

export interface RunnerControlSource {
  readonly instances: () => InstanceRecord[];
  readonly faults: ProcessFaults;
}

export interface RunnerControlServer {
  readonly port: number;
  /** Removes the control file, then stops serving. */
  close(): Promise<void>;
}

/**
 * The runner's control API: HTTP on loopback, a port of the kernel's choosing and a random
 * bearer token, both in `<state>/run/runner-control.json` (0600), so that only this user's
 * processes (a `catmesh chaos run`) can ask the runner to kill or pause its instances.
 */
export async function serveRunnerControl(
  state: StateDir,
  source: RunnerControlSource,
): Promise<RunnerControlServer> {
  const token = randomBytes(32).toString('base64url');
  const expected = Buffer.from(`Bearer ${token}`);
  const server = createServer((request, response) => {
    void answer(request, response, expected, source, state);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, MESH_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  await writeRunnerControlFile(state, { port, token, pid: process.pid });
  return {
    port,
    async close() {
      await removeRunnerControlFile(state);
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      await closed;
    },
  };
}

async function answer(
  request: IncomingMessage,
  response: ServerResponse,
  expectedAuthorization: Buffer,
  source: RunnerControlSource,
  state: StateDir,
): Promise<void> {
  try {
    const given = Buffer.from(request.headers.authorization ?? '');
    if (
      given.length !== expectedAuthorization.length ||
      !timingSafeEqual(given, expectedAuthorization)
    ) {
      throw new RunnerControlError(
        401,
        `authorization: a bearer token is required: the one in ${state.runnerControl}`,
        'authorization',
      );
    }
    const url = new URL(request.url ?? '/', `http://${MESH_HOST}`);
    const [status, body] = await route(request, url, source);
    send(response, status, body);
  } catch (error) {
    if (error instanceof RunnerControlError) {
      const body: ErrorResponse = {
        error: error.message,
        ...(error.field !== undefined && { field: error.field }),
      };
      send(response, error.status, body);
    } else {
      send(response, 500, { error: error instanceof Error ? error.message : String(error) });
    }
  }
}

async function route(
  request: IncomingMessage,
  url: URL,
  { instances, faults }: RunnerControlSource,
): Promise<[number, unknown]> {
  const method = request.method ?? 'GET';
  const path = url.pathname;
  if (path === '/v1/instances') {
    allow(method, path, ['GET']);
    noQuery(url, []);
    return [200, { instances: instances() } satisfies InstancesResponse];
  }
  if (path === FAULTS_PATH) {
    allow(method, path, ['GET', 'POST', 'DELETE']);
    if (method === 'GET') {
      noQuery(url, []);
      return [200, { faults: faults.list() } satisfies ProcessFaultsResponse];
    }
    if (method === 'POST') {
      noQuery(url, []);
      return [201, faults.apply(parseProcessFaultRequest(await readJson(request)))];
    }
    noQuery(url, ['experiment']);
    const experiment = url.searchParams.get('experiment') ?? undefined;
    if (experiment === '') {
      throw new RunnerControlError(400, 'experiment: must name an experiment', 'experiment');
    }
    return [200, { faults: faults.revertAll(experiment) } satisfies ProcessFaultsResponse];
  }
  if (path.startsWith(`${FAULTS_PATH}/`)) {
    allow(method, path, ['DELETE']);
    noQuery(url, []);
    return [200, faults.revert(decodeURIComponent(path.slice(FAULTS_PATH.length + 1)))];
  }
  throw new RunnerControlError(404, `path: no endpoint ${path}`, 'path');
}

function allow(method: string, path: string, allowed: readonly string[]): void {
  if (!allowed.includes(method)) {
    throw new RunnerControlError(
      405,
      `method: ${method} is not allowed on ${path} (only ${allowed.join(', ')})`,
      'method',
    );
  }
}

function noQuery(url: URL, known: readonly string[]): void {
  for (const name of url.searchParams.keys()) {
    if (!known.includes(name)) {
      throw new RunnerControlError(400, `${name}: unknown query parameter`, name);
    }
  }
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      throw new RunnerControlError(413, `body: larger than ${MAX_BODY_BYTES} bytes`, 'body');
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new RunnerControlError(400, 'body: must be JSON', 'body');
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
