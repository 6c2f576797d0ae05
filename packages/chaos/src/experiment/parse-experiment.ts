// From a file's text to a ChaosExperiment that is safe to plan: YAML or JSON (YAML's superset),
// the JSON Schema, then the rules that span fields. Every problem is reported with the path of
// the field (`spec.steps[0].fault.kind`), all of them at once, and nothing is returned unless
// there are none: a bad file can never be half-applied.
import { Ajv, type ErrorObject } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { parseDuration } from './duration.js';
import { experimentSchema } from './experiment-schema.js';
import type { ChaosExperiment, FaultKind, Mechanism, StepSpec } from './experiment-types.js';

export interface ExperimentIssue {
  /** `spec.steps[0].fault.kind`; empty for the document as a whole. */
  readonly path: string;
  readonly message: string;
}

export class ExperimentError extends Error {
  override readonly name = 'ExperimentError';

  constructor(
    /** The file (or `-`) the experiment came from. */
    readonly source: string,
    readonly issues: readonly ExperimentIssue[],
  ) {
    super(
      issues
        .map((issue) => `${source}: ${issue.path ? `${issue.path}: ` : ''}${issue.message}`)
        .join('\n'),
    );
  }
}

const validateSchema = new Ajv({ allErrors: true, strict: true }).compile<ChaosExperiment>(
  experimentSchema,
);

/** The fault kinds each mechanism can inject. */
export const MECHANISM_KINDS: Readonly<Record<Mechanism, readonly FaultKind[]>> = {
  app: ['latency', 'loss', 'reject', 'partition', 'bandwidth', 'pause'],
  process: ['kill', 'pause'],
  networkpolicy: ['partition'],
  netfilter: ['partition'],
};

/** The fault fields each kind takes; any other is an error, not silently ignored. */
const KIND_FIELDS: Readonly<Record<FaultKind, { required: string[]; optional: string[] }>> = {
  latency: { required: ['delay'], optional: ['jitter', 'distribution'] },
  loss: { required: ['probability'], optional: [] },
  reject: { required: [], optional: ['probability'] },
  partition: { required: [], optional: [] },
  bandwidth: { required: ['bytesPerSecond'], optional: [] },
  pause: { required: [], optional: ['pauseFor', 'every'] },
  kill: { required: [], optional: ['restartAfter'] },
};

/** Parses and validates one experiment; throws ExperimentError listing every problem. */
export function parseExperiment(text: string, source: string): ChaosExperiment {
  // JSON's data model, as the CRD's: the core schema whatever `%YAML` says, and no YAML 1.1
  // tags (!!set, !!binary, !!timestamp...) whose values JSON cannot hold.
  const documents = parseAllDocuments(text, { schema: 'core', resolveKnownTags: false });
  if (!Array.isArray(documents) || documents.length !== 1) {
    const count = Array.isArray(documents) ? documents.length : 0;
    throw new ExperimentError(source, [
      { path: '', message: `expected one YAML or JSON document, found ${count}` },
    ]);
  }
  const document = documents[0]!;
  if (document.errors.length > 0) {
    throw new ExperimentError(
      source,
      document.errors.map((error) => ({ path: '', message: `not YAML: ${error.message}` })),
    );
  }
  let value: unknown;
  try {
    value = document.toJS();
  } catch (error) {
    // An alias to no anchor, or aliases that would expand without end, show only here.
    throw new ExperimentError(source, [
      { path: '', message: `not YAML: ${error instanceof Error ? error.message : String(error)}` },
    ]);
  }
  return validateExperiment(value, source);
}

/** Validates an experiment already parsed (a Kubernetes object, a test's literal). */
export function validateExperiment(value: unknown, source: string): ChaosExperiment {
  if (!validateSchema(value)) {
    throw new ExperimentError(source, schemaIssues(validateSchema.errors ?? []));
  }
  const issues = crossFieldIssues(value);
  if (issues.length > 0) throw new ExperimentError(source, issues);
  return value;
}

