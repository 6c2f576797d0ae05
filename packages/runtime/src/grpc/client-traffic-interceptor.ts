import {
  InterceptingCall,
  status as grpcStatus,
  type Interceptor,
  type Requester,
} from '@grpc/grpc-js';
import { trace } from '@opentelemetry/api';
import { CALLER_HEADER, formatCallerIdentity } from '../traffic/caller-identity.js';
import type { PeerIdentity, TrafficHooks } from '../traffic/traffic-gate.js';

/**
 * Sends this process's identity (`catmesh-caller`) with every call and passes each request
 * message through the traffic gate: dropped messages are never sent (the call waits for its
 * deadline), rejected calls end at once with UNAVAILABLE, delayed ones are sent late. It runs
 * inside the CLIENT span's context, so that span gets the gate's events and shows the delay.
 */
export function clientTrafficInterceptor(traffic: TrafficHooks, server: PeerIdentity): Interceptor {
  const caller = formatCallerIdentity(traffic.self);
  const gate = traffic.gate;
  return (options, nextCall) => {
    const method = options.method_definition;
    const requester: Requester = {
      start: (metadata, listener, next) => {
        metadata.set(CALLER_HEADER, caller);
        next(metadata, listener);
      },
    };
    if (gate !== undefined) {
      requester.sendMessage = (message, next) => {
        if (!gate.armed) {
          next(message);
          return;
        }
        const decision = gate.decide({
          transport: 'grpc',
          direction: 'outbound',
          peer: server,
          operation: method.path,
          bytes: method.requestSerialize(message).length,
          span: trace.getActiveSpan(),
        });
        switch (decision.action) {
          case 'deliver':
            next(message);
            return;
          // Never passed on: grpc-js holds the half-close behind it, so the call waits for its
          // deadline as it would for a lost packet.
          case 'drop':
            return;
          case 'reject':
            call.cancelWithStatus(grpcStatus.UNAVAILABLE, decision.reason);
            return;
          case 'delay':
            setTimeout(() => next(message), decision.delayMs);
        }
      };
    }
    // grpc-js copies the requester's methods here, so they are all set before.
    const call = new InterceptingCall(nextCall(options), requester);
    return call;
  };
}
