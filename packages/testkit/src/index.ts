// Test helpers shared by every catmesh package and service: real dependencies, not mocks.
export { freePort } from './free-port.js';
export { startNatsServer } from './nats-server.js';
export type { NatsServer, NatsServerOptions } from './nats-server.js';
export { MissingPrerequisiteError, requires } from './prerequisites.js';
export type { PrerequisiteOptions } from './prerequisites.js';
export { installTestTracing } from './test-tracing.js';
export type { TestTracing } from './test-tracing.js';
export { startOtlpReceiver } from './otlp-receiver.js';
export type { OtlpReceiver, ReceivedSpan } from './otlp-receiver.js';
export { CHROMIUM_PATH, chromiumProblem, launchChromium } from './chromium.js';
export { withEdits } from './json-edits.js';
export type { JsonEdit } from './json-edits.js';
export { propertyRuns } from './property-runs.js';
export { callWithBytes, requestBytes, undeliberate } from './hostile-grpc.js';
export type { GrpcMethod } from './hostile-grpc.js';
export { startFakeApiServer } from './kube-api/fake-api-server.js';
export type {
  FakeApiServer,
  FakeApiServerOptions,
  ServiceAccountMount,
} from './kube-api/fake-api-server.js';
export { serviceAccountUser } from './kube-api/access-control.js';
export type { Denial } from './kube-api/access-control.js';
export {
  Authorizer,
  describeRequest,
  grantedPermissions,
  permissionOf,
  sortedPermissions,
  verbOf,
} from './kube-api/rbac.js';
export type {
  Permission,
  PolicyRule,
  RbacObjects,
  RequestAttributes,
  UserInfo,
  Verb,
} from './kube-api/rbac.js';
export { ObjectStore } from './kube-api/object-store.js';
export type {
  Admission,
  FieldValidation,
  KubeObject,
  ObjectInput,
  ObjectMeta,
  OwnerReference,
  WatchEvent,
  WriteContext,
} from './kube-api/object-store.js';
export { BUILT_IN_TYPES, builtInType, builtInTypeOf } from './kube-api/resource-types.js';
export { JSON_PATCH, MERGE_PATCH } from './kube-api/patches.js';
export type {
  CustomResourceDefinition,
  PrinterColumn,
  ResourceType,
} from './kube-api/resource-types.js';
export { ApiError } from './kube-api/status.js';
export type { StatusCause, StatusDetails, StatusReason } from './kube-api/status.js';
export {
  CustomResourceValidator,
  openApiToJsonSchema,
  schemaAdmission,
} from './kube-api/schema-validation.js';
export type { AdmitOptions, Admitted } from './kube-api/schema-validation.js';
