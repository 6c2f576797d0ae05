/**
 * Settles like `work`, unless `ms` pass first: then rejects with `onTimeout()`. `work` keeps
 * running (NATS offers no way to cancel a flush or a request; a Raft proposal cannot be taken
 * back), but its late result is ignored.
 */
export async function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  onTimeout: () => Error,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    // Promise.race subscribes to `work`, so a rejection that arrives after the deadline is
    // handled (ignored) rather than reported as unhandled.
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
