// What stands in for each image here. The catmesh image is this checkout's built output (each
// service's dist/, the dashboard's with its page in dist/page), mounted read-only at /app as the
// Dockerfile lays it out, with the Dockerfile's ENV; nats is the host's nats-server. The "image"
// root file system is the host's /usr and /etc (pod-sandbox.ts), so the programs are the host's:
// Node.js 20 rather than the image's 24, nats-server 2.9 rather than 2.10.
import { existsSync, readFileSync } from 'node:fs';
import { REPO_ROOT } from '../helm-chart.js';
import type { SandboxMount } from './pod-sandbox.js';

export interface LocalImage {
  readonly mounts: readonly SandboxMount[];
  readonly env: Readonly<Record<string, string>>;
}

// The PATH of the node and nats images.
const IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The ENV lines of the Dockerfile's last stage: what every catmesh container starts with. */
function dockerfileEnv(): Record<string, string> {
  const text = readFileSync(`${REPO_ROOT}Dockerfile`, 'utf8');
  const lastStage = text.slice(text.lastIndexOf('\nFROM '));
  return Object.fromEntries(
    [...lastStage.matchAll(/^ENV ([A-Za-z_][A-Za-z0-9_]*)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]),
  );
}

export function localImage(image: string): LocalImage {
  const repository = image.slice(0, image.lastIndexOf(':'));
  if (repository === 'catmesh' || repository.endsWith('/catmesh')) {
    const services = [
      'cat-feeder',
      'inventory',
      'orders',
      'loadgen',
      'chaos-controller',
      'dashboard',
    ];
    const mains = services.map((service) => `services/${service}/dist/main.js`);
    for (const built of [...mains, 'packages/cli/dist/bin/catmesh.js']) {
      if (!existsSync(`${REPO_ROOT}${built}`)) {
        throw new Error(`${built} is missing: run npx tsc -b tsconfig.build.json`);
      }
    }
    // The dashboard's page is no output of tsc: the Dockerfile builds it into the server's dist/.
    for (const file of ['index.html', 'app.js', 'app.css']) {
      const built = `services/dashboard/dist/page/${file}`;
      if (!existsSync(`${REPO_ROOT}${built}`)) {
        throw new Error(`${built} is missing: run make build`);
      }
    }
    return {
      mounts: [{ source: REPO_ROOT, target: '/app', readOnly: true }],
      env: { PATH: IMAGE_PATH, ...dockerfileEnv() },
    };
  }
  if (repository === 'nats') return { mounts: [], env: { PATH: IMAGE_PATH } };
  throw new Error(`the rehearsal has no local stand-in for image ${image}`);
}
