// What kube-apiserver does to a custom resource on create, update and patch, against the CRD
// version's structural openAPIV3Schema, in the order it does it:
// 1. prune the fields the schema does not declare ("Field pruning", Extend the Kubernetes API with
//    CustomResourceDefinitions), and answer them as the `fieldValidation` parameter asks (API
//    Concepts, "Field validation"): Strict refuses them with 400 before anything is validated,
//    Warn names each in a Warning header, Ignore drops them silently;
// 2. drop the nulls of fields that are neither nullable nor defaulted, then apply the defaults;
// 3. validate what is left (ajv, over the schema as JSON Schema) and check the uniqueness of
//    `x-kubernetes-list-type: set` and `map` lists, answering every problem at once as a 422
//    Invalid whose causes and message are worded as apimachinery's field.Error and NewInvalid word
//    them, with kube-openapi's "<field> in body ..." details.
// Not done here, as they are not schema work or not worth a fake: metadata (the server's own),
// `format` (kube checks a few formats; none is checked here), CEL rules (x-kubernetes-validations).
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Admission, FieldValidation, KubeObject } from './object-store.js';
import type { CustomResourceDefinition } from './resource-types.js';
import { ApiError, type StatusCause } from './status.js';

export type { FieldValidation };

type Schema = Readonly<Record<string, unknown>>;

const PRESERVE_UNKNOWN = 'x-kubernetes-preserve-unknown-fields';
const EMBEDDED_RESOURCE = 'x-kubernetes-embedded-resource';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function ownSchema(container: unknown, key: string): Schema | undefined {
  if (!isObject(container) || !Object.hasOwn(container, key)) return undefined;
  const value = container[key];
  return isObject(value) ? value : undefined;
}

// ---------------------------------------------------------------------------------------------
// OpenAPI v3.0 (as a CRD holds it) to the JSON Schema ajv reads.

const DROPPED_KEYWORDS = new Set(['nullable', 'example', 'externalDocs', '$schema', 'id']);
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'definitions', 'dependencies']);
const SCHEMA_LISTS = new Set(['allOf', 'anyOf', 'oneOf']);
const SCHEMA_VALUES = new Set(['not', 'additionalProperties', 'additionalItems']);
const EXCLUSIVE_BOUNDS = [
  ['exclusiveMinimum', 'minimum'],
  ['exclusiveMaximum', 'maximum'],
] as const;

function convertIfSchema(value: unknown): unknown {
  return isObject(value) ? openApiToJsonSchema(value) : value;
}

/**
 * A CRD's OpenAPI v3.0 schema node as JSON Schema (draft 7 / 2020-12): a boolean
 * `exclusiveMinimum`/`exclusiveMaximum` becomes the numeric bound it qualifies;
 * `x-kubernetes-int-or-string` becomes `type: [integer, string]` and `nullable: true` adds
 * `null` to the type, as kube-apiserver reads them; every other `x-kubernetes-*` keyword and the
 * annotations ajv does not know (`example`, `externalDocs`) are dropped.
 */
export function openApiToJsonSchema(node: object): Record<string, unknown> {
  const source = node as Schema;
  const out: Record<string, unknown> = {};
  for (const [keyword, value] of Object.entries(source)) {
    if (keyword.startsWith('x-kubernetes-') || DROPPED_KEYWORDS.has(keyword)) continue;
    if (keyword === 'exclusiveMinimum' || keyword === 'exclusiveMaximum') {
      // OpenAPI v3.0's form is a boolean, handled below; a number is already JSON Schema's.
      if (typeof value === 'number') out[keyword] = value;
    } else if (SCHEMA_MAPS.has(keyword) && isObject(value)) {
      out[keyword] = Object.fromEntries(
        Object.entries(value).map(([name, child]) => [name, convertIfSchema(child)]),
      );
    } else if (SCHEMA_LISTS.has(keyword) && Array.isArray(value)) {
      out[keyword] = value.map(convertIfSchema);
    } else if (keyword === 'items') {
      out[keyword] = Array.isArray(value) ? value.map(convertIfSchema) : convertIfSchema(value);
    } else if (SCHEMA_VALUES.has(keyword)) {
      out[keyword] = convertIfSchema(value);
    } else out[keyword] = value;
  }
  for (const [flag, bound] of EXCLUSIVE_BOUNDS) {
    if (source[flag] === true && typeof source[bound] === 'number') {
      out[flag] = source[bound];
      delete out[bound];
    }
  }
  if (source['x-kubernetes-int-or-string'] === true) out['type'] = ['integer', 'string'];
  if (source['nullable'] === true && out['type'] !== undefined) {
    out['type'] = [...typesOf(out['type']), 'null'];
  }
  return out;
}

