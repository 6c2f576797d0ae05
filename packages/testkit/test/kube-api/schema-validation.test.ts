// A custom resource checked as kube-apiserver checks it against its CRD's structural schema:
// unknown fields pruned and answered per fieldValidation, nulls and defaults, then every schema
// problem in one 422 worded as apimachinery words it. The chaos package's test runs the same
// validator over the real ChaosExperiment CRD; testkit cannot import chaos (chaos's tests import
// testkit), so this test has a small CRD of its own that touches every rule.
import { Ajv } from 'ajv';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { KubeObject, WriteContext } from '../../src/kube-api/object-store.js';
import type { CustomResourceDefinition, ResourceType } from '../../src/kube-api/resource-types.js';
import {
  CustomResourceValidator,
  openApiToJsonSchema,
  schemaAdmission,
} from '../../src/kube-api/schema-validation.js';
import { ApiError } from '../../src/kube-api/status.js';

const WIDGET_V1 = {
  type: 'object',
  required: ['spec'],
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' },
    spec: {
      type: 'object',
      required: ['size', 'mode'],
      properties: {
        size: { type: 'integer', minimum: 1, maximum: 10 },
        ratio: { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 1 },
        weight: { type: 'number', maximum: 1000000 },
        mode: { type: 'string', enum: ['fast', 'slow'] },
        duration: { type: 'string', pattern: '^[0-9]+(ms|s|m)$' },
        name: { type: 'string', minLength: 1, maxLength: 5 },
        port: { 'x-kubernetes-int-or-string': true },
        note: { type: 'string', nullable: true },
        replicas: { type: 'integer', default: 1 },
        tags: {
          type: 'array',
          maxItems: 3,
          items: { type: 'string' },
          'x-kubernetes-list-type': 'set',
        },
        targets: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['service'],
          items: {
            type: 'object',
            required: ['service', 'count'],
            properties: {
              service: { type: 'string' },
              count: { type: 'integer', minimum: 1 },
            },
          },
        },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        config: {
          type: 'object',
          'x-kubernetes-preserve-unknown-fields': true,
          properties: {
            level: { type: 'integer' },
            nested: { type: 'object', properties: { known: { type: 'string' } } },
          },
        },
        choice: {
          type: 'object',
          properties: { a: { type: 'string' }, b: { type: 'string' } },
          anyOf: [{ required: ['a'] }, { required: ['b'] }],
        },
      },
    },
  },
};

// v2 renamed size to capacity: each version is checked by its own schema.
const WIDGET_V2 = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['capacity'],
      properties: { capacity: { type: 'string' } },
    },
  },
};

const CRD: CustomResourceDefinition = {
  spec: {
    group: 'example.dev',
    names: { plural: 'widgets', kind: 'Widget' },
    versions: [
      { name: 'v1', served: true, schema: { openAPIV3Schema: WIDGET_V1 } },
      { name: 'v2', served: true, schema: { openAPIV3Schema: WIDGET_V2 } },
      { name: 'v0', served: false },
    ],
  },
};

const validator = new CustomResourceValidator(CRD);

function widget(spec: Record<string, unknown>, rest: Record<string, unknown> = {}) {
  return {
    apiVersion: 'example.dev/v1',
    kind: 'Widget',
    metadata: { name: 'w', namespace: 'default' },
    spec: { size: 3, mode: 'fast', ...spec },
    ...rest,
  };
}

