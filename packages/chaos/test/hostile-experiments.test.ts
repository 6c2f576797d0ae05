// Hostile experiment files, tried by machine. parse-experiment.test.ts shows one hand-picked
// mistake per rule; this searches for the mistakes nobody thought of. Each library experiment
// is broken at a random field (a value of a wrong type or out of its range, an unknown key, a
// required key deleted: only mutations the schema forbids), written as JSON or YAML, and must be
// refused with an ExperimentError naming that field's path. Random documents and random text
// must be refused with an ExperimentError too: never a TypeError or ReferenceError from inside,
// never accepted.
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { propertyRuns, withEdits } from '@catmesh/testkit';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  experimentSchema,
  ExperimentError,
  parseDuration,
  parseExperiment,
  readLibrary,
  validateExperiment,
  type ChaosExperiment,
} from '../src/index.js';

const LIBRARY = fileURLToPath(new URL('../../../k8s/experiments/', import.meta.url));
const library = await readLibrary(LIBRARY);

/** The part of the JSON Schema experiment-schema.ts uses. */
interface SchemaNode {
  readonly type: 'object' | 'array' | 'string' | 'number' | 'integer';
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly additionalProperties?: false | SchemaNode;
  readonly required?: readonly string[];
  readonly minProperties?: number;
  readonly items?: SchemaNode;
  readonly minItems?: number;
  readonly uniqueItems?: boolean;
  readonly enum?: readonly string[];
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly exclusiveMinimum?: number;
  readonly maximum?: number;
}

/** A field of a valid experiment: its path as the parser writes it, its keys, its schema. */
interface Site {
  readonly path: string;
  readonly keys: readonly string[];
  readonly schema: SchemaNode;
}