function typesOf(type: unknown): string[] {
  if (typeof type === 'string') return [type];
  return Array.isArray(type) ? type.filter((t): t is string => typeof t === 'string') : [];
}

// ---------------------------------------------------------------------------------------------
// Go's renderings, so that messages read as kube-apiserver's do.

const GO_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  '\\': '\\\\',
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
};
const NOT_PRINTABLE = /^[\p{C}\p{Z}]$/u;

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, '0');
}

/** fmt's %q (strconv.Quote). */
function goQuote(text: string): string {
  let out = '"';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    const escape = GO_ESCAPES[char];
    if (escape !== undefined) out += escape;
    else if (code < 0x20 || code === 0x7f) out += `\\x${hex(code, 2)}`;
    else if (char !== ' ' && NOT_PRINTABLE.test(char)) {
      out += code > 0xffff ? `\\U${hex(code, 8)}` : `\\u${hex(code, 4)}`;
    } else out += char;
  }
  return `${out}"`;
}

/** fmt's %v of a float64: %g with the shortest digits, so an exponent from 1e+06 up. */
function goFloat(value: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf';
  const [mantissa = '', exponentText = '0'] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  if (value === 0 || (exponent >= -4 && exponent < 6)) return String(value);
  const sign = exponent < 0 ? '-' : '+';
  return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
}

/** fmt's %v of a decoded JSON number: a whole number is an int64, any other a float64. */
function goNumber(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 2 ** 63) return BigInt(value).toString();
  return goFloat(value);
}

/**
 * A schema's bound as kube-openapi prints it: converted to int64 when the value checked is one,
 * else as the float64 the schema holds.
 */
function goBound(bound: number, value: unknown): string {
  return typeof value === 'number' && Number.isInteger(value) && Number.isInteger(bound)
    ? goNumber(bound)
    : goFloat(bound);
}

