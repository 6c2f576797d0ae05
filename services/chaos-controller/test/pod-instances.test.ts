import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { meshInstanceOf, podInstance } from '../src/pod-instances.js';

function pod(edit: (pod: V1Pod) => void = () => undefined): V1Pod {
  const value: V1Pod = {
    metadata: {
      name: 'cat-feeder-1',
      labels: { 'app.kubernetes.io/name': 'cat-feeder', 'app.kubernetes.io/instance': 'catmesh' },
    },
    spec: {
      containers: [
        {
          name: 'cat-feeder',
          ports: [
            { name: 'grpc', containerPort: 50051 },
            { name: 'raft', containerPort: 50052 },
            { containerPort: 9000 },
          ],
        },
        // The admin port may come from any container of the pod.
        { name: 'sidecar', ports: [{ name: 'admin', containerPort: 50053 }] },
      ],
    },
    status: { phase: 'Running', podIP: '10.244.0.11' },
  };
  edit(value);
  return value;
}

describe('pods as mesh instances', () => {
  it('names the instance after the pod, its service after the name label, its ports by name', () => {
    expect(podInstance(pod())).toEqual({
      name: 'cat-feeder-1',
      service: 'cat-feeder',
      address: '10.244.0.11:50051',
      adminAddress: '10.244.0.11:50053',
    });
  });

  it('reaches NATS on its client port, and gives no admin address to a pod without one', () => {
    expect(
      meshInstanceOf({
        name: 'nats-0',
        labels: { 'app.kubernetes.io/name': 'nats' },
        ip: '10.244.0.40',
        ports: new Map([
          ['client', 4222],
          ['monitor', 8222],
        ]),
      }),
    ).toEqual({ name: 'nats-0', service: 'nats', address: '10.244.0.40:4222' });
  });

  it('puts an IPv6 pod IP in brackets', () => {
    const instance = podInstance(pod((p) => (p.status!.podIP = 'fd00:10:244::b')));
    expect(instance?.address).toBe('[fd00:10:244::b]:50051');
    expect(instance?.adminAddress).toBe('[fd00:10:244::b]:50053');
  });

  it.each<[string, (pod: V1Pod) => void]>([
    ['no name label', (p) => delete p.metadata!.labels!['app.kubernetes.io/name']],
    ['no API port', (p) => (p.spec!.containers[0]!.ports = [])],
    ['Pending', (p) => (p.status!.phase = 'Pending')],
    ['no pod IP yet', (p) => delete p.status!.podIP],
    ['being deleted', (p) => (p.metadata!.deletionTimestamp = new Date())],
  ])('is no instance with %s', (_, edit) => {
    expect(podInstance(pod())).toBeDefined();
    expect(podInstance(pod(edit))).toBeUndefined();
  });
});