function child(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

/** `site` and every field below it, walked along its schema. */
function sitesOf(site: Site, value: unknown): Site[] {
  const { schema, path, keys } = site;
  const entries: [string | number, unknown, SchemaNode | undefined][] = Array.isArray(value)
    ? value.map((item, index) => [index, item, schema.items])
    : typeof value === 'object' && value !== null
      ? Object.entries(value).map(([key, item]) => [
          key,
          item,
          schema.properties?.[key] ?? (schema.additionalProperties || undefined),
        ])
      : [];
  return [
    site,
    ...entries.flatMap(([key, item, itemSchema]) => {
      if (itemSchema === undefined) throw new Error(`${child(path, key)} is not in the schema`);
      const at = { path: child(path, key), keys: [...keys, String(key)], schema: itemSchema };
      return sitesOf(at, item);
    }),
  ];
}

function hasType(type: SchemaNode['type'], value: unknown): boolean {
  switch (type) {
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return Number.isInteger(value);
    default:
      return typeof value === type;
  }
}

const finite = { noNaN: true, noDefaultInfinity: true } as const;

/** Values `schema` refuses, whatever the rest of the document says. */
function invalidFor(schema: SchemaNode): fc.Arbitrary<unknown> {
  const wrongType = fc.jsonValue({ maxDepth: 2 }).filter((v) => !hasType(schema.type, v));
  const others: fc.Arbitrary<unknown>[] = [];
  const text = fc.string({ unit: 'grapheme', maxLength: 12 });
  if (schema.enum) {
    const allowed = schema.enum;
    others.push(text.filter((s) => !allowed.includes(s)));
  }
  if (schema.pattern) {
    const pattern = new RegExp(schema.pattern, 'u');
    others.push(text.filter((s) => !pattern.test(s)));
  }
  if (schema.minLength) others.push(fc.constant(''));
  if (schema.maxLength !== undefined) {
    others.push(fc.integer({ min: schema.maxLength + 1, max: 200 }).map((n) => 'a'.repeat(n)));
  }
  if (schema.type === 'integer') others.push(fc.double(finite).filter((n) => !Number.isInteger(n)));
  // The filters keep -0 out where 0 is the bound: -0 is 0 once written.
  const { minimum, exclusiveMinimum, maximum } = schema;
  if (minimum !== undefined) others.push(fc.double(finite).filter((n) => n < minimum));
  if (exclusiveMinimum !== undefined) {
    others.push(fc.double({ ...finite, max: exclusiveMinimum }));
  }
  if (maximum !== undefined) others.push(fc.double(finite).filter((n) => n > maximum));
  if (schema.minItems) others.push(fc.constant([]));
  if (schema.uniqueItems && schema.items?.enum) {
    others.push(fc.constantFrom(...schema.items.enum).map((item) => [item, item]));
  }
  if (schema.minProperties) others.push(fc.constant({}));
  return fc.oneof(wrongType, ...others);
}

/** A change the schema forbids, at the field `keys` lead to (`path` as the parser writes it). */
type Mutation = { readonly path: string; readonly keys: readonly string[] } & (
  | { readonly kind: 'replace'; readonly value: unknown }
  | { readonly kind: 'add'; readonly key: string; readonly value: unknown }
  | { readonly kind: 'delete'; readonly key: string }
);

/** One mutation of `experiment` the schema forbids. */
function mutationOf(experiment: unknown): fc.Arbitrary<Mutation> {
  const root: Site = { path: '', keys: [], schema: experimentSchema };
  const sites = sitesOf(root, experiment);
  const closed = sites.filter((site) => site.schema.properties);
  const withRequired = closed.filter((site) => site.schema.required?.length);
  return fc.oneof(
    fc
      .constantFrom(...sites.filter((site) => site !== root))
      .chain(({ path, keys, schema }) =>
        invalidFor(schema).map((value): Mutation => ({ kind: 'replace', path, keys, value })),
      ),
    fc.constantFrom(...closed).chain(({ path, keys, schema }) =>
      fc
        .tuple(
          fc.string({ unit: 'grapheme', maxLength: 12 }).filter((key) => !schema.properties![key]),
          fc.jsonValue({ maxDepth: 2 }),
        )
        .map(([key, value]): Mutation => ({ kind: 'add', path, keys, key, value })),
    ),
    fc
      .constantFrom(...withRequired)
      .chain(({ path, keys, schema }) =>
        fc
          .constantFrom(...schema.required!)
          .map((key): Mutation => ({ kind: 'delete', path, keys, key })),
      ),
  );
}

/** A deep copy of `experiment` with `mutation` applied. */
function applied(experiment: unknown, mutation: Mutation): unknown {
  const copy = structuredClone(experiment) as Record<string, unknown>;
  const keys = mutation.kind === 'replace' ? mutation.keys.slice(0, -1) : mutation.keys;
  const node = keys.reduce((at, key) => at[key] as Record<string, unknown>, copy);
  // defineProperty: a key like `__proto__` must become a field, not a prototype.
  const define = (key: string, value: unknown) =>
    Object.defineProperty(node, key, { value, enumerable: true, writable: true });
  if (mutation.kind === 'replace') define(mutation.keys.at(-1)!, mutation.value);
  else if (mutation.kind === 'add') define(mutation.key, mutation.value);
  else delete node[mutation.key];
  return copy;
}

/** The field the error must name: the replaced one, the added key or the deleted key. */
function fieldOf(mutation: Mutation): string {
  return mutation.kind === 'replace' ? mutation.path : child(mutation.path, mutation.key);
}

const asText = fc.constantFrom(
  (value: unknown) => JSON.stringify(value),
  (value: unknown) => stringify(value, { aliasDuplicateObjects: false }),
);

/** The ExperimentError `run` throws; fails the property on anything else. */
function refusal(run: () => unknown): ExperimentError {
  try {
    run();
  } catch (error) {
    if (error instanceof ExperimentError) return error;
    throw new Error(`threw ${String(error)} instead of an ExperimentError`, { cause: error });
  }
  throw new Error('the experiment was accepted');
}

function isAtOrBelow(path: string, field: string): boolean {
  return path === field || path.startsWith(`${field}.`) || path.startsWith(`${field}[`);
}

describe('hostile experiment files', () => {
  it.each(library.map((entry) => [entry.file.slice(LIBRARY.length), entry.experiment]))(
    '%s broken at a random field is refused, naming that field',
    (_, experiment) => {
      fc.assert(
        fc.property(mutationOf(experiment), asText, (mutation, write) => {
          const field = fieldOf(mutation);
          const error = refusal(() => parseExperiment(write(applied(experiment, mutation)), 'x'));
          const paths = error.issues.map((issue) => issue.path);
          // The field itself, or (an object replaced by a wrong one) a field of it...
          expect(paths.some((path) => isAtOrBelow(path, field))).toBe(true);
          // ...and nothing elsewhere, but the object that lost a key (minProperties).
          for (const path of paths) {
            expect(isAtOrBelow(path, field) || path === mutation.path).toBe(true);
          }
          expect(error.message).toContain(`x: ${field}`);
        }),
        propertyRuns(50),
      );
    },
  );

  it('refuses random JSON values, written as JSON or YAML, with an ExperimentError', () => {
    fc.assert(
      fc.property(fc.jsonValue(), asText, (value, write) => {
        expect(refusal(() => parseExperiment(write(value), 'x')).issues.length).toBeGreaterThan(0);
      }),
      propertyRuns(300),
    );
  });

  it('refuses random JavaScript values given to validateExperiment with an ExperimentError', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        expect(refusal(() => validateExperiment(value, 'x')).issues.length).toBeGreaterThan(0);
      }),
      propertyRuns(300),
    );
  });

  // Durations as people type them, and as nobody would: signs, no unit, other units, 400 digits.
  const durationText = fc
    .tuple(
      fc.oneof(
        fc.nat(),
        fc.double(),
        fc.bigInt(),
        fc.stringMatching(/^[0-9]{1,400}$/),
        fc.string({ maxLength: 6 }),
      ),
      fc.constantFrom('', 'ms', 's', 'm', 'h', 'd', 'us', ' s', 'S', 'e3s'),
    )
    .map(([n, unit]) => `${n}${unit}`);

  it('reads a step duration as a whole, finite number of milliseconds, or names the field', () => {
    const experiment = library[0]!.experiment;
    fc.assert(
      fc.property(durationText, (text) => {
        const edited = withEdits(experiment, ['spec.steps[0].duration', text]);
        let accepted: ChaosExperiment;
        try {
          accepted = validateExperiment(edited, 'x');
        } catch (error) {
          expect(error).toBeInstanceOf(ExperimentError);
          const { issues } = error as ExperimentError;
          expect(issues.map((issue) => issue.path)).toEqual(['spec.steps[0].duration']);
          expect(issues[0]!.message).toMatch(/500ms, 10s or 2m|longer than 0/);
          return;
        }
        const ms = parseDuration(accepted.spec.steps[0]!.duration);
        expect(Number.isSafeInteger(ms) && ms! > 0).toBe(true);
      }),
      propertyRuns(300),
    );
  });

  // What YAML has beyond JSON: anchors and aliases, tags, directives, block scalars, merge keys.
  const yamlToken = fc.constantFrom(
    ...['a', 'spec', '0', '1.5', '.inf', '~', 'true', '"x"', "'y'", ' ', '  ', '\n', '\n  '],
    ...[':', ': ', '- ', '? ', ',', '{', '}', '[', ']', '#', '|', '>', '---\n', '...\n'],
    ...['&a ', '*a', '*b', '<<: ', '!x ', '!!str ', '!!int ', '!!set ', '!!omap ', '!!binary '],
    ...['!!timestamp ', '!!map ', '%YAML 1.1\n---\n', '%TAG ! tag:x,2000:\n---\n'],
  );

  it('refuses random text, YAML-shaped or not, with an ExperimentError', () => {
    const text = fc.oneof(
      fc.array(yamlToken, { maxLength: 30 }).map((tokens) => tokens.join('')),
      fc.string({ unit: 'binary', maxLength: 60 }),
    );
    fc.assert(
      fc.property(text, (value) => {
        expect(refusal(() => parseExperiment(value, 'x')).issues.length).toBeGreaterThan(0);
      }),
      propertyRuns(500),
    );
  });

  // A set, an ordered map, bytes or a date has no JSON form: the CRD could never hold it.
  const { labels: _, ...metadata } = library[0]!.experiment.metadata;
  const unlabelled = stringify({ ...library[0]!.experiment, metadata });
  it.each([
    ['1.2', 'labels: !!set { a }'],
    ['1.2', 'labels: !!omap [ a: b ]'],
    ['1.2', 'labels: !!binary aGVsbG8='],
    ['1.2', 'labels: !!timestamp 2001-12-14'],
    ['1.1', 'labels: !!set { a }'],
    ['1.1', 'labels: 2001-12-14'],
  ])('refuses a YAML %s value JSON has no word for: %s', (version, labels) => {
    const text = `%YAML ${version}\n---\n${unlabelled.replace(/^metadata:\n/m, `metadata:\n  ${labels}\n`)}`;
    const error = refusal(() => parseExperiment(text, 'x'));
    expect(error.issues.some((issue) => isAtOrBelow(issue.path, 'metadata.labels'))).toBe(true);
  });
});
