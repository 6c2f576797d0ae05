// One attempt of a probe, as the kubelet makes it from the node: a gRPC health check
// (grpc.health.v1, SERVING or it failed), an HTTP GET (200-399) or a TCP connect, against the
// pod's IP, bounded by the probe's timeoutSeconds.
import { connect } from 'node:net';
import { credentials } from '@grpc/grpc-js';
import { healthV1 } from '@catmesh/proto';
import { callUnary } from '@catmesh/runtime';
import type { IIoK8sApiCoreV1Container } from 'kubernetes-models/v1/Container';
import type { IIoK8sApiCoreV1Probe } from 'kubernetes-models/v1/Probe';

function portNumber(port: number | string, container: IIoK8sApiCoreV1Container): number {
  if (typeof port === 'number') return port;
  const named = (container.ports ?? []).find((p) => p.name === port);
  if (!named)
    throw new Error(
      `container ${container.name}: a probe names port ${port}, which it does not declare`,
    );
  return named.containerPort;
}

async function grpcHealthy(address: string, service: string, timeoutMs: number): Promise<boolean> {
  const client = new healthV1.HealthClient(address, credentials.createInsecure());
  try {
    const { status } = await callUnary(client, 'check', { service }, { deadlineMs: timeoutMs });
    return status === healthV1.HealthCheckResponse_ServingStatus.SERVING;
  } catch {
    return false;
  } finally {
    client.close();
  }
}

async function httpHealthy(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const response = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
    await response.body?.cancel();
    return response.status >= 200 && response.status < 400;
  } catch {
    return false;
  }
}

function tcpOpen(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Whether one attempt of `probe` succeeds against the pod at `podIp`. */
export function probeOnce(
  probe: IIoK8sApiCoreV1Probe,
  container: IIoK8sApiCoreV1Container,
  podIp: string,
): Promise<boolean> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.grpc) {
    return grpcHealthy(`${podIp}:${probe.grpc.port}`, probe.grpc.service ?? '', timeoutMs);
  }
  if (probe.httpGet) {
    const port = portNumber(probe.httpGet.port, container);
    const path = probe.httpGet.path ?? '/';
    return httpHealthy(
      `${(probe.httpGet.scheme ?? 'HTTP').toLowerCase()}://${podIp}:${port}${path}`,
      timeoutMs,
    );
  }
  if (probe.tcpSocket)
    return tcpOpen(podIp, portNumber(probe.tcpSocket.port, container), timeoutMs);
  throw new Error(`container ${container.name}: a probe kind the rehearsal does not run`);
}
