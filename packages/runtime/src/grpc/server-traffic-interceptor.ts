import {
  Metadata,
  ServerInterceptingCall,
  status as grpcStatus,
  type ServerInterceptor,
} from '@grpc/grpc-js';
import { trace } from '@opentelemetry/api';
import { CALLER_HEADER, parseCallerIdentity } from '../traffic/caller-identity.js';
import type { TrafficGate } from '../traffic/traffic-gate.js';

/** Encodes a request message of one method, to know its size on the wire. */
export type RequestSizer = (message: unknown) => number;

/**
 * Passes each request message of the methods in `sizers` through the traffic gate, with the
 * caller's identity from `catmesh-caller`: a dropped message never reaches the handler (the
 * caller waits for its deadline), a rejected call is answered UNAVAILABLE at once, a delayed one
 * reaches the handler late. Other methods (health, reflection, the Raft peer stream, which the
 * Raft transport gates per message) pass untouched. It sits inside the call observer, so the
 * SERVER span is active and gets the gate's events.
 */
export function serverTrafficInterceptor(
  gate: TrafficGate,
  sizers: ReadonlyMap<string, RequestSizer>,
): ServerInterceptor {
  return (methodDefinition, call) => {
    const sizeOf = sizers.get(methodDefinition.path);
    if (sizeOf === undefined) return new ServerInterceptingCall(call);
    let received: Metadata | undefined;
    let timer: NodeJS.Timeout | undefined;
    const intercepted: ServerInterceptingCall = new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            received = metadata;
            nextMetadata(metadata);
          },
          onReceiveMessage: (message, nextMessage) => {
            if (!gate.armed) {
              nextMessage(message);
              return;
            }
            const decision = gate.decide({
              transport: 'grpc',
              direction: 'inbound',
              peer: parseCallerIdentity(received?.get(CALLER_HEADER)[0]),
              operation: methodDefinition.path,
              bytes: sizeOf(message),
              span: trace.getActiveSpan(),
            });
            switch (decision.action) {
              case 'deliver':
                nextMessage(message);
                return;
              // Never passed on: grpc-js holds the half-close behind it, so the handler never runs.
              case 'drop':
                return;
              case 'reject':
                intercepted.sendStatus({
                  code: grpcStatus.UNAVAILABLE,
                  details: decision.reason,
                  metadata: new Metadata(),
                });
                return;
              case 'delay':
                timer = setTimeout(() => nextMessage(message), decision.delayMs);
            }
          },
          onCancel: () => clearTimeout(timer),
        }),
    });
    return intercepted;
  };
}
