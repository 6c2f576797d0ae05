// What the benchmark drives: a running 3-member cluster of one key/value store, reached over
// gRPC with @grpc/grpc-js through a fixed set of channels per member.
import type { CallOptions, ChannelOptions, ServiceError } from '@grpc/grpc-js';
import type { ServerProcess } from './server-process.js';

export type TargetName = 'etcd' | 'cat-feeder';

export interface KvTarget {
  readonly name: TargetName;
  readonly members: readonly ServerProcess[];
  /** Polls until every running member names the same running leader; returns its index. */
  waitForLeader(timeoutMs: number): Promise<number>;
  /** Writes `key` through `members[member]`, on that member's channel number `channel`. */
  put(
    member: number,
    channel: number,
    key: string,
    value: Buffer,
    timeoutMs: number,
  ): Promise<void>;
  /** Reads `key` linearizably through `members[member]`. */
  get(member: number, channel: number, key: string, timeoutMs: number): Promise<void>;
  /** kill -9 of one member. */
  kill(member: number): Promise<void>;
  /** Starts a killed member again with its data directory, as a restarted server would be. */
  restart(member: number): void;
  /** Closes the channels, kills every member and removes the data directories. */
  shutdown(): Promise<void>;
}

/**
 * grpc-js shares one connection among all clients of the same address and options unless each
 * client has its own subchannel pool; the benchmark wants N real connections per member.
 */
export const OWN_CONNECTION: ChannelOptions = { 'grpc.use_local_subchannel_pool': 1 };

type UnaryCallback<T> = (error: ServiceError | null, response?: T) => void;

/** One unary call with a deadline, as a promise. */
export function unary<T>(
  timeoutMs: number,
  call: (options: Partial<CallOptions>, callback: UnaryCallback<T>) => unknown,
): Promise<T> {
  return new Promise((resolve, reject) => {
    call({ deadline: Date.now() + timeoutMs }, (error, response) => {
      if (error) reject(error);
      else if (response === undefined) reject(new Error('empty response'));
      else resolve(response);
    });
  });
}

/**
 * Retries `attempt` every `intervalMs` until it returns a value or `timeoutMs` passes; stops at
 * once when `fatal` names a reason (a server process that died).
 */
export async function pollUntil<T>(
  timeoutMs: number,
  intervalMs: number,
  attempt: () => Promise<T>,
  fatal: () => string | undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reason = fatal();
    if (reason !== undefined) throw new Error(reason);
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
