import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface ServingCertificate {
  readonly key: string;
  /** PEM; also the CA a kubeconfig trusts, as the certificate signs itself. */
  readonly cert: string;
}

/**
 * A fresh self-signed certificate for 127.0.0.1. Clients refuse plain HTTP (client-node does
 * unless told to skip TLS checks, and in-cluster config is https only), so the fake serves TLS as
 * kube-apiserver does, with openssl(1) making the key pair because node:crypto cannot sign X.509.
 */
export async function servingCertificate(): Promise<ServingCertificate> {
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
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
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
