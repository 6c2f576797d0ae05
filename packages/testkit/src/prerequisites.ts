/**
 * The options of a suite (or test) that needs something this machine may lack: root, network
 * namespaces, a binary. Without it the suite is skipped and carries the reason to the run's skip
 * summary (`meta.skipReason`); under CI=true a missing prerequisite is an error, so that a CI
 * machine set up wrongly cannot pass by skipping.
 */
export interface PrerequisiteOptions {
  readonly skip: boolean;
  readonly meta: { readonly skipReason?: string };
}

export class MissingPrerequisiteError extends Error {
  override readonly name = 'MissingPrerequisiteError';
}

/** `problem`: why the suite cannot run here, or undefined when it can. */
export function requires(
  problem: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): PrerequisiteOptions {
  if (problem === undefined) return { skip: false, meta: {} };
  if (env['CI'] === 'true') {
    throw new MissingPrerequisiteError(
      `CI=true, so this suite must run, but a prerequisite is missing: ${problem}`,
    );
  }
  return { skip: true, meta: { skipReason: problem } };
}
