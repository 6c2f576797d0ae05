export interface Named {
  readonly name: string;
  readonly dependsOn: readonly string[];
}

/**
 * Runs `run` for every item, each as soon as `prerequisites(item)` have all finished, the rest
 * in parallel. After the first failure nothing more is started; once the runs under way have
 * ended, it rejects with that first failure (in time, not in the order of `items`). A
 * prerequisite that is not among `items` counts as done.
 */
export async function inDependencyOrder<T extends Named>(
  items: readonly T[],
  prerequisites: (item: T) => readonly string[],
  run: (item: T) => Promise<void>,
): Promise<void> {
  const names = new Set(items.map((item) => item.name));
  const finished = new Map<string, Promise<void>>();
  let failure: { readonly error: unknown } | undefined;
  const schedule = (item: T, path: readonly string[]): Promise<void> => {
    const known = finished.get(item.name);
    if (known) return known;
    if (path.includes(item.name)) {
      throw new Error(`dependency cycle: ${[...path, item.name].join(' -> ')}`);
    }
    const before = prerequisites(item)
      .filter((name) => names.has(name))
      .map((name) =>
        schedule(
          items.find((other) => other.name === name)!,
          [...path, item.name],
        ),
      );
    const done = Promise.all(before).then(async () => {
      if (failure) return;
      try {
        await run(item);
      } catch (error) {
        failure ??= { error };
        throw error;
      }
    });
    finished.set(item.name, done);
    return done;
  };
  const all = items.map((item) => schedule(item, []));
  // Every promise is awaited (no unhandled rejection); the first failure is the answer.
  await Promise.allSettled(all);
  if (failure) throw failure.error;
}

/** The names of the items that depend on `item`: they stop before it. */
export function dependentsOf<T extends Named>(items: readonly T[], item: T): string[] {
  return items.filter((other) => other.dependsOn.includes(item.name)).map((other) => other.name);
}

/** Throws when a dependency names no item: a mistake in the table, found before anything starts. */
export function checkDependencies(items: readonly Named[]): void {
  const names = new Set(items.map((item) => item.name));
  for (const item of items) {
    const unknown = item.dependsOn.find((name) => !names.has(name));
    if (unknown) throw new Error(`${item.name} depends on unknown instance ${unknown}`);
  }
}
