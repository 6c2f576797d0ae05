// ApplyFault's input, checked field by field: the first bad field throws a FaultValidationError
// naming it as the API does (`fault.latency.delay_ms`), and nothing is applied.
import { faultsV1 } from '@catmesh/proto';
import type { TrafficDirection, TrafficTransport } from '@catmesh/runtime';
import { FaultValidationError } from '../errors.js';
import type { AppFault, AppFaultEffect, LatencyDistribution, PeerSelector } from './app-fault.js';

/** Longest latency or pause a fault may ask for: beyond it, a call is better dropped. */
export const MAX_DELAY_MS = 600_000;
/** Longest a single pause may block the event loop. */
export const MAX_PAUSE_MS = 60_000;
/** How far ahead an expiry may be: a fault nobody reverts still ends within a day. */
export const MAX_LIFETIME_MS = 24 * 3_600_000;

const ID = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

const { Direction, Transport, Distribution } = faultsV1;

const DIRECTIONS = new Map<number, TrafficDirection | undefined>([
  [Direction.DIRECTION_UNSPECIFIED, undefined],
  [Direction.DIRECTION_BOTH, undefined],
  [Direction.DIRECTION_INBOUND, 'inbound'],
  [Direction.DIRECTION_OUTBOUND, 'outbound'],
]);

const TRANSPORTS = new Map<number, TrafficTransport>([
  [Transport.TRANSPORT_GRPC, 'grpc'],
  [Transport.TRANSPORT_NATS, 'nats'],
  [Transport.TRANSPORT_RAFT, 'raft'],
]);

const DISTRIBUTIONS = new Map<number, LatencyDistribution>([
  [Distribution.DISTRIBUTION_UNSPECIFIED, 'uniform'],
  [Distribution.DISTRIBUTION_UNIFORM, 'uniform'],
  [Distribution.DISTRIBUTION_NORMAL, 'normal'],
  [Distribution.DISTRIBUTION_PARETO, 'pareto'],
]);

export function validateAppFault(fault: faultsV1.Fault | undefined, nowUnixMs: number): AppFault {
  if (fault === undefined) throw new FaultValidationError('fault', 'required');
  if (!ID.test(fault.id)) {
    throw new FaultValidationError(
      'fault.id',
      fault.id === '' ? 'required' : 'letters, digits and . _ : / - only, at most 128',
    );
  }
  const effect = effectOf(fault.kind);
  const expires = fault.expiresAtUnixMs;
  if (!Number.isSafeInteger(expires) || expires <= 0) {
    throw new FaultValidationError('fault.expires_at_unix_ms', 'required (Unix epoch ms)');
  }
  if (expires <= nowUnixMs) {
    throw new FaultValidationError('fault.expires_at_unix_ms', `in the past (now is ${nowUnixMs})`);
  }
  if (expires > nowUnixMs + MAX_LIFETIME_MS) {
    throw new FaultValidationError('fault.expires_at_unix_ms', 'more than 24 h ahead');
  }
  const peers = fault.peers.map((peer, index) => peerSelector(peer, `fault.peers[${index}]`));
  if (!DIRECTIONS.has(fault.direction)) {
    throw new FaultValidationError('fault.direction', `unknown value ${fault.direction}`);
  }
  const transports = new Set<TrafficTransport>();
  fault.transports.forEach((value, index) => {
    const transport = TRANSPORTS.get(value);
    if (transport === undefined) {
      throw new FaultValidationError(
        `fault.transports[${index}]`,
        value === Transport.TRANSPORT_UNSPECIFIED
          ? 'TRANSPORT_UNSPECIFIED is not a transport (an empty list means every one)'
          : `unknown value ${value}`,
      );
    }
    transports.add(transport);
  });
  return {
    id: fault.id,
    effect,
    expiresAtUnixMs: expires,
    peers,
    direction: DIRECTIONS.get(fault.direction),
    transports: transports.size === 0 ? undefined : transports,
    experiment: fault.experiment,
    wire: {
      ...fault,
      kind: normalisedKind(fault.kind, effect),
      peers: peers.map((peer) => ({ ...peer })),
      transports: [...fault.transports],
    },
  };
}

function effectOf(kind: faultsV1.Fault['kind']): AppFaultEffect {
  switch (kind?.$case) {
    case undefined:
      throw new FaultValidationError(
        'fault.kind',
        'required: one of partition, latency, loss, reject, bandwidth, pause',
      );
    case 'partition':
      return { kind: 'partition' };
    case 'latency': {
      const { delayMs, jitterMs, distribution } = kind.value;
      milliseconds('fault.latency.delay_ms', delayMs, MAX_DELAY_MS);
      milliseconds('fault.latency.jitter_ms', jitterMs, MAX_DELAY_MS);
      if (delayMs === 0 && jitterMs === 0) {
        throw new FaultValidationError('fault.latency.delay_ms', 'must be > 0 (or jitter_ms)');
      }
      const shape = DISTRIBUTIONS.get(distribution);
      if (shape === undefined) {
        throw new FaultValidationError(
          'fault.latency.distribution',
          `unknown value ${distribution}`,
        );
      }
      return { kind: 'latency', delayMs, jitterMs, distribution: shape };
    }
    case 'loss': {
      const { probability } = kind.value;
      if (!(probability > 0 && probability <= 1)) {
        throw new FaultValidationError('fault.loss.probability', 'must be in (0, 1]');
      }
      return { kind: 'loss', probability };
    }
    case 'reject': {
      const { probability } = kind.value;
      if (!(probability >= 0 && probability <= 1)) {
        throw new FaultValidationError('fault.reject.probability', 'must be in (0, 1] (0 means 1)');
      }
      return { kind: 'reject', probability: probability === 0 ? 1 : probability };
    }
    case 'bandwidth': {
      const { bytesPerSecond } = kind.value;
      if (!Number.isSafeInteger(bytesPerSecond) || bytesPerSecond <= 0) {
        throw new FaultValidationError('fault.bandwidth.bytes_per_second', 'must be > 0');
      }
      return { kind: 'bandwidth', bytesPerSecond };
    }
    case 'pause': {
      const { pauseMs, everyMs } = kind.value;
      milliseconds('fault.pause.pause_ms', pauseMs, MAX_PAUSE_MS);
      if (pauseMs === 0) throw new FaultValidationError('fault.pause.pause_ms', 'must be > 0');
      milliseconds('fault.pause.every_ms', everyMs, MAX_LIFETIME_MS);
      if (everyMs !== 0 && everyMs <= pauseMs) {
        throw new FaultValidationError(
          'fault.pause.every_ms',
          `must be 0 (once) or more than pause_ms (${pauseMs})`,
        );
      }
      return { kind: 'pause', pauseMs, everyMs };
    }
  }
}

function milliseconds(field: string, value: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new FaultValidationError(field, 'must be a whole number of milliseconds');
  }
  if (value > max) throw new FaultValidationError(field, `at most ${max}`);
}

function peerSelector(peer: faultsV1.PeerSelector, field: string): PeerSelector {
  if (!Number.isSafeInteger(peer.raftId) || peer.raftId < 0) {
    throw new FaultValidationError(`${field}.raft_id`, 'must be a Raft id (0: any)');
  }
  return { service: peer.service, instance: peer.instance, raftId: peer.raftId };
}

/** The kind as the fault will behave: a reject probability of 0 is 1, as the API says. */
function normalisedKind(
  kind: faultsV1.Fault['kind'],
  effect: AppFaultEffect,
): faultsV1.Fault['kind'] {
  if (effect.kind === 'reject') {
    return { $case: 'reject', value: { probability: effect.probability } };
  }
  return kind;
}
