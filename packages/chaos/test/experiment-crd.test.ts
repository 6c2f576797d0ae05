// The ChaosExperiment CRD: generated from the experiment schema, structural as the API server
// requires, and taking every experiment of the library as it is while refusing what the local
// parser refuses. The chart's copy is checked for drift in `make lint`; the rendered CRD is
// checked against the Kubernetes schema in test/chart/chart-render.test.ts. testkit's
// CustomResourceValidator then takes the CRD as kube-apiserver would: the library is admitted as
// it is, and a broken experiment is refused with a 422 naming the field.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  ApiError,
  CustomResourceValidator,
  openApiToJsonSchema,
  type CustomResourceDefinition,
} from '@catmesh/testkit';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  EXPERIMENT_API_VERSION,
  experimentCrd,
  experimentCrdYaml,
  experimentOpenApiSchema,
  readLibrary,
  validateExperiment,
  ExperimentError,
  type ChaosExperiment,
} from '../src/index.js';

const LIBRARY = fileURLToPath(new URL('../../../k8s/experiments/', import.meta.url));
const CHART_CRD = fileURLToPath(
  new URL('../../../helm/catmesh/crds/chaosexperiments.catmesh.dev.yaml', import.meta.url),
);
const library = await readLibrary(LIBRARY);

type Node = Record<string, unknown>;

/**
 * Every rule of "Specifying a structural schema" (Kubernetes docs, CustomResourceDefinitions)
 * that a node can break, with its path; the spec's JSON Schema keywords are not all allowed.
 */
function structuralProblems(node: Node, path: string, underMetadata = false): string[] {
  const problems: string[] = [];
  if (typeof node['type'] !== 'string' && node['x-kubernetes-preserve-unknown-fields'] !== true) {
    problems.push(`${path}: no type`);
  }
  for (const forbidden of [
    '$ref',
    '$id',
    '$schema',
    'const',
    'if',
    'then',
    'else',
    'uniqueItems',
  ]) {
    if (forbidden in node) problems.push(`${path}: ${forbidden}`);
  }
  if ('properties' in node && 'additionalProperties' in node) {
    problems.push(`${path}: properties and additionalProperties together`);
  }
  for (const bound of ['exclusiveMinimum', 'exclusiveMaximum']) {
    if (bound in node && typeof node[bound] !== 'boolean') problems.push(`${path}: ${bound}`);
  }
  if (underMetadata && Object.keys(node).some((key) => key !== 'type')) {
    problems.push(`${path}: metadata may only be typed`);
  }
  const properties = (node['properties'] ?? {}) as Record<string, Node>;
  for (const [name, child] of Object.entries(properties)) {
    problems.push(
      ...structuralProblems(child, `${path}.${name}`, path === '' && name === 'metadata'),
    );
  }
  if (node['items']) problems.push(...structuralProblems(node['items'] as Node, `${path}[]`));
  if (typeof node['additionalProperties'] === 'object') {
    problems.push(...structuralProblems(node['additionalProperties'] as Node, `${path}.*`));
  }
  return problems;
}

const validate = new Ajv({ allErrors: true, validateFormats: false }).compile(
  openApiToJsonSchema(experimentOpenApiSchema()),
);

