// The hook of the `app` fault mechanism (ARCHITECTURE.md rule 3): a transport asks a filter
// about every message, in each direction, so packages/faults can plug partitions, loss and
// latency into the transport without the transport knowing about faults.
import type { raftV1 } from '@catmesh/proto';

/** `outbound`: leaving this node (from = this node); `inbound`: arriving (to = this node). */
export type TransportDirection = 'outbound' | 'inbound';

/** Deliver now, drop, or deliver after a delay. */
export type FaultVerdict = 'deliver' | 'drop' | { readonly delayMs: number };

export type TransportFaultFilter = (
  from: number,
  to: number,
  direction: TransportDirection,
) => FaultVerdict;

/** Applies a transport's current filter to messages and owns the timers of delayed ones. */
export class FaultGate {
  dropped = 0;
  delayed = 0;
  private filter: TransportFaultFilter | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly localId: number,
    filter: TransportFaultFilter | undefined,
  ) {
    this.filter = filter;
  }

  setFilter(filter: TransportFaultFilter | undefined): void {
    this.filter = filter;
  }

  /**
   * Returns the messages to deliver now, in their order. Dropped ones are counted (and shown to
   * `onDrop`); delayed ones
   * go to `later` once their delay has passed, one timer per distinct delay so that a burst does
   * not cost a timer per message.
   */
  admit(
    messages: readonly raftV1.Message[],
    direction: TransportDirection,
    later: (messages: raftV1.Message[]) => void,
    onDrop?: (message: raftV1.Message) => void,
  ): readonly raftV1.Message[] {
    const filter = this.filter;
    if (filter === undefined || this.closed) return messages;
    const now: raftV1.Message[] = [];
    const byDelay = new Map<number, raftV1.Message[]>();
    for (const message of messages) {
      const verdict =
        direction === 'outbound'
          ? filter(this.localId, message.to, direction)
          : filter(message.from, this.localId, direction);
      if (verdict === 'drop') {
        this.dropped += 1;
        onDrop?.(message);
      } else if (verdict === 'deliver' || !(verdict.delayMs > 0)) {
        now.push(message);
      } else {
        this.delayed += 1;
        const group = byDelay.get(verdict.delayMs);
        if (group) group.push(message);
        else byDelay.set(verdict.delayMs, [message]);
      }
    }
    for (const [delayMs, group] of byDelay) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        later(group);
      }, delayMs);
      this.timers.add(timer);
    }
    return now;
  }

  /** Discards the delayed messages still waiting. */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
