// The ChaosExperiment CustomResourceDefinition, generated from experiment-schema.ts so that the
// file `catmesh chaos run` takes and the object a cluster takes are checked by one schema. The
// chart ships the result in helm/catmesh/crds/; `make lint` fails when it has drifted.
//
// A CRD's schema is OpenAPI v3.0 and must be structural
// (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#specifying-a-structural-schema),
// which differs from the JSON Schema the local parser uses in a few ways this module translates:
// - `additionalProperties` may not sit beside `properties`: the API server prunes unknown fields
//   instead, and kubectl's strict field validation (its default) refuses them by name;
// - `exclusiveMinimum` is a boolean qualifying `minimum`, not a number;
// - `uniqueItems` is forbidden: a list of unique scalars is `x-kubernetes-list-type: set`;
// - `metadata` may say nothing but `type: object` (the server validates it itself).
// Any other keyword is refused here, so the schema cannot grow something a cluster would reject.
import { stringify } from 'yaml';
import { experimentSchema } from './experiment-schema.js';
import { experimentStatusSchema } from './experiment-status.js';
import { EXPERIMENT_API_VERSION, EXPERIMENT_KIND } from './experiment-types.js';

export const EXPERIMENT_GROUP = 'catmesh.dev';
export const EXPERIMENT_PLURAL = 'chaosexperiments';
export const [, EXPERIMENT_VERSION] = EXPERIMENT_API_VERSION.split('/') as [string, string];

type SchemaNode = Readonly<Record<string, unknown>>;

/** Keywords that mean the same in JSON Schema and in a structural OpenAPI v3.0 schema. */
const SHARED_KEYWORDS = new Set([
  'type',
  'description',
  'title',
  'format',
  'enum',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'required',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
]);

/** One JSON Schema node as a structural schema node; `path` names it in errors. */
function structural(node: SchemaNode, path: string): SchemaNode {
  if (typeof node['type'] !== 'string')
    throw new Error(`${path}: a structural schema needs a type`);
  const out: Record<string, unknown> = {};
  for (const [keyword, value] of Object.entries(node)) {
    if (SHARED_KEYWORDS.has(keyword)) out[keyword] = value;
    else if (keyword === 'properties') {
      out['properties'] = Object.fromEntries(
        Object.entries(value as Record<string, SchemaNode>).map(([name, child]) => [
          name,
          structural(child, `${path}.${name}`),
        ]),
      );
    } else if (keyword === 'items') out['items'] = structural(value as SchemaNode, `${path}[]`);
    else if (keyword === 'additionalProperties') {
      // `false` beside `properties` is what pruning and strict field validation do already.
      if (value === false && node['properties'] !== undefined) continue;
      if (typeof value !== 'object' || node['properties'] !== undefined) {
        throw new Error(`${path}: additionalProperties ${JSON.stringify(value)} has no CRD form`);
      }
      out['additionalProperties'] = structural(value as SchemaNode, `${path}.*`);
    } else if (keyword === 'exclusiveMinimum' || keyword === 'exclusiveMaximum') {
      const bound = keyword === 'exclusiveMinimum' ? 'minimum' : 'maximum';
      if (node[bound] !== undefined) throw new Error(`${path}: both ${keyword} and ${bound}`);
      out[bound] = value;
      out[keyword] = true;
    } else if (keyword === 'uniqueItems') {
      if (value === true) out['x-kubernetes-list-type'] = 'set';
    } else throw new Error(`${path}: ${keyword} has no place in a structural schema`);
  }
  return out;
}

/** The CRD's openAPIV3Schema: the experiment's spec as local files have it, and its status. */
export function experimentOpenApiSchema(): SchemaNode {
  const { properties } = experimentSchema;
  return {
    type: 'object',
    description: experimentSchema.description,
    required: ['spec'],
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
      spec: structural(properties.spec, 'spec'),
      status: structural(experimentStatusSchema, 'status'),
    },
  };
}

/** The CustomResourceDefinition object, as `kubectl apply` and helm's crds/ take it. */
export function experimentCrd(): SchemaNode {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${EXPERIMENT_PLURAL}.${EXPERIMENT_GROUP}` },
    spec: {
      group: EXPERIMENT_GROUP,
      scope: 'Namespaced',
      names: {
        plural: EXPERIMENT_PLURAL,
        singular: 'chaosexperiment',
        kind: EXPERIMENT_KIND,
        listKind: `${EXPERIMENT_KIND}List`,
        shortNames: ['chaos', 'cx'],
        categories: ['catmesh'],
      },
      versions: [
        {
          name: EXPERIMENT_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          // What `kubectl get chaosexperiments` prints: how far along, on what, doing what, and
          // what it found.
          additionalPrinterColumns: [
            { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
            { name: 'Targets', type: 'string', jsonPath: '.status.targetSummary' },
            { name: 'Fault', type: 'string', jsonPath: '.status.fault' },
            { name: 'Verdict', type: 'string', jsonPath: '.status.verdict' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: { openAPIV3Schema: experimentOpenApiSchema() },
        },
      ],
    },
  };
}

/** The CRD as the chart's file holds it: a header saying where it comes from, then YAML. */
export function experimentCrdYaml(): string {
  const header =
    '# Generated from packages/chaos/src/experiment/experiment-schema.ts by `make crd`; do not\n' +
    '# edit. `make lint` fails when this file and the schema disagree.\n';
  return header + stringify(experimentCrd(), { lineWidth: 0 });
}
