// Writes the ChaosExperiment CRD that the chart installs, generated from the experiment schema.
//
//   (no flag)  write helm/catmesh/crds/chaosexperiments.catmesh.dev.yaml (`make crd`)
//   --check    exit 1 if the committed file differs from what the schema gives now (`make lint`)
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { experimentCrdYaml } from '../src/experiment/experiment-crd.js';

const CRD_FILE = fileURLToPath(
  new URL('../../../helm/catmesh/crds/chaosexperiments.catmesh.dev.yaml', import.meta.url),
);
const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });

const wanted = experimentCrdYaml();
if (!values.check) {
  writeFileSync(CRD_FILE, wanted);
  console.log(`wrote ${CRD_FILE}`);
} else {
  let committed = '';
  try {
    committed = readFileSync(CRD_FILE, 'utf8');
  } catch {
    // A missing file is drift too.
  }
  if (committed !== wanted) {
    console.error(`${CRD_FILE} is stale: run 'make crd' and commit the result`);
    process.exit(1);
  }
  console.log('helm/catmesh/crds: the ChaosExperiment CRD matches the experiment schema');
}
