import type { catfeederV1 } from '@catmesh/proto';

/** Bytes for people (UTF-8, invalid sequences replaced) and for programs (exact, base64). */
export function bytesJson(bytes: Uint8Array): { value: string; value_base64: string } {
  return {
    value: new TextDecoder().decode(bytes),
    value_base64: Buffer.from(bytes).toString('base64'),
  };
}

/** A stored key as `--json` prints it, in the .proto's field names. */
export function keyValueJson(kv: catfeederV1.KeyValue): Record<string, unknown> {
  return {
    key: kv.key,
    ...bytesJson(kv.value),
    create_revision: kv.createRevision,
    mod_revision: kv.modRevision,
    version: kv.version,
  };
}

/** The store revision an answer reflects and the member that gave it. */
export function headerJson(
  header: catfeederV1.ResponseHeader | undefined,
): Record<string, unknown> {
  return header === undefined ? {} : { revision: header.revision, served_by: header.memberId };
}
