/** A message body: bytes as they are, strings as UTF-8. */
export type NatsPayload = Uint8Array | string;

const utf8 = new TextEncoder();

export function encodePayload(payload: NatsPayload): Uint8Array {
  return typeof payload === 'string' ? utf8.encode(payload) : payload;
}
