import type { StreamConfig, StreamInfo } from 'nats';
import { createOrUpdate } from './create-or-update.js';
import type { NatsKit } from './kit.js';

/** A stream's configuration: a name and subjects, the rest as JetStream takes it (server defaults otherwise). */
export type NatsStreamConfig = Partial<StreamConfig> & {
  readonly name: string;
  readonly subjects: string[];
};

/**
 * Makes the stream exist with `config`: creates it, or updates it when it exists. Changing a
 * setting JetStream cannot change in place (storage type, for one) rejects with the server's error.
 */
export async function ensureStream(kit: NatsKit, config: NatsStreamConfig): Promise<StreamInfo> {
  const jsm = await kit.nc.jetstreamManager({ timeout: kit.requestTimeoutMs });
  const info = await createOrUpdate({
    exists: () => jsm.streams.info(config.name),
    create: () => jsm.streams.add(config),
    update: () => jsm.streams.update(config.name, config),
  });
  kit.logger.info(
    { stream: config.name, subjects: info.config.subjects },
    'JetStream stream ready',
  );
  return info;
}
