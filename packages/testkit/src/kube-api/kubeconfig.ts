import { writeFile } from 'node:fs/promises';

/**
 * A kubeconfig for one server, its CA and a bearer token, readable by kubectl and client-node
 * alike. JSON is valid YAML, so no YAML writer is needed.
 */
export async function writeKubeconfig(
  path: string,
  server: string,
  ca: string,
  token: string,
): Promise<void> {
  const cluster = { server, 'certificate-authority-data': Buffer.from(ca).toString('base64') };
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'fake', cluster }],
    users: [{ name: 'fake', user: { token } }],
    contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake', namespace: 'default' } }],
    'current-context': 'fake',
  };
  await writeFile(path, JSON.stringify(config, null, 2));
}
