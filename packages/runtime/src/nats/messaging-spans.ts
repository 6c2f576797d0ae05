import {
  SpanKind,
  SpanStatusCode,
  context,
  isSpanContextValid,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ERROR_TYPE_VALUE_OTHER,
} from '@opentelemetry/semantic-conventions';
import type { MsgHdrs } from 'nats';
import { extractTraceContext } from './trace-headers.js';

// The messaging conventions are still "development", so @opentelemetry/semantic-conventions keeps
// them in its `incubating` entry point, which may change in any minor release; the package
// recommends copying such names instead of importing them.
const ATTR_MESSAGING_SYSTEM = 'messaging.system';
// The registry renamed `messaging.system` to `messaging.system.name`; the NATS page of the
// conventions still requires `messaging.system`, so both are set until backends settle on one.
const ATTR_MESSAGING_SYSTEM_NAME = 'messaging.system.name';
const ATTR_MESSAGING_DESTINATION_NAME = 'messaging.destination.name';
const ATTR_MESSAGING_DESTINATION_TEMPLATE = 'messaging.destination.template';
const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
const ATTR_MESSAGING_OPERATION_NAME = 'messaging.operation.name';
const ATTR_MESSAGING_MESSAGE_BODY_SIZE = 'messaging.message.body.size';
const ATTR_MESSAGING_MESSAGE_ID = 'messaging.message.id';
const ATTR_MESSAGING_CONSUMER_GROUP_NAME = 'messaging.consumer.group.name';

const NATS = 'nats';
/** Header JetStream uses to de-duplicate; also the message's id for `messaging.message.id`. */
export const MSG_ID_HEADER = 'Nats-Msg-Id';

function tracer() {
  return trace.getTracer('@catmesh/runtime/nats');
}

export interface PublishSpanInput {
  readonly subject: string;
  readonly bodySize: number;
  /** host:port of the server the client talks to. */
  readonly server: string;
  readonly messageId?: string;
}

/**
 * The "send" span of one published message, a child of the active context. Its context is the
 * message's creation context (it is injected into the headers), hence kind PRODUCER.
 */
export function startPublishSpan(input: PublishSpanInput): Span {
  const attributes: Attributes = {
    ...messagingAttributes(input.subject, input.bodySize),
    [ATTR_MESSAGING_OPERATION_TYPE]: 'send',
    [ATTR_MESSAGING_OPERATION_NAME]: 'publish',
    ...serverAttributes(input.server),
  };
  if (input.messageId !== undefined) attributes[ATTR_MESSAGING_MESSAGE_ID] = input.messageId;
  return tracer().startSpan(
    `publish ${input.subject}`,
    { kind: SpanKind.PRODUCER, attributes },
    context.active(),
  );
}

export interface ProcessSpanInput {
  readonly msg: { readonly subject: string; readonly data: Uint8Array; readonly headers?: MsgHdrs };
  /** The subscribed subject when it has wildcards: a low-cardinality name for the span. */
  readonly subscribedSubject: string;
  readonly server: string;
  /** Queue group (core NATS) or durable consumer name (JetStream). */
  readonly consumerGroup?: string;
}

/**
 * The "process" span of one delivered message (push-based delivery, so kind CONSUMER) and the
 * context to run the handler in.
 *
 * Per the messaging conventions the span links to the message's creation context; because each
 * span covers exactly one message, it also takes that context as its parent (the conventions'
 * option for single-message processing), so one order is one trace from publisher to consumer.
 */
export function startProcessSpan(input: ProcessSpanInput): { span: Span; ctx: Context } {
  const { msg } = input;
  const creation = extractTraceContext(msg.headers);
  const creationSpan = trace.getSpanContext(creation);
  const links: Link[] =
    creationSpan && isSpanContextValid(creationSpan) ? [{ context: creationSpan }] : [];
  const template = hasWildcard(input.subscribedSubject) ? input.subscribedSubject : undefined;
  const attributes: Attributes = {
    ...messagingAttributes(msg.subject, msg.data.byteLength),
    [ATTR_MESSAGING_OPERATION_TYPE]: 'process',
    [ATTR_MESSAGING_OPERATION_NAME]: 'process',
    ...serverAttributes(input.server),
  };
  if (template !== undefined) attributes[ATTR_MESSAGING_DESTINATION_TEMPLATE] = template;
  if (input.consumerGroup !== undefined) {
    attributes[ATTR_MESSAGING_CONSUMER_GROUP_NAME] = input.consumerGroup;
  }
  const messageId = msg.headers?.get(MSG_ID_HEADER);
  if (messageId) attributes[ATTR_MESSAGING_MESSAGE_ID] = messageId;

  const span = tracer().startSpan(
    `process ${template ?? msg.subject}`,
    { kind: SpanKind.CONSUMER, attributes, links },
    creation,
  );
  return { span, ctx: trace.setSpan(creation, span) };
}

/** Marks `span` failed with `err`: exception event, ERROR status and `error.type`. */
export function recordFailure(span: Span, err: unknown): void {
  const error = err instanceof Error ? err : new Error(String(err));
  span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  span.setAttribute(ATTR_ERROR_TYPE, errorType(err));
}

function errorType(err: unknown): string {
  if (err instanceof Error) return err.name !== 'Error' ? err.name : err.constructor.name;
  return ERROR_TYPE_VALUE_OTHER;
}

function messagingAttributes(subject: string, bodySize: number): Attributes {
  return {
    [ATTR_MESSAGING_SYSTEM]: NATS,
    [ATTR_MESSAGING_SYSTEM_NAME]: NATS,
    [ATTR_MESSAGING_DESTINATION_NAME]: subject,
    [ATTR_MESSAGING_MESSAGE_BODY_SIZE]: bodySize,
  };
}

/** `server.address` / `server.port` from nats.js's "host:port" (IPv6 hosts come bracketed). */
function serverAttributes(hostport: string): Attributes {
  if (hostport === '') return {};
  const colon = hostport.lastIndexOf(':');
  const port = Number(hostport.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port)) return { [ATTR_SERVER_ADDRESS]: hostport };
  return {
    [ATTR_SERVER_ADDRESS]: hostport.slice(0, colon).replace(/^\[(.*)\]$/, '$1'),
    [ATTR_SERVER_PORT]: port,
  };
}

function hasWildcard(subject: string): boolean {
  return subject.split('.').some((token) => token === '*' || token === '>');
}
