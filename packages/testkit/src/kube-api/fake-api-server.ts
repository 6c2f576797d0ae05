import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { routeOf, type Route } from './http-routes.js';
import { writeKubeconfig } from './kubeconfig.js';
import { ObjectStore, type KubeObject, type ObjectInput } from './object-store.js';
import {
  apiVersionOf,
  BUILT_IN_TYPES,
  typesOfCrd,
  type CustomResourceDefinition,
  type ResourceType,
} from './resource-types.js';
import { ApiError } from './status.js';

export interface FakeApiServerOptions {
  /** Custom resources to serve besides the built-in kinds. */
  readonly crds?: readonly CustomResourceDefinition[];
}

export interface FakeApiServer {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly store: ObjectStore;
  writeKubeconfig(path: string, token: string): Promise<void>;
  close(): Promise<void>;
}

/** A plain-HTTP stand-in for kube-apiserver on a free loopback port. */
export async function startFakeApiServer(
  options: FakeApiServerOptions = {},
): Promise<FakeApiServer> {
  const types = [...BUILT_IN_TYPES, ...(options.crds ?? []).flatMap(typesOfCrd)];
  const store = new ObjectStore();
  const server = createServer((request, response) => {
    handle(request, types, store).then(
      (reply) => send(response, reply.code, reply.body),
      (error: unknown) => {
        const failure =
          error instanceof ApiError ? error : new ApiError('BadRequest', String(error));
        send(response, failure.code, failure.toStatus());
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    store,
    writeKubeconfig: (path, token) => writeKubeconfig(path, url, token),
    close: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

interface Reply {
  readonly code: number;
  readonly body: unknown;
}

async function handle(
  request: IncomingMessage,
  types: readonly ResourceType[],
  store: ObjectStore,
): Promise<Reply> {
  const { pathname } = new URL(request.url ?? '/', 'http://fake');
  const route = routeOf(pathname, types);
  if (route === undefined)
    throw new ApiError('NotFound', `the server could not find the requested resource`);
  const method = request.method ?? 'GET';
  if (route.target === 'collection') {
    if (method === 'GET')
      return {
        code: 200,
        body: listOf(route.type, store.list(route.type, route.namespace), store),
      };
    if (method === 'POST') {
      return {
        code: 201,
        body: store.create(route.type, route.namespace, await jsonBody(request)),
      };
    }
  } else {
    const { type, namespace, name } = route;
    if (method === 'GET') return { code: 200, body: store.get(type, namespace, name) };
    if (method === 'PUT')
      return { code: 200, body: replace(route, store, await jsonBody(request)) };
    if (method === 'DELETE' && route.subresource === undefined) {
      return { code: 200, body: store.delete(type, namespace, name) };
    }
  }
  throw new ApiError('MethodNotAllowed', `${method} is not supported on ${pathname}`);
}

function replace(
  route: Extract<Route, { target: 'object' }>,
  store: ObjectStore,
  input: ObjectInput,
): KubeObject {
  const { type, namespace, name } = route;
  return route.subresource === 'status'
    ? store.replaceStatus(type, namespace, name, input)
    : store.replace(type, namespace, name, input);
}

function listOf(type: ResourceType, items: KubeObject[], store: ObjectStore): unknown {
  return {
    apiVersion: apiVersionOf(type),
    kind: `${type.kind}List`,
    metadata: { resourceVersion: store.resourceVersion },
    items,
  };
}

/** 400 BadRequest for a body that is not a JSON object, as kube-apiserver answers. */
async function jsonBody(request: IncomingMessage): Promise<ObjectInput> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new ApiError(
      'BadRequest',
      `the body of the request was in an unknown format: ${String(error)}`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ApiError('BadRequest', 'the body of the request must be a JSON object');
  }
  return parsed as ObjectInput;
}

function send(response: ServerResponse, code: number, body: unknown): void {
  response.writeHead(code, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
