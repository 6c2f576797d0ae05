import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface ServingCertificate {
  readonly key: string;
  /** PEM; also the CA a kubeconfig trusts, as the certificate signs itself. */
  readonly cert: string;
}

// One certificate per set of names for the life of the process: openssl takes a noticeable part
// of a second, and a suite starts many servers.
const cache = new Map<string, Promise<ServingCertificate>>();

/**
 * A self-signed certificate for `host`, 127.0.0.1, localhost and kubernetes.default.svc (the
 * name in-cluster clients may dial). Clients refuse plain HTTP (client-node does unless told to
 * skip TLS checks, and in-cluster config is https only), so the fake serves TLS as kube-apiserver
 * does, with openssl(1) making the key pair because node:crypto cannot sign X.509.
 */
export function servingCertificate(host: string): Promise<ServingCertificate> {
  const names = [...new Set([host, '127.0.0.1', 'localhost', 'kubernetes.default.svc'])].map(
    (name) => (isIP(name) === 0 ? `DNS:${name}` : `IP:${name}`),
  );
  const key = names.join(',');
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const made = makeCertificate(key);
  // A failure (openssl missing) is not remembered, so the next start says it again.
  made.catch(() => cache.delete(key));
  cache.set(key, made);
  return made;
}

async function makeCertificate(subjectAltNames: string): Promise<ServingCertificate> {
  const directory = await mkdtemp(join(tmpdir(), 'fake-kube-tls-'));
  try {
    const key = join(directory, 'key.pem');
    const cert = join(directory, 'cert.pem');
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=fake-kube-apiserver',
      '-addext',
      `subjectAltName=${subjectAltNames}`,
      '-keyout',
      key,
      '-out',
      cert,
    ]);
    return { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
