// Publishes every committed change on NATS (`catfeeder.changes.<key>`) inside the trace of the
// request that caused it. Only the leader publishes, so each change goes out once while the
// leader is stable; around a leader change a change may go unpublished. NATS here is a live feed
// for observers (the dashboard); Watch is the complete, ordered stream.
import { ROOT_CONTEXT, context, propagation } from '@opentelemetry/api';
import type { Logger, NatsClient } from '@catmesh/runtime';
import type { ChangeEvent } from './kv-store.js';

export const CHANGES_SUBJECT_PREFIX = 'catfeeder.changes';

/**
 * The subject for a key. NATS tokens are split by "." and must be non-empty and free of spaces
 * and wildcards, so each token of the key keeps [A-Za-z0-9_-] and percent-encodes the rest;
 * an empty token becomes "%". `cat.state` stays `catfeeder.changes.cat.state`.
 */
export function changeSubject(key: string): string {
  const tokens = key
    .split('.')
    .map((token) =>
      token === ''
        ? '%'
        : token.replace(/[^A-Za-z0-9_-]/gu, (c) =>
            [...Buffer.from(c)]
              .map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`)
              .join(''),
          ),
    );
  return `${CHANGES_SUBJECT_PREFIX}.${tokens.join('.')}`;
}

/** The JSON body of a change message. */
export interface ChangeMessage {
  readonly type: 'put' | 'delete';
  readonly key: string;
  /** The value as UTF-8 text (empty for a delete). */
  readonly value: string;
  readonly revision: number;
  readonly version: number;
  /** The replica that published it (the leader). */
  readonly member: number;
}

export class ChangePublisher {
  constructor(
    private readonly nats: NatsClient,
    private readonly memberId: number,
    private readonly logger: Logger,
  ) {}

  publish(events: readonly ChangeEvent[], traceContext: Readonly<Record<string, string>>): void {
    const parent = propagation.extract(ROOT_CONTEXT, traceContext);
    for (const event of events) {
      const body: ChangeMessage = {
        type: event.type,
        key: event.kv.key,
        value: Buffer.from(event.kv.value).toString('utf8'),
        revision: event.kv.modRevision,
        version: event.kv.version,
        member: this.memberId,
      };
      // Fire and forget: a NATS outage must not slow the store down; the kit bounds each publish.
      context
        .with(parent, () => this.nats.publish(changeSubject(event.kv.key), JSON.stringify(body)))
        .catch((error: unknown) =>
          this.logger.warn({ err: error, key: event.kv.key }, 'could not publish a change'),
        );
    }
  }
}
