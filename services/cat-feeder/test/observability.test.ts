// One write through a follower is one trace: follower SERVER → propose (the follower hands the
// command to the leader over the Raft stream, so no call of its own) → apply on every replica;
// and the change goes out on NATS inside the same trace.
import { Metadata } from '@grpc/grpc-js';
import { connect, type Msg } from 'nats';
import {
  startNatsServer,
  startOtlpReceiver,
  type NatsServer,
  type OtlpReceiver,
  type ReceivedSpan,
} from '@catmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, unary } from './support/cluster.js';

const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;

describe('cat-feeder traces, metrics and change feed', () => {
  let receiver: OtlpReceiver;
  let nats: NatsServer;
  let cluster: Cluster;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    nats = await startNatsServer();
    cluster = await Cluster.start({
      size: 3,
      env: {
        OTEL_SDK_DISABLED: 'false',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        CATMESH_NATS_URL: nats.url,
      },
    });
    await cluster.waitForLeader();
  });

  afterAll(async () => {
    await cluster?.shutdown();
    await nats?.dispose();
    await receiver?.close();
  });

  it('a write through a follower is one trace from the request to every replica applying it', async () => {
    const leader = await cluster.waitForLeader();
    const follower = cluster.replicas.find((r) => r !== leader)!;
    const feed = await connect({ servers: nats.url });
    const changes: Msg[] = [];
    const subscription = feed.subscribe('catfeeder.changes.>', {
      callback: (_e, m) => changes.push(m),
    });
    await feed.flush();

    await unary((cb) =>
      follower.client.put(
        { key: 'cat.state', value: Buffer.from('full'), requestId: undefined },
        new Metadata(),
        { deadline: Date.now() + 10_000 },
        cb,
      ),
    );

    const isRoot = (s: ReceivedSpan) =>
      s.kind === SERVER &&
      s.name === 'catmesh.catfeeder.v1.CatFeederService/Put' &&
      s.serviceName === 'cat-feeder' &&
      s.parentSpanId === '';
    const spans = await receiver.waitForSpans((all) => {
      const root = all.find(isRoot);
      return (
        root !== undefined &&
        all.filter((s) => s.traceId === root.traceId && s.name === 'catfeeder.apply').length ===
          3 &&
        all.some((s) => s.traceId === root.traceId && s.kind === PRODUCER)
      );
    });
    const root = spans.find(isRoot)!;
    const trace = spans.filter((s) => s.traceId === root.traceId);
    const child = (parent: ReceivedSpan, predicate: (s: ReceivedSpan) => boolean) => {
      const found = trace.find((s) => s.parentSpanId === parent.spanId && predicate(s));
      expect(found, `a child of ${parent.name}`).toBeDefined();
      return found!;
    };
    expect(trace.filter((s) => s.kind === CLIENT)).toEqual([]);
    const propose = child(root, (s) => s.name === 'catfeeder.propose');
    const applies = trace.filter((s) => s.name === 'catfeeder.apply');
    expect(applies.map((s) => s.parentSpanId)).toEqual([
      propose.spanId,
      propose.spanId,
      propose.spanId,
    ]);
    expect(new Set(applies.map((s) => s.attributes['catfeeder.member']))).toEqual(
      new Set([1, 2, 3]),
    );
    const publish = trace.find((s) => s.kind === PRODUCER)!;
    expect(publish.name).toBe('publish catfeeder.changes.cat.state');

    // The change message carries the same trace in its (lowercase) headers.
    const change = changes.find((m) => m.subject === 'catfeeder.changes.cat.state');
    expect(change).toBeDefined();
    expect(JSON.parse(change!.string())).toMatchObject({
      type: 'put',
      key: 'cat.state',
      value: 'full',
    });
    expect(change!.headers?.get('traceparent')).toContain(root.traceId);
    subscription.unsubscribe();
    await feed.close();
  });

  it('serves Prometheus metrics for Raft and gRPC', async () => {
    const leader = await cluster.waitForLeader();
    const metrics = (r: (typeof cluster.replicas)[number]) =>
      fetch(`http://127.0.0.1:${r.metricsPort}/metrics`).then((res) => res.text());
    const text = await metrics(leader);
    expect(text).toMatch(/^catfeeder_raft_is_leader 1$/m);
    expect(text).toMatch(/^catfeeder_raft_term [1-9]/m);
    expect(text).toMatch(/^catfeeder_raft_commit_index [1-9]/m);
    expect(text).toMatch(/^catfeeder_wal_fsync_duration_seconds_count\{target="segment"\} [1-9]/m);
    // The Put of the test before was served by a follower, which forwarded it over Raft.
    const followers = await Promise.all(cluster.replicas.filter((r) => r !== leader).map(metrics));
    const served = followers.find((t) =>
      /^grpc_server_handled_total\{.*grpc_method="Put".*grpc_code="OK".*\} [1-9]/m.test(t),
    );
    expect(served).toMatch(/^catfeeder_raft_forwarded_writes_total [1-9]/m);
  });
});
