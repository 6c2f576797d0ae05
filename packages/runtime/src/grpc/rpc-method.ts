import { status } from '@grpc/grpc-js';

/** The four gRPC call shapes, spelled as the established `grpc_type` metric label spells them. */
export type RpcType = 'unary' | 'client_stream' | 'server_stream' | 'bidi_stream';

/** One gRPC method, named the ways spans, metrics and logs need. */
export interface RpcMethod {
  /** `package.Service/Method`: the span name. */
  readonly name: string;
  /** Fully qualified service, `package.Service`. */
  readonly service: string;
  readonly method: string;
  readonly type: RpcType;
}

/** The part of a grpc-js method definition that says what the method is. */
export interface MethodShape {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

const described = new Map<string, RpcMethod>();

/** Names the method of a path like `/catmesh.inventory.v1.InventoryService/GetStock`. */
export function describeRpc(shape: MethodShape): RpcMethod {
  const known = described.get(shape.path);
  if (known) return known;
  const name = shape.path.replace(/^\//, '');
  const slash = name.lastIndexOf('/');
  const rpc: RpcMethod = {
    name,
    service: slash < 0 ? '' : name.slice(0, slash),
    method: name.slice(slash + 1),
    type: rpcType(shape.requestStream, shape.responseStream),
  };
  described.set(shape.path, rpc);
  return rpc;
}

/** The fully qualified service name of a grpc-js service definition (from its first method). */
export function serviceNameOf(definition: Readonly<Record<string, MethodShape>>): string {
  const first = Object.values(definition)[0];
  if (!first) throw new Error('a gRPC service definition needs at least one method');
  return describeRpc(first).service;
}

function rpcType(requestStream: boolean, responseStream: boolean): RpcType {
  if (requestStream) return responseStream ? 'bidi_stream' : 'client_stream';
  return responseStream ? 'server_stream' : 'unary';
}

// The names gRPC's Go implementation gives status codes, which the established `grpc_code`
// label (go-grpc-prometheus and the dashboards built on it) uses.
const STATUS_NAMES: Readonly<Record<number, string>> = {
  [status.OK]: 'OK',
  [status.CANCELLED]: 'Canceled',
  [status.UNKNOWN]: 'Unknown',
  [status.INVALID_ARGUMENT]: 'InvalidArgument',
  [status.DEADLINE_EXCEEDED]: 'DeadlineExceeded',
  [status.NOT_FOUND]: 'NotFound',
  [status.ALREADY_EXISTS]: 'AlreadyExists',
  [status.PERMISSION_DENIED]: 'PermissionDenied',
  [status.RESOURCE_EXHAUSTED]: 'ResourceExhausted',
  [status.FAILED_PRECONDITION]: 'FailedPrecondition',
  [status.ABORTED]: 'Aborted',
  [status.OUT_OF_RANGE]: 'OutOfRange',
  [status.UNIMPLEMENTED]: 'Unimplemented',
  [status.INTERNAL]: 'Internal',
  [status.UNAVAILABLE]: 'Unavailable',
  [status.DATA_LOSS]: 'DataLoss',
  [status.UNAUTHENTICATED]: 'Unauthenticated',
};

/** `Unavailable` for 14, as the `grpc_code` label spells it. */
export function statusName(code: number): string {
  return STATUS_NAMES[code] ?? `Code(${code})`;
}

// The codes that mean the server failed, rather than the caller asking for something it
// could not have (OpenTelemetry's RPC conventions mark only these as errors on server spans).
const SERVER_FAULTS: ReadonlySet<number> = new Set([
  status.UNKNOWN,
  status.DEADLINE_EXCEEDED,
  status.UNIMPLEMENTED,
  status.INTERNAL,
  status.UNAVAILABLE,
  status.DATA_LOSS,
]);

export function isServerFault(code: number): boolean {
  return SERVER_FAULTS.has(code);
}
