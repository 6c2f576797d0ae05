import { MESH_HOST } from './mesh-instances.js';
import {
  RunnerControlError,
  type ErrorResponse,
  type InstanceRecord,
  type InstancesResponse,
  type ProcessFaultRecord,
  type ProcessFaultRequest,
  type ProcessFaultsResponse,
} from './runner-control-api.js';
import { readRunnerControlFile, type RunnerControlEndpoint } from './runner-control-file.js';
import { liveRunnerPid } from './runner-lock.js';
import type { StateDir } from './state-dir.js';

const REQUEST_TIMEOUT_MS = 10_000;

/** No runner to ask: none runs on the state directory, or its mesh is not ready yet. */
export class NoRunnerError extends Error {
  override readonly name = 'NoRunnerError';
}

/**
 * The control API of the `catmesh up` running on a state directory (runner-control-server.ts):
 * its instances, and the kill and pause faults it applies and reverts. Every refusal is a
 * RunnerControlError with the HTTP status and the field at fault.
 */
export class RunnerControlClient {
  private constructor(
    private readonly state: StateDir,
    private readonly endpoint: RunnerControlEndpoint,
  ) {}

  /**
   * Finds the runner of `state` from `<state>/run/runner-control.json`; throws a NoRunnerError
   * when there is none (or the file was left by a runner that is gone).
   */
  static async connect(state: StateDir): Promise<RunnerControlClient> {
    const [endpoint, runner] = await Promise.all([
      readRunnerControlFile(state),
      liveRunnerPid(state),
    ]);
    if (runner === undefined) throw noRunner(state);
    // No file, or one an earlier runner left: this one serves only once its mesh is ready.
    if (endpoint?.pid !== runner) {
      throw new NoRunnerError(
        `the \`catmesh up\` running on ${state.root} (pid ${runner}) has no ready mesh yet`,
      );
    }
    return new RunnerControlClient(state, endpoint);
  }

  async instances(): Promise<InstanceRecord[]> {
    return [...(await this.#call<InstancesResponse>('GET', '/v1/instances')).instances];
  }

  async applyProcessFault(request: ProcessFaultRequest): Promise<ProcessFaultRecord> {
    return this.#call<ProcessFaultRecord>('POST', '/v1/process-faults', request);
  }

  async listProcessFaults(): Promise<ProcessFaultRecord[]> {
    return [...(await this.#call<ProcessFaultsResponse>('GET', '/v1/process-faults')).faults];
  }

  /** Reverts one fault now (a pause: SIGCONT); a RunnerControlError 404 if it is not in force. */
  async revertProcessFault(id: string): Promise<ProcessFaultRecord> {
    return this.#call<ProcessFaultRecord>('DELETE', `/v1/process-faults/${encodeURIComponent(id)}`);
  }

  /** Reverts the faults of `experiment`, or all of them; resolves with those it reverted. */
  async revertProcessFaults(
    filter: { readonly experiment?: string } = {},
  ): Promise<ProcessFaultRecord[]> {
    const query =
      filter.experiment === undefined
        ? ''
        : `?${new URLSearchParams({ experiment: filter.experiment }).toString()}`;
    const { faults } = await this.#call<ProcessFaultsResponse>(
      'DELETE',
      `/v1/process-faults${query}`,
    );
    return [...faults];
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`http://${MESH_HOST}:${this.endpoint.port}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.endpoint.token}`,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      // Refused: the runner stopped since connect.
      if (isConnectionRefused(error)) throw noRunner(this.state);
      throw error;
    }
    const value = (await response.json()) as T | ErrorResponse;
    if (!response.ok) {
      const { error, field } = value as ErrorResponse;
      throw new RunnerControlError(response.status, error, field);
    }
    return value as T;
  }
}

function noRunner(state: StateDir): NoRunnerError {
  return new NoRunnerError(`no \`catmesh up\` is running on ${state.root}`);
}

function isConnectionRefused(error: unknown): boolean {
  const cause = error instanceof Error ? (error.cause as { code?: string } | undefined) : undefined;
  return cause?.code === 'ECONNREFUSED';
}
