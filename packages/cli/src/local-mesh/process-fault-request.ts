import { FaultValidationError, validateFault } from '@catmesh/faults';
import {
  PROCESS_FAULT_KINDS,
  RunnerControlError,
  type ProcessFaultKind,
  type ProcessFaultRequest,
} from './runner-control-api.js';

const FIELDS = ['id', 'kind', 'instance', 'durationMs', 'experiment', 'restartAfterMs'];
/** Ids travel in URLs (`DELETE /v1/process-faults/:id`): nothing there needs escaping. */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** A timer cannot wait longer than 2^31 - 1 ms; no fault of a local mesh needs more than a day. */
export const MAX_FAULT_DURATION_MS = 24 * 60 * 60 * 1000;

/**
 * Checks the body of `POST /v1/process-faults`, or throws a 400 RunnerControlError naming the
 * first bad field. The fault itself (durationMs, restartAfterMs) is checked by the fault
 * model's own validateFault, so that the runner accepts what every other mechanism does.
 */
export function parseProcessFaultRequest(body: unknown): ProcessFaultRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid('body', `must be a JSON object, got ${show(body)}`);
  }
  const input = body as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!FIELDS.includes(key)) throw invalid(key, `unknown field (known: ${FIELDS.join(', ')})`);
  }
  const { id, kind, instance, durationMs, experiment, restartAfterMs } = input;
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw invalid('id', `must be 1 to 128 letters, digits or . _ : - (not first), got ${show(id)}`);
  }
  if (!(PROCESS_FAULT_KINDS as readonly unknown[]).includes(kind)) {
    throw invalid('kind', `must be one of ${PROCESS_FAULT_KINDS.join(', ')}, got ${show(kind)}`);
  }
  if (typeof instance !== 'string' || instance === '') {
    throw invalid('instance', `must be an instance name, got ${show(instance)}`);
  }
  if (experiment !== undefined && (typeof experiment !== 'string' || experiment === '')) {
    throw invalid('experiment', `must be a non-empty string when given, got ${show(experiment)}`);
  }
  try {
    validateFault({
      kind,
      durationMs,
      targets: [instance],
      ...(restartAfterMs !== undefined && { restartAfterMs }),
    });
  } catch (error) {
    if (error instanceof FaultValidationError) throw invalid(error.field, error.problem);
    throw error;
  }
  if ((durationMs as number) > MAX_FAULT_DURATION_MS) {
    throw invalid('durationMs', `must be at most ${MAX_FAULT_DURATION_MS} (a day)`);
  }
  return {
    id,
    kind: kind as ProcessFaultKind,
    instance,
    durationMs: durationMs as number,
    ...(experiment !== undefined && { experiment }),
    ...(restartAfterMs !== undefined && { restartAfterMs: restartAfterMs as number }),
  };
}

function invalid(field: string, problem: string): RunnerControlError {
  return new RunnerControlError(400, `${field}: ${problem}`, field);
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? typeof value;
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
