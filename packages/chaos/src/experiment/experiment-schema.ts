// The JSON Schema of a ChaosExperiment: the one source of the format. Local runs validate files
// against it before anything is touched; the CRD's openAPIV3Schema is generated from it (experiment-crd.ts), so
// it keeps to what a structural Kubernetes schema allows (a type on every node, no $ref, no
// if/then). Rules that span fields (a latency fault needs a delay, kill needs the process
// mechanism) are checked in parse-experiment.ts, with the same kind of field paths.
import { DURATION_PATTERN } from './duration.js';
import { EXPERIMENT_API_VERSION, EXPERIMENT_KIND, MECHANISMS } from './experiment-types.js';

const duration = { type: 'string', pattern: DURATION_PATTERN } as const;
const ratio = { type: 'number', exclusiveMinimum: 0, maximum: 1 } as const;
const rate = { type: 'number', exclusiveMinimum: 0, maximum: 1000 } as const;
const consistency = { type: 'string', enum: ['linearizable', 'lease', 'stale'] } as const;
const name = { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 } as const;
const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;

const selector = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    service: name,
    instances: { type: 'array', items: name, minItems: 1 },
    role: { type: 'string', enum: ['leader', 'follower'] },
    count: { type: 'integer', minimum: 1 },
    percent: { type: 'integer', minimum: 1, maximum: 100 },
  },
} as const;

const fault = {
  type: 'object',
  additionalProperties: false,
  required: ['kind'],
  properties: {
    kind: {
      type: 'string',
      enum: ['latency', 'loss', 'reject', 'partition', 'bandwidth', 'pause', 'kill'],
    },
    delay: duration,
    jitter: duration,
    distribution: { type: 'string', enum: ['uniform', 'normal', 'pareto'] },
    probability: ratio,
    bytesPerSecond: { type: 'integer', minimum: 1 },
    pauseFor: duration,
    every: duration,
    restartAfter: duration,
  },
} as const;

const step = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'mechanism', 'fault', 'target', 'duration'],
  properties: {
    name,
    mechanism: { type: 'string', enum: [...MECHANISMS] },
    fault,
    target: selector,
    peers: selector,
    direction: { type: 'string', enum: ['both', 'inbound', 'outbound'] },
    partition: { type: 'string', enum: ['both', 'one-way'] },
    transports: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { type: 'string', enum: ['grpc', 'nats', 'raft'] },
    },
    startAfter: duration,
    duration,
  },
} as const;

const probe = {
  type: 'object',
  additionalProperties: false,
  required: ['sli'],
  minProperties: 2,
  properties: {
    sli: {
      type: 'string',
      pattern: '^(orders|catState|stock|register)\\.(successRatio|p50Ms|p99Ms)$',
    },
    atLeast: { type: 'number', minimum: 0 },
    atMost: { type: 'number', minimum: 0 },
  },
} as const;

const workload = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    orders: {
      type: 'object',
      additionalProperties: false,
      required: ['ratePerSecond'],
      properties: {
        ratePerSecond: rate,
        sku: { type: 'string', minLength: 1 },
        quantity: { type: 'integer', minimum: 1, maximum: 100 },
        deadline: duration,
      },
    },
    catState: {
      type: 'object',
      additionalProperties: false,
      required: ['ratePerSecond'],
      properties: { ratePerSecond: rate, consistency, deadline: duration },
    },
    stock: {
      type: 'object',
      additionalProperties: false,
      required: ['ratePerSecond'],
      properties: {
        ratePerSecond: rate,
        sku: { type: 'string', minLength: 1 },
        deadline: duration,
      },
    },
    register: {
      type: 'object',
      additionalProperties: false,
      required: ['ratePerSecond'],
      properties: {
        ratePerSecond: rate,
        clients: { type: 'integer', minimum: 1, maximum: 64 },
        consistency,
        deadline: duration,
      },
    },
  },
} as const;

export const experimentSchema = {
  $id: 'https://catmesh.dev/schemas/chaos-experiment-v1alpha1.json',
  title: 'ChaosExperiment',
  description:
    'A catmesh chaos experiment: faults, their targets and the steady state judging them.',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { type: 'string', enum: [EXPERIMENT_API_VERSION] },
    kind: { type: 'string', enum: [EXPERIMENT_KIND] },
    metadata: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: { name, namespace: name, labels: stringMap, annotations: stringMap },
    },
    spec: {
      type: 'object',
      additionalProperties: false,
      required: ['description', 'workload', 'steadyState', 'steps'],
      properties: {
        description: { type: 'string', minLength: 1 },
        lesson: { type: 'string', minLength: 1 },
        seed: { type: 'integer', minimum: 0 },
        workload,
        steadyState: {
          type: 'object',
          additionalProperties: false,
          required: ['before', 'after', 'hypothesis'],
          properties: {
            before: duration,
            after: duration,
            settle: duration,
            hypothesis: { type: 'array', items: probe },
          },
        },
        steps: { type: 'array', minItems: 1, items: step },
      },
    },
  },
} as const;
