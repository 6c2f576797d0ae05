// What every transport does with messages that arrive: check them, pass them through the fault
// filter, hand them to the receive handler and count what happened.
import type { raftV1 } from '@catmesh/proto';
import type { FaultGate } from './fault-filter.js';
import type { ReceiveHandler } from './transport.js';

export class InboundPath {
  received = 0;
  rejected = 0;
  handlerErrors = 0;
  /** Counted by the carrier: inbound snapshots that never completed, calls from another cluster. */
  brokenSnapshots = 0;
  refusedCalls = 0;
  private handler: ReceiveHandler | undefined;
  private closed = false;

  constructor(
    private readonly localId: number,
    private readonly gate: FaultGate,
    private readonly onError: ((error: unknown) => void) | undefined,
  ) {}

  setHandler(handler: ReceiveHandler): void {
    this.handler = handler;
  }

  /**
   * Delivers one batch from a peer. Resolves once the handler has taken the messages due now
   * (never rejects), so the caller can acknowledge the batch then; delayed messages follow later.
   */
  async deliver(messages: readonly raftV1.Message[]): Promise<void> {
    // Minimal validation: a message for another node (a stale address after a membership change)
    // or from node 0 ("none") is not this node's to step.
    const valid = messages.filter((m) => m.to === this.localId && m.from !== 0);
    this.rejected += messages.length - valid.length;
    const now = this.gate.admit(valid, 'inbound', (late) => void this.handOver(late));
    await this.handOver(now);
  }

  close(): void {
    this.closed = true;
  }

  private async handOver(messages: readonly raftV1.Message[]): Promise<void> {
    if (messages.length === 0) return;
    const handler = this.handler;
    if (handler === undefined || this.closed) {
      this.rejected += messages.length;
      return;
    }
    try {
      await handler(messages);
      this.received += messages.length;
    } catch (error) {
      this.handlerErrors += 1;
      this.onError?.(error);
    }
  }
}
