/** A value to set at a path of a JSON document: `spec.steps[0].fault`; `[+]` appends. */
export type JsonEdit = readonly [path: string, value: unknown];

/**
 * A deep copy of `document` with `edits` applied in order (`undefined` deletes): how a test
 * breaks one field of a valid file, whatever its type says.
 */
export function withEdits<T>(document: T, ...edits: JsonEdit[]): unknown {
  const copy = JSON.parse(JSON.stringify(document)) as unknown;
  for (const [path, value] of edits) {
    const parts = path.split(/\.|\[|\]\.?/).filter((part) => part !== '');
    const last = parts.pop();
    if (last === undefined) throw new Error(`withEdits: empty path`);
    let node = copy as Record<string, unknown>;
    for (const part of parts) {
      const next = node[part];
      if (typeof next !== 'object' || next === null)
        throw new Error(`withEdits: ${path}: no ${part}`);
      node = next as Record<string, unknown>;
    }
    if (last === '+') (node as unknown as unknown[]).push(value);
    else if (value === undefined) delete node[last];
    else node[last] = value;
  }
  return copy;
}
