import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { isIPv6, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessControl, rbacAdmission, type Denial } from './access-control.js';
import { discoveryDocument } from './discovery.js';
import { routeOf, type Route } from './http-routes.js';
import { writeKubeconfig } from './kubeconfig.js';
import { openApiDocument } from './openapi.js';
import type { Permission, UserInfo } from './rbac.js';
import {
  ObjectStore,
  type Admission,
  type FieldValidation,
  type KubeObject,
  type ObjectInput,
  type WriteContext,
} from './object-store.js';
import {
  apiVersionOf,
  BUILT_IN_TYPES,
  typesOfCrd,
  type CustomResourceDefinition,
  type ResourceType,
} from './resource-types.js';
import { schemaAdmission } from './schema-validation.js';
import { selectorOf } from './selectors.js';
import { ApiError } from './status.js';
import { tableOf, wantsTable } from './tables.js';
import { servingCertificate } from './tls.js';

export interface FakeApiServerOptions {
  /** Custom resources to serve besides the built-in kinds. */
  readonly crds?: readonly CustomResourceDefinition[];
  /**
   * Checks and prunes each client write; the default validates custom resources against their
   * CRD's schema (422 Invalid, unknown fields by fieldValidation) and admits built-ins as sent.
   */
  readonly admission?: Admission;
  /** How often a watch that asked for bookmarks gets one; kube-apiserver sends about one a minute. */
  readonly bookmarkIntervalMs?: number;
  /**
   * Bearer tokens and the users they stand for. With it, a request needs a known token (else
   * 401), a user in system:masters may do anything, and everyone else only what the Roles,
   * ClusterRoles and bindings stored in the fake allow (else 403). Without it every request is
   * allowed, whatever its token.
   */
  readonly users?: Readonly<Record<string, UserInfo>>;
  /**
   * The local address to listen on, 127.0.0.1 by default: another one (a bridge's) lets
   * processes in other network namespaces reach the fake. The certificate names it.
   */
  readonly host?: string;
  /** The port to listen on; a free one by default. */
  readonly port?: number;
}

/** What the kubelet gives a pod's containers to reach the API as their service account. */
export interface ServiceAccountMount {
  /** The pathPrefix for client-node's `KubeConfig.loadFromCluster`: `directory` lies under it. */
  readonly root: string;
  /** `<root>/var/run/secrets/kubernetes.io/serviceaccount`, holding token, ca.crt and namespace. */
  readonly directory: string;
  /** The variables the kubelet sets for the `kubernetes` Service, pointing at this server. */
  readonly env: {
    readonly KUBERNETES_SERVICE_HOST: string;
    readonly KUBERNETES_SERVICE_PORT: string;
  };
}

export interface FakeApiServer {
  /** https://HOST:PORT */
  readonly url: string;
  /** The PEM certificate the server presents, which is its own CA. */
  readonly ca: string;
  readonly store: ObjectStore;
  /** Writes a kubeconfig for `token` (for kubectl and client-node) and returns its path. */
  kubeconfig(token: string): Promise<string>;
  /** Writes a service account's in-cluster credentials for `token`, as the kubelet mounts them. */
  mountServiceAccount(token: string, namespace: string): Promise<ServiceAccountMount>;
  /**
   * The distinct permissions `user` (a username) exercised, allowed or denied, in
   * `sortedPermissions` order: what its Role should grant, no more. Empty without `users`.
   */
  permissionsUsed(user: string): Permission[];
  /** The requests of `user` answered 403, oldest first. */
  denials(user: string): Denial[];
  /** Ends every open watch, as an API server restart or a load balancer would. */
  dropWatches(): void;
  /**
   * Drops every watch and answers every request with 503 until `resume` is called: the API
   * server down, while the test changes `store` behind the clients' backs.
   */
  interrupt(): { resume(): void };
  /** Stops the server and removes every file it wrote. */
  close(): Promise<void>;
}

// Where the kubelet mounts a service account's token (Service Accounts, "Manual secret management
// for ServiceAccounts"; client-node's loadFromCluster reads the same paths).
const SERVICE_ACCOUNT_DIRECTORY = 'var/run/secrets/kubernetes.io/serviceaccount';

