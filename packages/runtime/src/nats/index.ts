// The NATS kit of @catmesh/runtime: connection, traced and bounded publish/subscribe, JetStream.
export { connectNats } from './connect.js';
export type { ConnectNatsOptions, NatsClient } from './connect.js';
export { NatsConnectError, NatsUnavailableError } from './errors.js';
export type {
  NatsConsumerOptions,
  NatsDurableConsumer,
  NatsJetStreamHandler,
} from './jetstream-consumer.js';
export type { NatsJetStreamPublishOptions } from './jetstream-publish.js';
export type { NatsPayload } from './payload.js';
export type { NatsPublishOptions } from './publish.js';
export type { NatsStreamConfig } from './stream.js';
export type { NatsMessageHandler, NatsSubscribeOptions, NatsSubscription } from './subscribe.js';
export { natsHeaderGetter, natsHeaderSetter } from './trace-headers.js';
// nats.js types that appear in this API, so that services need not depend on nats themselves.
export type { JsMsg as NatsJsMsg, Msg as NatsMsg, PubAck, StreamInfo } from 'nats';
