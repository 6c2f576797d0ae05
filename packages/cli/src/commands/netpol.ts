import { commandGroup } from '../command-group.js';
import { EXIT_CODES_HELP } from '../exit-codes.js';
import { checkCommand } from './netpol/check.js';
import { matrixCommand } from './netpol/matrix.js';

export const netpolCommand = commandGroup({
  name: 'netpol',
  summary: 'read the network rules (NetworkPolicies) of rendered manifests',
  description: `The mesh's network rules as a person can read them: the allow matrix computed from
rendered manifests' NetworkPolicies (\`helm template catmesh helm/catmesh | catmesh netpol
matrix -\`), and a check of it against the service graph the chart declares. Bad manifests
(not YAML, an unknown field in a policy, a named port no container has) are refused naming the
document and the field (exit 2).`,
  commands: [matrixCommand, checkCommand],
  epilog: EXIT_CODES_HELP,
});