/** encoding/json's Marshal: keys sorted, HTML characters escaped. */
function goJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(goJson).join(',')}]`;
  if (isObject(value)) {
    const fields = Object.keys(value)
      .sort()
      .map((key) => `${goJsonString(key)}:${goJson(value[key])}`);
    return `{${fields.join(',')}}`;
  }
  if (typeof value === 'string') return goJsonString(value);
  return JSON.stringify(value) ?? 'null';
}

function goJsonString(text: string): string {
  return JSON.stringify(text).replace(
    /[<>&\u2028\u2029]/g,
    (char) => `\\u${hex(char.charCodeAt(0), 4)}`,
  );
}

/** How field.Error prints a bad value. */
function goValue(value: unknown): string {
  if (typeof value === 'string') return goQuote(value);
  if (typeof value === 'number') return goNumber(value);
  if (typeof value === 'boolean') return String(value);
  return goJson(value);
}

// ---------------------------------------------------------------------------------------------
// Field paths as apimachinery's field.Path prints them: `spec.targets[0].count`.

function childPath(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** An ajv instancePath (a JSON pointer) as a field path, reading `root` to tell lists from maps. */
function fieldPathOf(root: unknown, pointer: string): string {
  if (pointer === '') return '';
  let path = '';
  let node = root;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(node)) {
      path += `[${token}]`;
      node = node[Number(token)] as unknown;
    } else {
      path = childPath(path, token);
      node = isObject(node) ? node[token] : undefined;
    }
  }
  return path;
}

// ---------------------------------------------------------------------------------------------
// Pruning, null dropping and defaulting, after apiextensions-apiserver's structural algorithms.
// A schema of `null` is a field with no schema at all (a map of `additionalProperties: true`).

/** The schema of `key` in an object of schema `s`; undefined when the field is unknown. */
function fieldSchema(s: Schema, key: string): Schema | null | undefined {
  const property = ownSchema(s['properties'], key);
  if (property !== undefined) return property;
  const values = s['additionalProperties'];
  if (isObject(values)) return values;
  return values === true ? null : undefined;
}

function itemsSchema(s: Schema | null): Schema | null {
  return s === null ? null : (ownSchema(s, 'items') ?? null);
}

/** apiVersion, kind and metadata are the server's at a resource's root (and an embedded one's). */
function isResourceField(key: string, value: unknown): boolean {
  if (key === 'apiVersion' || key === 'kind') return typeof value === 'string';
  return key === 'metadata' && isObject(value);
}

function prune(
  value: unknown,
  s: Schema | null,
  path: string,
  resource: boolean,
  unknown: string[],
): void {
  if (s !== null && s[PRESERVE_UNKNOWN] === true) {
    keepUnknown(value, s, path, resource, unknown);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => prune(item, itemsSchema(s), `${path}[${i}]`, false, unknown));
  } else if (isObject(value)) {
    const embedded = resource || s?.[EMBEDDED_RESOURCE] === true;
    for (const key of Object.keys(value)) {
      if (s !== null && embedded && isResourceField(key, value[key])) continue;
      const child = s === null ? undefined : fieldSchema(s, key);
      if (child === undefined) {
        unknown.push(childPath(path, key));
        delete value[key];
      } else prune(value[key], child, childPath(path, key), false, unknown);
    }
  }
}

/** Under x-kubernetes-preserve-unknown-fields: unknown fields stay, declared ones are pruned. */
function keepUnknown(
  value: unknown,
  s: Schema,
  path: string,
  resource: boolean,
  unknown: string[],
): void {
  if (Array.isArray(value)) {
    const items = itemsSchema(s);
    if (items === null) return;
    value.forEach((item, i) => keepUnknown(item, items, `${path}[${i}]`, false, unknown));
  } else if (isObject(value)) {
    const embedded = resource || s[EMBEDDED_RESOURCE] === true;
    for (const key of Object.keys(value)) {
      if (embedded && isResourceField(key, value[key])) continue;
      const child = fieldSchema(s, key);
      if (child !== undefined) prune(value[key], child, childPath(path, key), false, unknown);
    }
  }
}

function hasDefault(s: Schema): boolean {
  return s['default'] !== undefined && s['default'] !== null;
}

/** A `null` for a field that is neither nullable nor defaulted is taken as the field's absence. */
function dropNulls(value: unknown, s: Schema | undefined): void {
  if (Array.isArray(value)) {
    const items = s === undefined ? undefined : ownSchema(s, 'items');
    for (const item of value) dropNulls(item, items);
  } else if (isObject(value)) {
    for (const key of Object.keys(value)) {
      const child = (s === undefined ? undefined : fieldSchema(s, key)) ?? undefined;
      if (value[key] === null && child !== undefined && child['nullable'] !== true) {
        if (!hasDefault(child)) delete value[key];
      } else dropNulls(value[key], child);
    }
  }
}

function applyDefaults(value: unknown, s: Schema | undefined): void {
  if (s === undefined) return;
  if (Array.isArray(value)) {
    const items = ownSchema(s, 'items');
    if (items === undefined) return;
    value.forEach((item, i) => {
      if (item === null && hasDefault(items) && items['nullable'] !== true) {
        value[i] = structuredClone(items['default']);
      }
      applyDefaults(value[i], items);
    });
  } else if (isObject(value)) {
    const properties = s['properties'];
    for (const key of isObject(properties) ? Object.keys(properties) : []) {
      const property = ownSchema(properties, key);
      if (property === undefined || !hasDefault(property)) continue;
      if (!Object.hasOwn(value, key) || (value[key] === null && property['nullable'] !== true)) {
        value[key] = structuredClone(property['default']);
      }
    }
    for (const key of Object.keys(value))
      applyDefaults(value[key], fieldSchema(s, key) ?? undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// Problems, as field.Error values.

type ErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueTypeInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueDuplicate';

const LABELS: Readonly<Record<ErrorType, string>> = {
  FieldValueRequired: 'Required value',
  FieldValueInvalid: 'Invalid value',
  FieldValueTypeInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  FieldValueDuplicate: 'Duplicate value',
};

/** Printed without their bad value, as ErrorBody prints them. */
const VALUELESS: ReadonlySet<ErrorType> = new Set(['FieldValueRequired', 'FieldValueTooLong']);

interface FieldError {
  readonly type: ErrorType;
  /** '<nil>' for a problem of the whole object, as a nil field.Path prints. */
  readonly field: string;
  readonly value: unknown;
  readonly detail: string;
}

function errorBody(error: FieldError): string {
  let body = LABELS[error.type];
  if (!VALUELESS.has(error.type)) body += `: ${goValue(error.value)}`;
  return error.detail === '' ? body : `${body}: ${error.detail}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function param(error: ErrorObject, name: string): unknown {
  return (error.params as Record<string, unknown>)[name];
}