/** The errors of `object` under the CRD's schema, as instance paths and messages. */
function crdErrors(object: unknown): string[] {
  return validate(object)
    ? []
    : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message ?? ''}`);
}

describe('the ChaosExperiment CRD', () => {
  it('is what the chart ships (make crd writes it, make lint checks it)', () => {
    expect(readFileSync(CHART_CRD, 'utf8')).toBe(experimentCrdYaml());
    expect(parse(readFileSync(CHART_CRD, 'utf8'))).toEqual(experimentCrd());
  });

  it('has a structural schema, as the API server requires of every CRD', () => {
    expect(structuralProblems(experimentOpenApiSchema(), '')).toEqual([]);
  });

  it('catches a schema that is not structural', () => {
    expect(
      structuralProblems(
        {
          type: 'object',
          properties: {
            metadata: { type: 'object', properties: { name: { type: 'string' } } },
            spec: {
              type: 'object',
              properties: { rate: { type: 'number', exclusiveMinimum: 0 } },
              additionalProperties: false,
            },
            tags: { type: 'array', uniqueItems: true, items: { enum: ['a'] } },
          },
        },
        '',
      ),
    ).toEqual([
      '.metadata: metadata may only be typed',
      '.spec: properties and additionalProperties together',
      '.spec.rate: exclusiveMinimum',
      '.tags: uniqueItems',
      '.tags[]: no type',
    ]);
  });

  it.each(library.map((entry) => [entry.file.split('/').pop()!, entry.experiment] as const))(
    'takes %s as it is',
    (_file, experiment) => {
      expect(crdErrors(experiment)).toEqual([]);
    },
  );

  it('prints phase, targets, fault, verdict and age in kubectl get', () => {
    const [version] = (experimentCrd()['spec'] as { versions: Node[] }).versions;
    const columns = (version!['additionalPrinterColumns'] as { name: string; jsonPath: string }[])
      .map((column) => column.name)
      .join(' ');
    expect(columns).toBe('Phase Targets Fault Verdict Age');
    expect(version!['subresources']).toEqual({ status: {} });
  });
});

describe('the ChaosExperiment CRD in an API server (testkit CustomResourceValidator)', () => {
  const validator = new CustomResourceValidator(
    experimentCrd() as unknown as CustomResourceDefinition,
  );
  const [, version = ''] = EXPERIMENT_API_VERSION.split('/');
  const experiment = library[0]!.experiment;

  /** The ApiError kube-apiserver would answer a `kubectl apply` (Strict) of `object` with. */
  function refusal(object: unknown): ApiError {
    try {
      validator.admit(version, object, 'Strict');
    } catch (error) {
      if (error instanceof ApiError) return error;
      throw error;
    }
    throw new Error('the experiment was admitted');
  }

  it.each(library.map((entry) => [entry.file.split('/').pop()!, entry.experiment] as const))(
    'admits %s as it is, nothing pruned',
    (_file, object) => {
      expect(validator.admit(version, object, 'Strict')).toEqual({ object, warnings: [] });
    },
  );

  it('refuses what the local parser refuses, with a 422 naming the same field', () => {
    const broken: [string, string, ChaosExperiment][] = [
      ['spec.steps[0].duration', 'FieldValueInvalid', withStep(experiment, { duration: '5' })],
      [
        'spec.steps[0].mechanism',
        'FieldValueNotSupported',
        withStep(experiment, { mechanism: 'telepathy' }),
      ],
      [
        'spec.steps[0].fault.probability',
        'FieldValueInvalid',
        withStep(experiment, { fault: { kind: 'loss', probability: 0 } }),
      ],
      [
        'spec.steps[0].transports[1]',
        'FieldValueDuplicate',
        withStep(experiment, { transports: ['grpc', 'grpc'] }),
      ],
      ['spec.steps[0].fault', 'FieldValueRequired', withStep(experiment, { fault: undefined })],
    ];
    for (const [field, reason, object] of broken) {
      const error = refusal(object);
      expect(error.code).toBe(422);
      expect(error.details).toMatchObject({
        name: experiment.metadata.name,
        group: 'catmesh.dev',
        kind: 'ChaosExperiment',
      });
      expect(error.details.causes?.map((cause) => [cause.field, cause.reason])).toEqual([
        [field, reason],
      ]);
      expect(() => validateExperiment(object, 'test')).toThrow(ExperimentError);
    }
  });

  it('words a refusal as kube-apiserver does', () => {
    const error = refusal(withStep(experiment, { duration: '5', mechanism: 'telepathy' }));
    expect(error.message).toMatch(
      new RegExp(
        `^ChaosExperiment\\.catmesh\\.dev "${experiment.metadata.name}" is invalid: \\[` +
          `spec\\.steps\\[0\\]\\.mechanism: Unsupported value: "telepathy": supported values: "app", "process", "networkpolicy", "netfilter", ` +
          `spec\\.steps\\[0\\]\\.duration: Invalid value: "5": spec\\.steps\\[0\\]\\.duration in body should match '.+'\\]$`,
      ),
    );
  });

  it('refuses an unknown field under Strict, as kubectl apply sends it, and prunes it under Warn', () => {
    const object = withStep(experiment, { colour: 'red' });
    const error = refusal(object);
    expect(error.code).toBe(400);
    expect(error.message).toBe(
      `ChaosExperiment in version "${version}" cannot be handled as a ChaosExperiment: ` +
        'strict decoding error: unknown field "spec.steps[0].colour"',
    );
    expect(validator.admit(version, object, 'Warn')).toEqual({
      object: experiment,
      warnings: ['unknown field "spec.steps[0].colour"'],
    });
  });
});

function withStep(experiment: ChaosExperiment, change: Record<string, unknown>): ChaosExperiment {
  const [first, ...rest] = experiment.spec.steps;
  return {
    ...experiment,
    spec: { ...experiment.spec, steps: [{ ...first!, ...change }, ...rest] },
  };
}