/** The ApiError a write of `object` under Strict is refused with. */
function refusal(object: unknown, version = 'v1'): ApiError {
  try {
    validator.admit(version, object, 'Strict');
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('the object was admitted');
}

/** The causes of a 422, as `field: message` lines. */
function causes(object: unknown): string[] {
  const error = refusal(object);
  expect(error.code).toBe(422);
  return (error.details.causes ?? []).map((cause) => `${cause.field}: ${cause.message}`);
}

function reasons(object: unknown): Record<string, string> {
  const error = refusal(object);
  return Object.fromEntries(
    (error.details.causes ?? []).map((cause) => [cause.field, cause.reason]),
  );
}

describe('openApiToJsonSchema', () => {
  it('turns a boolean exclusive bound into the numeric bound it qualifies', () => {
    expect(
      openApiToJsonSchema({ type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 1 }),
    ).toEqual({ type: 'number', exclusiveMinimum: 0, maximum: 1 });
    expect(openApiToJsonSchema({ type: 'integer', maximum: 9, exclusiveMaximum: false })).toEqual({
      type: 'integer',
      maximum: 9,
    });
  });

  it('reads int-or-string and nullable as types and drops the other x-kubernetes keywords', () => {
    expect(
      openApiToJsonSchema({
        type: 'object',
        'x-kubernetes-preserve-unknown-fields': true,
        properties: {
          port: { 'x-kubernetes-int-or-string': true },
          note: { type: 'string', nullable: true },
          tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
        },
      }),
    ).toEqual({
      type: 'object',
      properties: {
        port: { type: ['integer', 'string'] },
        note: { type: ['string', 'null'] },
        tags: { type: 'array', items: { type: 'string' } },
      },
    });
  });

  it('converts schemas under additionalProperties, items and anyOf too', () => {
    const bounded = { type: 'integer', minimum: 0, exclusiveMinimum: true };
    expect(
      openApiToJsonSchema({
        type: 'object',
        additionalProperties: { type: 'array', items: bounded },
        anyOf: [{ properties: { n: bounded } }],
      }),
    ).toEqual({
      type: 'object',
      additionalProperties: { type: 'array', items: { type: 'integer', exclusiveMinimum: 0 } },
      anyOf: [{ properties: { n: { type: 'integer', exclusiveMinimum: 0 } } }],
    });
  });
});

describe('CustomResourceValidator', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('admits a valid object as it is, with its defaults, and leaves the one sent alone', () => {
    const sent = widget({ ratio: 0.5, duration: '30s', port: 'http', tags: ['a', 'b'] });
    const { object, warnings } = validator.admit('v1', sent, 'Strict');
    expect(object).toEqual({ ...sent, spec: { ...sent.spec, replicas: 1 } });
    expect(sent.spec).not.toHaveProperty('replicas');
    expect(warnings).toEqual([]);
  });

  it('reports a missing required field as Required value, every one at once', () => {
    const object = { ...widget({}), spec: { ratio: 0.5 } };
    const error = refusal(object);
    expect(error.code).toBe(422);
    expect(error.reason).toBe('Invalid');
    expect(error.details).toMatchObject({ name: 'w', group: 'example.dev', kind: 'Widget' });
    expect(error.details.causes).toEqual([
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.size' },
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.mode' },
    ]);
    expect(error.message).toBe(
      'Widget.example.dev "w" is invalid: [spec.size: Required value, spec.mode: Required value]',
    );
    expect(causes({ apiVersion: 'example.dev/v1', kind: 'Widget', metadata: {} })).toEqual([
      'spec: Required value',
    ]);
  });

  it('words a single problem without brackets, as kube-apiserver does', () => {
    expect(refusal(widget({ duration: 'xyz' })).message).toBe(
      'Widget.example.dev "w" is invalid: spec.duration: Invalid value: "xyz": ' +
        "spec.duration in body should match '^[0-9]+(ms|s|m)$'",
    );
  });

  it('refuses a value outside an enum as Unsupported value, listing the supported ones', () => {
    expect(causes(widget({ mode: 'medium' }))).toEqual([
      'spec.mode: Unsupported value: "medium": supported values: "fast", "slow"',
    ]);
    expect(reasons(widget({ mode: 'medium' }))).toEqual({ 'spec.mode': 'FieldValueNotSupported' });
  });

  it('checks minimum and maximum, and an exclusive minimum in its boolean form', () => {
    expect(causes(widget({ size: 0 }))).toEqual([
      'spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1',
    ]);
    expect(causes(widget({ size: 11 }))).toEqual([
      'spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10',
    ]);
    expect(causes(widget({ ratio: 0 }))).toEqual([
      'spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0',
    ]);
    expect(causes(widget({ ratio: 1.5 }))).toEqual([
      'spec.ratio: Invalid value: 1.5: spec.ratio in body should be less than or equal to 1',
    ]);
    expect(() => validator.admit('v1', widget({ ratio: 1e-9 }), 'Strict')).not.toThrow();
    // Go's %v of a float64: the value and the bound both print with an exponent from 1e+06.
    expect(causes(widget({ weight: 2000000.5 }))).toEqual([
      'spec.weight: Invalid value: 2.0000005e+06: spec.weight in body should be less than or equal to 1e+06',
    ]);
    // A whole number is an int64, checked against the bound as one.
    expect(causes(widget({ weight: 2000000 }))).toEqual([
      'spec.weight: Invalid value: 2000000: spec.weight in body should be less than or equal to 1000000',
    ]);
  });

  it('reports a wrong type as FieldValueTypeInvalid naming the type it got', () => {
    expect(causes(widget({ size: 'three' }))).toEqual([
      'spec.size: Invalid value: "string": spec.size in body must be of type integer: "string"',
    ]);
    expect(reasons(widget({ size: 2.5 }))).toEqual({ 'spec.size': 'FieldValueTypeInvalid' });
    expect(causes(widget({ size: 2.5 }))).toEqual([
      'spec.size: Invalid value: "number": spec.size in body must be of type integer: "number"',
    ]);
  });

  it('takes an integer or a string for x-kubernetes-int-or-string, and nothing else', () => {
    for (const port of [8080, 'http']) {
      expect(validator.admit('v1', widget({ port }), 'Strict').object).toMatchObject({
        spec: { port },
      });
    }
    expect(causes(widget({ port: true }))).toEqual([
      'spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"',
    ]);
  });

  it('keeps a null where nullable, drops it elsewhere, and refuses it in a list', () => {
    const { object } = validator.admit('v1', widget({ note: null, duration: null }), 'Strict');
    expect(object).toMatchObject({ spec: { note: null } });
    expect((object as { spec: object }).spec).not.toHaveProperty('duration');
    // A dropped null is an absent field, so a required one is then missing.
    expect(causes(widget({ size: null }))).toEqual(['spec.size: Required value']);
    // A defaulted field's null takes the default.
    expect(validator.admit('v1', widget({ replicas: null }), 'Strict').object).toMatchObject({
      spec: { replicas: 1 },
    });
    expect(causes(widget({ tags: [null] }))).toEqual([
      'spec.tags[0]: Invalid value: "null": spec.tags[0] in body must be of type string: "null"',
    ]);
  });

  it('names the list item a problem is in by its index', () => {
    const object = widget({
      targets: [{ service: 'a', count: 1 }, { service: 'b', count: 0 }, { service: 'c' }],
    });
    expect(causes(object)).toEqual([
      'spec.targets[1].count: Invalid value: 0: spec.targets[1].count in body should be greater than or equal to 1',
      'spec.targets[2].count: Required value',
    ]);
  });

  it('reports a too long string as Too long and a too long list as Too many', () => {
    expect(causes(widget({ name: 'abcdef' }))).toEqual([
      'spec.name: Too long: may not be more than 5 bytes',
    ]);
    expect(reasons(widget({ name: 'abcdef' }))).toEqual({ 'spec.name': 'FieldValueTooLong' });
    expect(causes(widget({ name: '' }))).toEqual([
      'spec.name: Invalid value: "": spec.name in body should be at least 1 chars long',
    ]);
    expect(causes(widget({ tags: ['a', 'b', 'c', 'd'] }))).toEqual([
      'spec.tags: Too many: 4: must have at most 3 items',
    ]);
    expect(reasons(widget({ tags: ['a', 'b', 'c', 'd'] }))).toEqual({
      'spec.tags': 'FieldValueTooMany',
    });
  });

  it('refuses a repeated item of a list-type set and a repeated key of a list-type map', () => {
    expect(causes(widget({ tags: ['a', 'b', 'a'] }))).toEqual([
      'spec.tags[2]: Duplicate value: "a"',
    ]);
    // Only a value's second appearance is reported.
    expect(causes(widget({ tags: ['a', 'a', 'a'] }))).toEqual([
      'spec.tags[1]: Duplicate value: "a"',
    ]);
    const targets = [
      { service: 'x', count: 1 },
      { service: 'x', count: 2 },
    ];
    expect(causes(widget({ targets }))).toEqual([
      'spec.targets[1]: Duplicate value: {"service":"x"}',
    ]);
  });

  it('reports a failed anyOf once, on no field, as kube-openapi does', () => {
    expect(causes(widget({ choice: {} }))).toEqual([
      '<nil>: Invalid value: "": "spec.choice" must validate at least one schema (anyOf)',
    ]);
    expect(() => validator.admit('v1', widget({ choice: { b: 'x' } }), 'Strict')).not.toThrow();
  });

  describe('unknown fields, nested ones included', () => {
    const sent = widget(
      { extra: 1, targets: [{ service: 'a', count: 1, colour: 'red' }] },
      { status: { phase: 'Ready' } },
    );
    const pruned = widget({ replicas: 1, targets: [{ service: 'a', count: 1 }] });
    const problems = [
      'unknown field "spec.extra"',
      'unknown field "spec.targets[0].colour"',
      'unknown field "status"',
    ];

    it('refuses them under Strict with 400 and the strict decoding error', () => {
      const error = refusal(sent);
      expect(error.code).toBe(400);
      expect(error.reason).toBe('BadRequest');
      expect(error.message).toBe(
        `Widget in version "v1" cannot be handled as a Widget: strict decoding error: ${problems.join(', ')}`,
      );
      expect(() => validator.admit('v1', sent, 'Strict', { patch: true })).toThrow(
        new ApiError('BadRequest', `strict decoding error: ${problems.join(', ')}`),
      );
    });

    it('names them in sorted order, wherever they were found', () => {
      const { warnings } = validator.admit(
        'v1',
        { zeta: 1, ...widget({ b: 1, a: 1 }), alpha: 1 },
        'Warn',
      );
      expect(warnings).toEqual([
        'unknown field "alpha"',
        'unknown field "spec.a"',
        'unknown field "spec.b"',
        'unknown field "zeta"',
      ]);
    });

    it('refuses them under Strict before any value is checked', () => {
      expect(refusal(widget({ extra: 1, size: 0 })).code).toBe(400);
    });

    it('prunes them under Warn, with a warning each', () => {
      expect(validator.admit('v1', sent, 'Warn')).toEqual({ object: pruned, warnings: problems });
    });

    it('prunes them silently under Ignore', () => {
      expect(validator.admit('v1', sent, 'Ignore')).toEqual({ object: pruned, warnings: [] });
    });

    it('still checks what is left after pruning, the warnings given all the same', () => {
      const warnings: string[] = [];
      expect(() =>
        validator.admit('v1', widget({ extra: 1, size: 0 }), 'Warn', { warnings }),
      ).toThrow(expect.objectContaining({ code: 422 }));
      expect(warnings).toEqual(['unknown field "spec.extra"']);
    });
  });

  it('leaves apiVersion, kind and metadata to the server', () => {
    const sent = widget({}, { metadata: { name: 'w', labels: { a: 'b' }, anything: 1 } });
    expect(validator.admit('v1', sent, 'Strict')).toEqual({
      object: { ...sent, spec: { ...sent.spec, replicas: 1 } },
      warnings: [],
    });
  });

  it('keeps an x-kubernetes-preserve-unknown-fields subtree, pruning its declared parts', () => {
    const config = { level: 2, anything: { deep: [1, { x: 2 }] }, nested: { known: 'k', odd: 1 } };
    const { object, warnings } = validator.admit('v1', widget({ config }), 'Warn');
    expect(object).toMatchObject({
      spec: { config: { level: 2, anything: { deep: [1, { x: 2 }] }, nested: { known: 'k' } } },
    });
    expect(warnings).toEqual(['unknown field "spec.config.nested.odd"']);
    expect(causes(widget({ config: { level: 'high' } }))).toEqual([
      'spec.config.level: Invalid value: "string": spec.config.level in body must be of type integer: "string"',
    ]);
  });

  it('takes any key of a map, checking its values', () => {
    expect(
      validator.admit('v1', widget({ labels: { team: 'cats' } }), 'Strict').object,
    ).toMatchObject({ spec: { labels: { team: 'cats' } } });
    expect(causes(widget({ labels: { team: 7 } }))).toEqual([
      'spec.labels.team: Invalid value: "integer": spec.labels.team in body must be of type string: "integer"',
    ]);
  });

  it('checks each version against its own schema, and takes a version with none as sent', () => {
    const v2 = { apiVersion: 'example.dev/v2', kind: 'Widget', metadata: { name: 'w' } };
    expect(refusal({ ...v2, spec: { size: 3 } }, 'v2').message).toBe(
      'Widget in version "v2" cannot be handled as a Widget: strict decoding error: unknown field "spec.size"',
    );
    expect(validator.admit('v2', { ...v2, spec: { capacity: 'big' } }, 'Strict').warnings).toEqual(
      [],
    );
    const anything = { ...v2, spec: { whatever: true } };
    expect(validator.admit('v0', anything, 'Strict')).toEqual({ object: anything, warnings: [] });
  });

  it('refuses a version the CRD does not have with a clear error', () => {
    expect(() => validator.admit('v9', widget({}), 'Strict')).toThrow(
      'Widget.example.dev has no version "v9" (it has v1, v2, v0)',
    );
  });

  it('compiles each version once, when it is built', () => {
    const compile = vi.spyOn(Ajv.prototype, 'compile');
    const fresh = new CustomResourceValidator(CRD);
    expect(compile).toHaveBeenCalledTimes(2);
    for (let i = 0; i < 3; i += 1) fresh.admit('v1', widget({}), 'Strict');
    expect(compile).toHaveBeenCalledTimes(2);
  });

  it('names a CRD whose schema does not compile', () => {
    const broken: CustomResourceDefinition = {
      spec: {
        ...CRD.spec,
        versions: [{ name: 'v1', served: true, schema: { openAPIV3Schema: { type: 'nope' } } }],
      },
    };
    expect(() => new CustomResourceValidator(broken)).toThrow(/^Widget\.example\.dev v1: /);
  });
});