const COMPARISONS: Readonly<Record<string, string>> = {
  '>=': 'greater than or equal to',
  '>': 'greater than',
  '<=': 'less than or equal to',
  '<': 'less than',
};

function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function sizeOf(value: unknown): number {
  if (Array.isArray(value)) return value.length;
  return isObject(value) ? Object.keys(value).length : 0;
}

/** One ajv error as kube-apiserver reports the same problem (kube-openapi, then apiextensions). */
function fieldErrorOf(error: ErrorObject, root: unknown): FieldError {
  const name = fieldPathOf(root, error.instancePath);
  const field = name === '' ? '<nil>' : name;
  const data = error.data;
  const inBody = (text: string): string => `${name} in body ${text}`;
  const invalid = (value: unknown, detail: string): FieldError => ({
    type: 'FieldValueInvalid',
    field,
    value,
    detail,
  });
  const limit = Number(param(error, 'limit'));
  switch (error.keyword) {
    case 'required':
      return {
        type: 'FieldValueRequired',
        field: childPath(name, String(param(error, 'missingProperty'))),
        value: '',
        detail: '',
      };
    case 'type': {
      const expected = typesOf(error.parentSchema?.['type']).filter((type) => type !== 'null');
      const actual = jsonTypeOf(data);
      return {
        type: 'FieldValueTypeInvalid',
        field,
        value: actual,
        detail: inBody(`must be of type ${expected.join(',')}: ${goQuote(actual)}`),
      };
    }
    case 'enum': {
      const allowed = param(error, 'allowedValues');
      const values = (Array.isArray(allowed) ? allowed : []).map((value: unknown) =>
        goQuote(typeof value === 'string' ? value : goJson(value)),
      );
      const detail = values.length === 0 ? '' : `supported values: ${values.join(', ')}`;
      return { type: 'FieldValueNotSupported', field, value: data, detail };
    }
    case 'pattern':
      return invalid(data, inBody(`should match '${String(param(error, 'pattern'))}'`));
    case 'minLength':
      return invalid(data, inBody(`should be at least ${limit} chars long`));
    case 'maxLength':
      return {
        type: 'FieldValueTooLong',
        field,
        value: '',
        detail: `may not be more than ${limit} ${limit === 1 ? 'byte' : 'bytes'}`,
      };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const comparison = COMPARISONS[String(param(error, 'comparison'))] ?? error.keyword;
      return invalid(data, inBody(`should be ${comparison} ${goBound(limit, data)}`));
    }
    case 'multipleOf':
      return invalid(
        data,
        inBody(`should be a multiple of ${goBound(Number(param(error, 'multipleOf')), data)}`),
      );
    case 'minItems':
      return invalid(sizeOf(data), inBody(`should have at least ${limit} items`));
    case 'minProperties':
      return invalid(sizeOf(data), inBody(`should have at least ${limit} properties`));
    case 'maxItems':
    case 'maxProperties':
      return {
        type: 'FieldValueTooMany',
        field,
        value: sizeOf(data),
        detail: `must have at most ${plural(limit, 'item')}`,
      };
    case 'uniqueItems':
      return invalid('', inBody("shouldn't contain duplicates"));
    case 'additionalProperties': {
      const key = String(param(error, 'additionalProperty'));
      return invalid(key, `${name}.${key} in body is a forbidden property`);
    }
    // kube-openapi words these without "in body" and apiextensions puts them on no field.
    case 'anyOf':
      return {
        ...invalid('', `${goQuote(name)} must validate at least one schema (anyOf)`),
        field: '<nil>',
      };
    case 'oneOf': {
      const passing = param(error, 'passingSchemas');
      const found = Array.isArray(passing)
        ? `Found ${passing.length} valid alternatives`
        : 'Found none valid';
      return {
        ...invalid('', `${goQuote(name)} must validate one and only one schema (oneOf). ${found}`),
        field: '<nil>',
      };
    }
    case 'not':
      return {
        ...invalid('', `${goQuote(name)} must not validate the schema (not)`),
        field: '<nil>',
      };
    default:
      return invalid(data ?? '', inBody(error.message ?? `fails ${error.keyword}`));
  }
}

/**
 * ajv's errors as field errors. kube-openapi reports a failed anyOf/oneOf as one problem where ajv
 * also reports every branch's, so the branches' errors are left out.
 */
function schemaErrors(validate: ValidateFunction, object: unknown): FieldError[] {
  if (validate(object)) return [];
  const errors = validate.errors ?? [];
  const branches = errors
    .filter((error) => error.keyword === 'anyOf' || error.keyword === 'oneOf')
    .map((error) => `${error.schemaPath}/`);
  return errors
    .filter((error) => !branches.some((prefix) => error.schemaPath.startsWith(prefix)))
    .map((error) => fieldErrorOf(error, object));
}

