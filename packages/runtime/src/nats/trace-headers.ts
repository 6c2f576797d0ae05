import {
  ROOT_CONTEXT,
  propagation,
  type Context,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { Match, headers as natsHeaders, type MsgHdrs } from 'nats';
import { CALLER_HEADER } from '../traffic/caller-identity.js';

/**
 * Writes propagation fields into NATS headers under lowercase keys (`traceparent`, `tracestate`):
 * ARCHITECTURE.md rule 6, and what W3C Trace Context asks of case-sensitive carriers.
 */
export const natsHeaderSetter: TextMapSetter<MsgHdrs> = {
  set(carrier, key, value) {
    carrier.set(key.toLowerCase(), value);
  },
};

/**
 * Reads propagation fields from NATS headers, ignoring case, so a producer outside catmesh that
 * writes `Traceparent` still continues the trace.
 */
export const natsHeaderGetter: TextMapGetter<MsgHdrs | undefined> = {
  keys(carrier) {
    return carrier ? carrier.keys() : [];
  },
  get(carrier, key) {
    if (!carrier?.has(key, Match.IgnoreCase)) return undefined;
    const values = carrier.values(key, Match.IgnoreCase);
    return values.length === 1 ? values[0] : values;
  },
};

/** New NATS headers holding `fields`, the caller's identity and the trace context of `ctx`. */
export function headersWithTraceContext(
  ctx: Context,
  fields: Readonly<Record<string, string>> = {},
  caller?: string,
): MsgHdrs {
  const headers = natsHeaders();
  for (const [key, value] of Object.entries(fields)) headers.set(key, value);
  if (caller !== undefined) headers.set(CALLER_HEADER, caller);
  propagation.inject(ctx, headers, natsHeaderSetter);
  return headers;
}

/**
 * The creation context a producer put in `headers`, on top of the root context: whatever context
 * happens to be active where NATS delivers a message must not leak into the consumer's trace.
 */
export function extractTraceContext(headers: MsgHdrs | undefined): Context {
  return propagation.extract(ROOT_CONTEXT, headers, natsHeaderGetter);
}
