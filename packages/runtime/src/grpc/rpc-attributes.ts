// Span attribute names of OpenTelemetry's RPC semantic conventions for gRPC. They live in the
// "incubating" part of @opentelemetry/semantic-conventions, which its authors ask users to copy
// rather than import, because incubating names may change in any release.
export const ATTR_RPC_SYSTEM = 'rpc.system';
export const ATTR_RPC_SERVICE = 'rpc.service';
export const ATTR_RPC_METHOD = 'rpc.method';
export const ATTR_RPC_GRPC_STATUS_CODE = 'rpc.grpc.status_code';
export const RPC_SYSTEM_GRPC = 'grpc';