/** The index of each value's second appearance, as apiextensions' validateListSet finds them. */
function repeats(keys: readonly string[]): number[] {
  const seen = new Map<string, number>();
  const found: number[] = [];
  keys.forEach((key, i) => {
    const times = seen.get(key) ?? 0;
    seen.set(key, times + 1);
    if (times === 1) found.push(i);
  });
  return found;
}

/** The uniqueness of `x-kubernetes-list-type: set` items and `map` keys. */
function listErrors(value: unknown, s: Schema | undefined, path: string): FieldError[] {
  if (s === undefined) return [];
  const errors: FieldError[] = [];
  if (Array.isArray(value)) {
    const listType = s['x-kubernetes-list-type'];
    if (listType === 'set') {
      for (const i of repeats(value.map(goJson))) {
        errors.push({
          type: 'FieldValueDuplicate',
          field: `${path}[${i}]`,
          value: value[i],
          detail: '',
        });
      }
    } else if (listType === 'map') errors.push(...mapListErrors(value, s, path));
    const items = ownSchema(s, 'items');
    value.forEach((item, i) => errors.push(...listErrors(item, items, `${path}[${i}]`)));
  } else if (isObject(value)) {
    for (const key of Object.keys(value)) {
      const property = ownSchema(s['properties'], key);
      const values = ownSchema(s, 'additionalProperties');
      if (property !== undefined)
        errors.push(...listErrors(value[key], property, childPath(path, key)));
      else if (values !== undefined)
        errors.push(...listErrors(value[key], values, `${path}[${key}]`));
    }
  }
  return errors;
}

function mapListErrors(list: unknown[], s: Schema, path: string): FieldError[] {
  const index = list.findIndex((item) => item !== null && !isObject(item));
  if (index >= 0) {
    const detail = 'must be an object for an array of list-type map';
    return [{ type: 'FieldValueInvalid', field: `${path}[${index}]`, value: list[index], detail }];
  }
  const keyFields = typesOf(s['x-kubernetes-list-map-keys']);
  const keys = list.map((item) =>
    Object.fromEntries(
      keyFields
        .filter((key) => isObject(item) && Object.hasOwn(item, key))
        .map((key) => [key, (item as Record<string, unknown>)[key]]),
    ),
  );
  return repeats(keys.map(goJson)).map((i) => ({
    type: 'FieldValueDuplicate',
    field: `${path}[${i}]`,
    value: keys[i],
    detail: '',
  }));
}

// ---------------------------------------------------------------------------------------------
// The validator.

export interface Admitted {
  /** The object as it would be stored: unknown fields pruned, defaults applied. */
  readonly object: unknown;
  /** With `Warn`, one `unknown field "<path>"` per pruned field, as Warning headers carry them. */
  readonly warnings: string[];
}

export interface AdmitOptions {
  /**
   * A patch's strict decoding error is the bare `strict decoding error: ...`; a create's or an
   * update's says which kind could not be handled.
   */
  readonly patch?: boolean;
  /**
   * Where the warnings go as soon as they are known, so that they reach the response even when
   * the write is then refused with a 422, as kube-apiserver's Warning headers do.
   */
  readonly warnings?: string[];
}

interface CompiledVersion {
  readonly schema: Schema;
  readonly validate: ValidateFunction;
}

/** A CRD's versions' schemas, each compiled once, checking objects as kube-apiserver does. */
export class CustomResourceValidator {
  readonly group: string;
  readonly kind: string;
  /** undefined: a version without a schema, whose objects are taken as they are. */
  private readonly versions = new Map<string, CompiledVersion | undefined>();

  constructor(crd: CustomResourceDefinition) {
    this.group = crd.spec.group;
    this.kind = crd.spec.names.kind;
    const ajv = new Ajv({
      allErrors: true,
      verbose: true,
      validateFormats: false,
      allowUnionTypes: true,
      strictSchema: true,
      strictNumbers: true,
      strictTypes: false,
      strictTuples: false,
      strictRequired: false,
    });
    for (const version of crd.spec.versions) {
      const schema = version.schema?.openAPIV3Schema as Schema | undefined;
      if (schema === undefined) {
        this.versions.set(version.name, undefined);
        continue;
      }
      try {
        this.versions.set(version.name, {
          schema,
          validate: ajv.compile(openApiToJsonSchema(schema)),
        });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(`${this.qualifiedKind} ${version.name}: openAPIV3Schema: ${reason}`);
      }
    }
  }