interface Reply {
  readonly code: number;
  readonly body: unknown;
  readonly warnings?: readonly string[];
}

/** An HTTPS stand-in for kube-apiserver on a free port. */
export async function startFakeApiServer(
  options: FakeApiServerOptions = {},
): Promise<FakeApiServer> {
  const types = [...BUILT_IN_TYPES, ...(options.crds ?? []).flatMap(typesOfCrd)];
  const store = new ObjectStore(
    rbacAdmission(options.admission ?? schemaAdmission(options.crds ?? [])),
  );
  const access = options.users === undefined ? undefined : new AccessControl(options.users, store);
  const watches = new Set<ServerResponse>();
  const bookmarkIntervalMs = options.bookmarkIntervalMs ?? 60_000;
  const host = options.host ?? '127.0.0.1';
  const certificate = await servingCertificate(host);
  let interrupted = false;
  const server = createServer(certificate, (request, response) => {
    const fail = (error: unknown): void => {
      const failure = error instanceof ApiError ? error : new ApiError('BadRequest', String(error));
      send(response, { code: failure.code, body: failure.toStatus() });
    };
    try {
      if (interrupted)
        throw new ApiError('ServiceUnavailable', 'the fake API server is interrupted');
      const url = new URL(request.url ?? '/', 'http://fake');
      access?.check(request.method ?? 'GET', request.headers.authorization, url);
      const route = routeOf(url.pathname, types);
      if (route?.target === 'collection' && isWatch(request, url)) {
        watch(response, route, url.searchParams, wantsTable(request.headers.accept), {
          store,
          bookmarkIntervalMs,
          watches,
        });
        return;
      }
      handle(request, url, route, types, store).then((reply) => send(response, reply), fail);
    } catch (error) {
      fail(error);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const port = String((server.address() as AddressInfo).port);
  const url = `https://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  const dropWatches = (): void => {
    for (const response of watches) response.end();
  };
  // Made on first use, so a server no test asks for files of leaves nothing behind.
  let files: Promise<string> | undefined;
  let written = 0;
  const newPath = async (name: string): Promise<string> => {
    files ??= mkdtemp(join(tmpdir(), 'fake-kube-'));
    written += 1;
    return join(await files, `${name}-${written}`);
  };
  return {
    url,
    ca: certificate.cert,
    store,
    kubeconfig: async (token) => {
      const path = await newPath('kubeconfig');
      await writeKubeconfig(path, url, certificate.cert, token);
      return path;
    },
    mountServiceAccount: async (token, namespace) => {
      const root = await newPath('pod');
      const directory = join(root, SERVICE_ACCOUNT_DIRECTORY);
      await mkdir(directory, { recursive: true });
      await writeFile(join(directory, 'token'), token);
      await writeFile(join(directory, 'ca.crt'), certificate.cert);
      await writeFile(join(directory, 'namespace'), namespace);
      return {
        root,
        directory,
        env: { KUBERNETES_SERVICE_HOST: host, KUBERNETES_SERVICE_PORT: port },
      };
    },
    permissionsUsed: (user) => access?.permissionsUsed(user) ?? [],
    denials: (user) => access?.denials(user) ?? [],
    dropWatches,
    interrupt: () => {
      interrupted = true;
      dropWatches();
      return { resume: () => (interrupted = false) };
    },
    close: async () => {
      await new Promise<void>((resolve, reject) => {
        dropWatches();
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      });
      if (files !== undefined) await rm(await files, { recursive: true, force: true });
    },
  };
}

function isWatch(request: IncomingMessage, url: URL): boolean {
  const watch = url.searchParams.get('watch');
  return request.method === 'GET' && (watch === 'true' || watch === '1');
}

async function handle(
  request: IncomingMessage,
  url: URL,
  route: Route | undefined,
  types: readonly ResourceType[],
  store: ObjectStore,
): Promise<Reply> {
  const method = request.method ?? 'GET';
  if (route === undefined) {
    const document =
      method === 'GET'
        ? (discoveryDocument(url.pathname, types) ?? openApiDocument(url.pathname, types))
        : undefined;
    if (document !== undefined) return { code: 200, body: document };
    throw new ApiError('NotFound', 'the server could not find the requested resource');
  }
  const query = url.searchParams;
  const context: WriteContext = { fieldValidation: fieldValidationOf(query), warnings: [] };
  const reply = (code: number, body: unknown): Reply => ({
    code,
    body,
    warnings: context.warnings,
  });
  if (route.target === 'collection') {
    if (method === 'GET') {
      const selector = selectorOf(
        query.get('labelSelector'),
        query.get('fieldSelector'),
        route.type,
      );
      const items = store.list(route.type, route.namespace, selector);
      return reply(200, asRequested(request, route.type, items, store.resourceVersion));
    }
    if (method === 'POST') {
      if (route.namespace === undefined) {
        throw new ApiError('MethodNotAllowed', `POST needs a namespace: ${url.pathname}`);
      }
      const input = await objectBody(request);
      return reply(201, store.create(route.type, route.namespace, input, context));
    }
  } else {
    const { type, namespace, name, subresource } = route;
    if (method === 'GET') {
      return reply(200, asRequested(request, type, [store.get(type, namespace, name)]));
    }
    if (method === 'PUT') {
      const input = await objectBody(request);
      checkName(input, name);
      return reply(
        200,
        subresource === 'status'
          ? store.replaceStatus(type, namespace, name, input, context)
          : store.replace(type, namespace, name, input, context),
      );
    }
    if (method === 'PATCH') {
      const patch = await jsonBody(request);
      const contentType = request.headers['content-type'] ?? '';
      return reply(
        200,
        store.patch(type, namespace, name, subresource, contentType, patch, context),
      );
    }
    if (method === 'DELETE' && subresource === undefined) {
      return reply(200, store.delete(type, namespace, name));
    }
  }
  throw new ApiError('MethodNotAllowed', `${method} is not supported on ${url.pathname}`);
}

/**
 * GET of one object answers it alone; a list answers a List, or a Table when kubectl asks for one.
 * `resourceVersion` undefined marks the single-object form.
 */
function asRequested(
  request: IncomingMessage,
  type: ResourceType,
  items: KubeObject[],
  resourceVersion?: string,
): unknown {
  const table = wantsTable(request.headers.accept);
  if (resourceVersion === undefined) {
    const [object] = items;
    return table ? tableOf(type, items, object?.metadata.resourceVersion ?? '') : object;
  }
  if (table) return tableOf(type, items, resourceVersion);
  return {
    apiVersion: apiVersionOf(type),
    kind: `${type.kind}List`,
    metadata: { resourceVersion },
    items,
  };
}

// API Concepts: "Field validation" — Strict refuses unknown fields, Warn (the default) and Ignore
// drop them. https://kubernetes.io/docs/reference/using-api/api-concepts/#field-validation
function fieldValidationOf(query: URLSearchParams): FieldValidation {
  const value = query.get('fieldValidation') ?? 'Warn';
  if (value === 'Strict' || value === 'Warn' || value === 'Ignore') return value;
  throw new ApiError(
    'BadRequest',
    `fieldValidation parameter unsupported: ${value}: must be one of Ignore, Warn, or Strict`,
  );
}

/** A PUT's body names the object of its URL, or the request is refused. */
function checkName(input: ObjectInput, name: string): void {
  const sent = input.metadata?.name;
  if (sent !== undefined && sent !== name) {
    throw new ApiError(
      'BadRequest',
      `the name of the object (${JSON.stringify(sent)}) does not match the name on the URL (${name})`,
    );
  }
}

/**
 * A watch: events as newline-delimited JSON until the client goes, the timeout passes, or the
 * server drops it. A compacted start answers 200 with one ERROR event, as kube-apiserver does.
 */
interface WatchServing {
  readonly store: ObjectStore;
  readonly bookmarkIntervalMs: number;
  /** The open watches, for dropWatches. */
  readonly watches: Set<ServerResponse>;
}

/**
 * A watch; asked for Tables (`kubectl get --watch`), each event's object is a one-row Table,
 * as kube-apiserver sends it (API Concepts: "Receiving resources as Tables").
 */
function watch(
  response: ServerResponse,
  route: Extract<Route, { target: 'collection' }>,
  query: URLSearchParams,
  table: boolean,
  { store, bookmarkIntervalMs, watches }: WatchServing,
): void {
  const selector = selectorOf(query.get('labelSelector'), query.get('fieldSelector'), route.type);
  const timeoutSeconds = Number(query.get('timeoutSeconds') ?? '1800');
  if (!Number.isSafeInteger(timeoutSeconds) || timeoutSeconds < 0) {
    throw new ApiError('BadRequest', `invalid timeoutSeconds "${query.get('timeoutSeconds')}"`);
  }
  const pending: string[] = [];
  let started = false;
  const write = (event: unknown): void => {
    const line = `${JSON.stringify(event)}\n`;
    // An ended watch may still see a change or a bookmark before its 'close' unsubscribes it.
    if (response.writableEnded) return;
    if (started) response.write(line);
    else pending.push(line);
  };
  // API Concepts: "Streaming lists": the current objects as ADDED events, then a bookmark
  // annotated k8s.io/initial-events-end, then the changes. kubectl's wait (delete, rollout) asks
  // for this. https://kubernetes.io/docs/reference/using-api/api-concepts/#streaming-lists
  const streamingList = query.get('sendInitialEvents') === 'true';
  if (streamingList) {
    if (query.get('allowWatchBookmarks') !== 'true') {
      throw new ApiError('Invalid', 'sendInitialEvents requires allowWatchBookmarks=true');
    }
    if (query.get('resourceVersionMatch') !== 'NotOlderThan') {
      throw new ApiError(
        'Invalid',
        'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan',
      );
    }
  }
  const bookmark = (annotations?: Record<string, string>): unknown => ({
    type: 'BOOKMARK',
    object: {
      apiVersion: apiVersionOf(route.type),
      kind: route.type.kind,
      metadata: { resourceVersion: store.resourceVersion, ...(annotations && { annotations }) },
    },
  });
  let stop = (): void => undefined;
  try {
    stop = store.watch({
      type: route.type,
      namespace: route.namespace,
      // The initial events are the state now, which is never older than any version asked for.
      resourceVersion: streamingList ? undefined : (query.get('resourceVersion') ?? undefined),
      selector,
      onEvent: (event) =>
        write(
          table
            ? {
                type: event.type,
                object: tableOf(route.type, [event.object], event.object.metadata.resourceVersion),
              }
            : event,
        ),
    });
    if (streamingList) write(bookmark({ 'k8s.io/initial-events-end': 'true' }));
  } catch (error) {
    if (!(error instanceof ApiError) || error.reason !== 'Expired') throw error;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(`${JSON.stringify({ type: 'ERROR', object: error.toStatus() })}\n`);
    return;
  }
  response.writeHead(200, { 'content-type': 'application/json' });
  // A client waits for the headers before it counts the watch as open.
  response.flushHeaders();
  started = true;
  for (const line of pending) response.write(line);
  watches.add(response);
  const bookmarks =
    query.get('allowWatchBookmarks') === 'true'
      ? setInterval(() => write(bookmark()), bookmarkIntervalMs)
      : undefined;
  const timeout = setTimeout(() => response.end(), timeoutSeconds * 1000);
  response.on('close', () => {
    stop();
    clearInterval(bookmarks);
    clearTimeout(timeout);
    watches.delete(response);
  });
}

async function jsonBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new ApiError(
      'BadRequest',
      `the body of the request was in an unknown format: ${String(error)}`,
    );
  }
}

/** 400 BadRequest for a body that is not a JSON object, as kube-apiserver answers. */
async function objectBody(request: IncomingMessage): Promise<ObjectInput> {
  const parsed = await jsonBody(request);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ApiError('BadRequest', 'the body of the request must be a JSON object');
  }
  return parsed as ObjectInput;
}

function send(response: ServerResponse, reply: Reply): void {
  const headers: Record<string, string | string[]> = { 'content-type': 'application/json' };
  // Warnings travel as RFC 7234 Warning headers with code 299, which kubectl prints.
  if (reply.warnings !== undefined && reply.warnings.length > 0) {
    headers['warning'] = reply.warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  }
  response.writeHead(reply.code, headers);
  response.end(JSON.stringify(reply.body));
}