describe('schemaAdmission', () => {
  const admit = schemaAdmission([CRD]);
  const type = (kind: string, group: string): ResourceType => ({
    group,
    version: 'v1',
    plural: `${kind.toLowerCase()}s`,
    kind,
    statusSubresource: false,
  });

  it("checks writes of the CRDs' kinds, passing the warnings to the request", () => {
    const context: WriteContext = { fieldValidation: 'Warn', warnings: [] };
    const sent = widget({ extra: 1 }) as unknown as KubeObject;
    expect(admit(type('Widget', 'example.dev'), sent, context)).toEqual(widget({ replicas: 1 }));
    expect(context.warnings).toEqual(['unknown field "spec.extra"']);
    const refused: WriteContext = { fieldValidation: 'Warn', warnings: [] };
    const broken = widget({ size: 0, extra: 2 }) as unknown as KubeObject;
    expect(() => admit(type('Widget', 'example.dev'), broken, refused)).toThrow(
      expect.objectContaining({ code: 422 }),
    );
    expect(refused.warnings).toEqual(['unknown field "spec.extra"']);
  });

  it('passes other kinds as they are', () => {
    const context: WriteContext = { fieldValidation: 'Strict', warnings: [] };
    const configMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c' },
      anything: 1,
    } as unknown as KubeObject;
    expect(admit(type('ConfigMap', ''), configMap, context)).toBe(configMap);
  });
});
