import { NatsError } from 'nats';

/**
 * Idempotent create-or-update of a JetStream resource (stream, consumer): several replicas of a
 * service run this at start, possibly at the same time, so losing the race to create is fine.
 */
export async function createOrUpdate<T>(steps: {
  readonly exists: () => Promise<unknown>;
  readonly create: () => Promise<T>;
  readonly update: () => Promise<T>;
}): Promise<T> {
  if (await found(steps.exists)) return steps.update();
  try {
    return await steps.create();
  } catch (err) {
    // Created by someone else between our look-up and our create: update it instead.
    if (await found(steps.exists)) return steps.update();
    throw err;
  }
}

async function found(lookUp: () => Promise<unknown>): Promise<boolean> {
  try {
    await lookUp();
    return true;
  } catch (err) {
    if (err instanceof NatsError && err.api_error?.code === 404) return false;
    throw err;
  }
}
