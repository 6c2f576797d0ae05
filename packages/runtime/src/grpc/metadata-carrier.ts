import type { Metadata } from '@grpc/grpc-js';
import type { TextMapGetter, TextMapSetter } from '@opentelemetry/api';

// How W3C trace-context headers (`traceparent`, `tracestate`) are written to and read from
// gRPC metadata, which keeps keys lowercase as the propagator writes them.

export const metadataSetter: TextMapSetter<Metadata> = {
  set(metadata, key, value) {
    metadata.set(key, value);
  },
};

export const metadataGetter: TextMapGetter<Metadata> = {
  get(metadata, key) {
    const values = metadata.get(key).filter((value): value is string => typeof value === 'string');
    return values.length === 0 ? undefined : values;
  },
  keys(metadata) {
    return Object.keys(metadata.getMap());
  },
};
