// Sums over the samples of one metric of a `/metrics` page, grouped as the dashboard draws them.
import { samplesOf } from '@catmesh/runtime';

/** The sums of the samples of `name`, grouped by `keyOf` (undefined leaves a sample out). */
export function sumBy(
  text: string,
  name: string,
  keyOf: (labels: Readonly<Record<string, string>>) => string | undefined,
): Map<string, number> {
  const sums = new Map<string, number>();
  for (const { labels, value } of samplesOf(text, name)) {
    const key = keyOf(labels);
    if (key === undefined) continue;
    sums.set(key, (sums.get(key) ?? 0) + value);
  }
  return sums;
}