function schemaIssues(errors: readonly ErrorObject[]): ExperimentIssue[] {
  const issues = errors.map((error): ExperimentIssue => {
    const path = jsonPointerToPath(error.instancePath);
    switch (error.keyword) {
      case 'additionalProperties': {
        const field = (error.params as { additionalProperty: string }).additionalProperty;
        return { path: join(path, field), message: 'unknown field' };
      }
      case 'required': {
        const field = (error.params as { missingProperty: string }).missingProperty;
        return { path: join(path, field), message: 'required' };
      }
      case 'enum': {
        const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
        return {
          path,
          message: `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`,
        };
      }
      case 'pattern':
        return {
          path,
          message: (error.params as { pattern: string }).pattern.includes('ms|s|m|h')
            ? 'must be a duration like 500ms, 10s or 2m (no sign, a unit always)'
            : `must match ${(error.params as { pattern: string }).pattern}`,
        };
      default:
        return { path, message: error.message ?? error.keyword };
    }
  });
  // allErrors can report one problem twice (e.g. through two keywords); say each once.
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function crossFieldIssues(experiment: ChaosExperiment): ExperimentIssue[] {
  const issues: ExperimentIssue[] = [];
  const { spec } = experiment;
  const names = new Set<string>();
  spec.steps.forEach((step, index) => {
    const at = `spec.steps[${index}]`;
    if (names.has(step.name))
      issues.push({ path: `${at}.name`, message: 'used by an earlier step' });
    names.add(step.name);
    issues.push(...stepIssues(step, at));
  });
  spec.steadyState.hypothesis.forEach((probe, index) => {
    const at = `spec.steadyState.hypothesis[${index}]`;
    const [operation, sli] = probe.sli.split('.') as [keyof typeof spec.workload, string];
    if (spec.workload[operation] === undefined) {
      issues.push({
        path: `${at}.sli`,
        message: `spec.workload.${operation} is not part of the workload`,
      });
    }
    if (probe.atLeast !== undefined && probe.atMost !== undefined && probe.atLeast > probe.atMost) {
      issues.push({ path: `${at}.atLeast`, message: 'is above atMost: no value could pass' });
    }
    if (sli === 'successRatio') {
      for (const bound of ['atLeast', 'atMost'] as const) {
        const value = probe[bound];
        if (value !== undefined && value > 1) {
          issues.push({ path: `${at}.${bound}`, message: 'a success ratio is at most 1' });
        }
      }
    }
  });
  return issues;
}

function stepIssues(step: StepSpec, at: string): ExperimentIssue[] {
  const issues: ExperimentIssue[] = [];
  const { kind } = step.fault;
  if (!MECHANISM_KINDS[step.mechanism].includes(kind)) {
    const fit = (Object.keys(MECHANISM_KINDS) as Mechanism[]).filter((m) =>
      MECHANISM_KINDS[m].includes(kind),
    );
    issues.push({
      path: `${at}.fault.kind`,
      message: `the ${step.mechanism} mechanism cannot inject ${kind} (${fit.join(' or ')} can)`,
    });
  }
  const fields = KIND_FIELDS[kind];
  const given = Object.keys(step.fault).filter((field) => field !== 'kind');
  for (const field of fields.required) {
    if (!given.includes(field)) {
      issues.push({ path: `${at}.fault.${field}`, message: `required for a ${kind} fault` });
    }
  }
  for (const field of given) {
    if (!fields.required.includes(field) && !fields.optional.includes(field)) {
      issues.push({ path: `${at}.fault.${field}`, message: `not a field of a ${kind} fault` });
    }
  }
  if (parseDuration(step.duration) === 0) {
    issues.push({ path: `${at}.duration`, message: 'must be longer than 0' });
  }
  const network = !['pause', 'kill'].includes(kind);
  if (!network && step.peers !== undefined) {
    issues.push({ path: `${at}.peers`, message: `a ${kind} fault acts on the target alone` });
  }
  if (kind !== 'partition' && step.partition !== undefined) {
    issues.push({ path: `${at}.partition`, message: 'only a partition has this' });
  }
  if ((!network || kind === 'partition') && step.direction !== undefined) {
    issues.push({
      path: `${at}.direction`,
      message:
        kind === 'partition'
          ? 'a partition says `partition: both | one-way`'
          : `a ${kind} fault has no direction`,
    });
  }
  if (step.transports !== undefined && (!network || step.mechanism !== 'app')) {
    issues.push({
      path: `${at}.transports`,
      message:
        network && step.mechanism !== 'app'
          ? `the ${step.mechanism} mechanism cuts every connection, whatever the transport`
          : `a ${kind} fault does not act on transports`,
    });
  }
  for (const [side, selector] of [
    ['target', step.target],
    ['peers', step.peers],
  ] as const) {
    if (selector === undefined) continue;
    if (selector.count !== undefined && selector.percent !== undefined) {
      issues.push({ path: `${at}.${side}.percent`, message: 'give count or percent, not both' });
    }
    if (selector.role !== undefined && selector.service !== 'cat-feeder') {
      issues.push({ path: `${at}.${side}.role`, message: 'a role needs `service: cat-feeder`' });
    }
  }
  return issues;
}

/** `/spec/steps/0/fault` → `spec.steps[0].fault`. */
function jsonPointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : join(path, part)), '');
}

function join(path: string, field: string): string {
  return path ? `${path}.${field}` : field;
}
