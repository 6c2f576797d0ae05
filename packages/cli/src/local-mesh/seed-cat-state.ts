import { ReplicaEndpoints } from '../catfeeder/replica-endpoints.js';
import { oneWriteRequestId } from '../catfeeder/request-id.js';

const SEED_TIMEOUT_MS = 10_000;

/**
 * The cat of a new mesh starts hungry: `cat.state = hungry` if the key does not exist yet (a
 * compare-and-swap on its absence, so a mesh restarted on its old state keeps what it had).
 * Resolves with the value the key has afterwards.
 */
export async function seedCatState(
  addresses: readonly string[],
  signal: AbortSignal,
): Promise<string | undefined> {
  const endpoints = new ReplicaEndpoints(addresses, SEED_TIMEOUT_MS, signal);
  try {
    const { value } = await endpoints.kvCall(
      'compareAndSwap',
      {
        key: 'cat.state',
        expected: { $case: 'expectedAbsent', value: true },
        newValue: Buffer.from('hungry'),
        requestId: oneWriteRequestId(),
      },
      { resendable: true },
    );
    return value.kv?.value.toString('utf8');
  } finally {
    endpoints.close();
  }
}
