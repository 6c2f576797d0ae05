import { commandGroup } from '../command-group.js';
import { EXIT_CODES_HELP } from '../exit-codes.js';
import { listCommand } from './chaos/list.js';
import { reportCommand } from './chaos/report.js';
import { runCommand } from './chaos/run.js';
import { statusCommand } from './chaos/status.js';
import { stopCommand } from './chaos/stop.js';

export const chaosCommand = commandGroup({
  name: 'chaos',
  summary: 'run chaos experiments against the local mesh and read their reports',
  description: `Chaos experiments: faults (latency, loss, reject, partition, bandwidth, pause, kill)
applied to the mesh \`catmesh up\` runs, judged by a workload the experiment sends itself, with
a report on what the fault did to availability, latency and correctness. The library of
experiments is k8s/experiments/ (\`catmesh chaos list\`).`,
  commands: [runCommand, listCommand, statusCommand, stopCommand, reportCommand],
  epilog: EXIT_CODES_HELP,
});