  /** As kube prints a GroupKind: `ChaosExperiment.catmesh.dev`. */
  get qualifiedKind(): string {
    return this.group === '' ? this.kind : `${this.kind}.${this.group}`;
  }

  /**
   * The object to store for a write of `object` in `version`, or the ApiError kube-apiserver
   * answers: BadRequest (400) for unknown fields under Strict, Invalid (422) for schema problems.
   * `object` itself is not changed.
   */
  admit(
    version: string,
    object: unknown,
    fieldValidation: FieldValidation,
    options: AdmitOptions = {},
  ): Admitted {
    if (!this.versions.has(version)) {
      const known = [...this.versions.keys()].join(', ');
      throw new Error(`${this.qualifiedKind} has no version ${goQuote(version)} (it has ${known})`);
    }
    const admitted = structuredClone(object);
    const compiled = this.versions.get(version);
    if (compiled === undefined) return { object: admitted, warnings: [] };

    const unknown: string[] = [];
    prune(admitted, compiled.schema, '', true, unknown);
    const problems = unknown.sort().map((path) => `unknown field ${goQuote(path)}`);
    if (problems.length > 0 && fieldValidation === 'Strict') {
      throw this.strictDecodingError(version, object, problems, options);
    }
    const warnings = fieldValidation === 'Warn' ? problems : [];
    options.warnings?.push(...warnings);
    dropNulls(admitted, compiled.schema);
    applyDefaults(admitted, compiled.schema);

    const errors = [
      ...schemaErrors(compiled.validate, admitted),
      ...listErrors(admitted, compiled.schema, ''),
    ];
    if (errors.length > 0) throw this.invalid(admitted, errors);
    return { object: admitted, warnings };
  }

  // apiserver's transformDecodeError (create, update) or the patcher's bare error (patch).
  private strictDecodingError(
    version: string,
    sent: unknown,
    problems: readonly string[],
    options: AdmitOptions,
  ): ApiError {
    const decoding = `strict decoding error: ${problems.join(', ')}`;
    if (options.patch === true) return new ApiError('BadRequest', decoding);
    const kind = isObject(sent) ? sent['kind'] : undefined;
    if (typeof kind === 'string' && kind !== '') {
      const message = `${kind} in version ${goQuote(version)} cannot be handled as a ${this.kind}: ${decoding}`;
      return new ApiError('BadRequest', message);
    }
    const body = JSON.stringify(sent) ?? '';
    const summary = body.length > 30 ? `${body.slice(0, 30)} ...` : body;
    return new ApiError(
      'BadRequest',
      `the object provided is unrecognized (must be of type ${this.kind}): ${decoding} (${summary})`,
    );
  }

  // apimachinery's NewInvalid over the ErrorList's aggregate.
  private invalid(object: unknown, errors: readonly FieldError[]): ApiError {
    const metadata = isObject(object) ? object['metadata'] : undefined;
    const name = isObject(metadata) && typeof metadata['name'] === 'string' ? metadata['name'] : '';
    const causes: StatusCause[] = errors.map((error) => ({
      reason: error.type,
      message: errorBody(error),
      field: error.field,
    }));
    const lines = [...new Set(errors.map((error) => `${error.field}: ${errorBody(error)}`))];
    const aggregate = lines.length === 1 ? (lines[0] ?? '') : `[${lines.join(', ')}]`;
    return new ApiError(
      'Invalid',
      `${this.qualifiedKind} ${goQuote(name)} is invalid: ${aggregate}`,
      {
        name,
        group: this.group,
        kind: this.kind,
        causes,
      },
    );
  }
}

/**
 * An Admission for the fake API server checking every write of these CRDs' kinds against their
 * schemas (other kinds pass as they are); warnings go to the request's Warning headers.
 */
export function schemaAdmission(crds: readonly CustomResourceDefinition[]): Admission {
  const validators = new Map(
    crds.map((crd) => {
      const validator = new CustomResourceValidator(crd);
      return [validator.qualifiedKind, validator] as const;
    }),
  );
  return (type, object, context) => {
    const validator = validators.get(type.group === '' ? type.kind : `${type.kind}.${type.group}`);
    if (validator === undefined) return object;
    const admitted = validator.admit(type.version, object, context.fieldValidation, {
      warnings: context.warnings,
    });
    return admitted.object as KubeObject;
  };
}
