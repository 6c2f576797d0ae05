#!/usr/bin/env node
// The watchdog `catmesh up` starts beside itself (see local-mesh/runner-watchdog.ts): when the
// runner's pipe on stdin closes without a word, it stops what the runner left behind.
import { watchOverRunner } from '../local-mesh/runner-watchdog.js';
import { StateDir } from '../local-mesh/state-dir.js';

const stateDir = process.argv[2];
if (stateDir === undefined) {
  process.stderr.write('usage: mesh-watchdog STATE_DIR (started by catmesh up, not by hand)\n');
  process.exit(2);
}

await watchOverRunner(process.stdin, new StateDir(stateDir), (msg, fields) => {
  const line = {
    level: 'info',
    time: new Date().toISOString(),
    service: 'watchdog',
    msg,
    ...fields,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
});
