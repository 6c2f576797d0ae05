// The ChaosExperiment CRD: generated from the experiment schema, structural as the API server
// requires, and taking every experiment of the library as it is while refusing what the local
// parser refuses. The chart's copy is checked for drift in `make lint`; the rendered CRD is
// checked against the Kubernetes schema in test/chart/chart-render.test.ts.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
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

/** OpenAPI v3.0 → the JSON Schema ajv reads: a boolean exclusive bound qualifies the bound. */
function asJsonSchema(node: Node): Node {
  const out: Node = {};
  for (const [keyword, value] of Object.entries(node)) {
    if (keyword.startsWith('x-kubernetes-')) continue;
    if (keyword === 'exclusiveMinimum' || keyword === 'exclusiveMaximum') continue;
    if (keyword === 'properties') {
      out[keyword] = Object.fromEntries(
        Object.entries(value as Record<string, Node>).map(([k, v]) => [k, asJsonSchema(v)]),
      );
    } else if (keyword === 'items' || (keyword === 'additionalProperties' && value !== false)) {
      out[keyword] = asJsonSchema(value as Node);
    } else out[keyword] = value;
  }
  if (node['exclusiveMinimum'] === true) {
    out['exclusiveMinimum'] = node['minimum'];
    delete out['minimum'];
  }
  if (node['exclusiveMaximum'] === true) {
    out['exclusiveMaximum'] = node['maximum'];
    delete out['maximum'];
  }
  return out;
}

const validate = new Ajv({ allErrors: true, validateFormats: false }).compile(
  asJsonSchema(experimentOpenApiSchema()),
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

  it('refuses what the local parser refuses, at the same field', () => {
    const experiment = library[0]!.experiment;
    const broken: Record<string, ChaosExperiment> = {
      '/spec/steps/0/duration': withStep(experiment, { duration: '5' }),
      '/spec/steps/0/mechanism': withStep(experiment, { mechanism: 'telepathy' }),
      '/spec/steps/0/fault/probability': withStep(experiment, {
        fault: { kind: 'loss', probability: 0 },
      }),
    };
    for (const [path, object] of Object.entries(broken)) {
      expect(crdErrors(object).join('\n')).toContain(path);
      expect(() => validateExperiment(object, 'test')).toThrow(ExperimentError);
    }
  });

  it('prints phase, targets, fault, verdict and age in kubectl get', () => {
    const [version] = (experimentCrd()['spec'] as { versions: Node[] }).versions;
    const columns = (version!['additionalPrinterColumns'] as { name: string; jsonPath: string }[])
      .map((column) => column.name)
      .join(' ');
    expect(columns).toBe('Phase Targets Fault Verdict Age');
    expect(version!['subresources']).toEqual({ status: {} });
  });
});

function withStep(experiment: ChaosExperiment, change: Record<string, unknown>): ChaosExperiment {
  const [first, ...rest] = experiment.spec.steps;
  return {
    ...experiment,
    spec: { ...experiment.spec, steps: [{ ...first!, ...change }, ...rest] },
  };
}
