import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { withEdits, type JsonEdit } from '@catmesh/testkit';
import { describe, expect, it } from 'vitest';
import { ExperimentError, parseExperiment, readLibrary } from '../src/index.js';

const LIBRARY = fileURLToPath(new URL('../../../k8s/experiments/', import.meta.url));
const latencyFile = `${LIBRARY}latency-is-zero.yaml`;

/** The issues of a rejected experiment, as `path: message` lines. */
function issuesOf(text: string): string[] {
  try {
    parseExperiment(text, 'test.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ExperimentError);
    return (error as ExperimentError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('the experiment was accepted');
}

/** The library's latency experiment as JSON, with values set at paths. */
async function edited(...edits: JsonEdit[]): Promise<string> {
  const experiment = parseExperiment(await readFile(latencyFile, 'utf8'), 'latency');
  return JSON.stringify(withEdits(experiment, ...edits));
}

describe('experiment files', () => {
  it('accepts every experiment of the library, YAML as written', async () => {
    const entries = await readLibrary(LIBRARY);
    expect(entries.length).toBeGreaterThanOrEqual(14);
    for (const { experiment } of entries) {
      expect(experiment.kind).toBe('ChaosExperiment');
      expect(experiment.spec.description.length).toBeGreaterThan(40);
    }
  });

  it('names an unknown fault kind', async () => {
    expect(issuesOf(await edited(['spec.steps[0].fault', { kind: 'meteor' }]))).toEqual([
      'spec.steps[0].fault.kind: must be one of "latency", "loss", "reject", "partition", "bandwidth", "pause", "kill"',
    ]);
  });

  it('names a negative, unitless or zero duration', async () => {
    expect(issuesOf(await edited(['spec.steps[0].duration', '-5s']))).toEqual([
      'spec.steps[0].duration: must be a duration like 500ms, 10s or 2m (no sign, a unit always)',
    ]);
    expect(issuesOf(await edited(['spec.steadyState.before', 10]))).toEqual([
      'spec.steadyState.before: must be string',
    ]);
    expect(issuesOf(await edited(['spec.steps[0].duration', '0']))).toEqual([
      'spec.steps[0].duration: must be longer than 0',
    ]);
  });

  it('names an unknown field anywhere, never ignores it', async () => {
    expect(issuesOf(await edited(['spec.steps[0].target.servce', 'orders']))).toEqual([
      'spec.steps[0].target.servce: unknown field',
    ]);
    expect(issuesOf(await edited(['spec.stepz', []]))).toEqual(['spec.stepz: unknown field']);
  });

  it('checks the rules that span fields', async () => {
    expect(issuesOf(await edited(['spec.steps[0].fault', { kind: 'kill' }]))).toEqual([
      'spec.steps[0].fault.kind: the app mechanism cannot inject kill (process can)',
      'spec.steps[0].peers: a kill fault acts on the target alone',
      'spec.steps[0].direction: a kill fault has no direction',
      'spec.steps[0].transports: a kill fault does not act on transports',
    ]);
    expect(issuesOf(await edited(['spec.steps[0].fault', { kind: 'latency' }]))).toEqual([
      'spec.steps[0].fault.delay: required for a latency fault',
    ]);
    expect(issuesOf(await edited(['spec.steps[0].fault.probability', 0.5]))).toEqual([
      'spec.steps[0].fault.probability: not a field of a latency fault',
    ]);
    expect(
      issuesOf(await edited(['spec.steps[0].target', { service: 'orders', role: 'leader' }])),
    ).toEqual(['spec.steps[0].target.role: a role needs `service: cat-feeder`']);
    expect(
      issuesOf(
        await edited(['spec.steadyState.hypothesis', [{ sli: 'register.p99Ms', atMost: 5 }]]),
      ),
    ).toEqual([
      'spec.steadyState.hypothesis[0].sli: spec.workload.register is not part of the workload',
    ]);
    // The network mechanisms cut whole connections: partitions only, no transports.
    expect(issuesOf(await edited(['spec.steps[0].mechanism', 'networkpolicy']))).toEqual([
      'spec.steps[0].fault.kind: the networkpolicy mechanism cannot inject latency (app can)',
      'spec.steps[0].transports: the networkpolicy mechanism cuts every connection, whatever the transport',
    ]);
    expect(
      issuesOf(
        await edited(
          ['spec.steps[0].mechanism', 'netfilter'],
          ['spec.steps[0].fault', { kind: 'partition' }],
          ['spec.steps[0].direction', undefined],
        ),
      ),
    ).toEqual([
      'spec.steps[0].transports: the netfilter mechanism cuts every connection, whatever the transport',
    ]);
    const step = JSON.parse(await edited()) as { spec: { steps: unknown[] } };
    expect(issuesOf(await edited(['spec.steps[+]', step.spec.steps[0]]))).toEqual([
      'spec.steps[1].name: used by an earlier step',
    ]);
  });

  it('lists every problem at once', async () => {
    const issues = issuesOf(
      await edited(
        ['spec.steps[0].duration', 'soon'],
        ['spec.workload.orders.ratePerSecond', -1],
        ['metadata.name', 'Not A DNS Label'],
      ),
    );
    expect(issues).toHaveLength(3);
    expect(issues.join('\n')).toMatch(/metadata\.name/);
    expect(issues.join('\n')).toMatch(/spec\.workload\.orders\.ratePerSecond/);
  });

  it('refuses what is not one YAML document', () => {
    expect(issuesOf('a: [1, 2')[0]).toMatch(/^: not YAML/);
    expect(issuesOf('a: 1\n---\nb: 2\n')).toEqual([
      ': expected one YAML or JSON document, found 2',
    ]);
    expect(issuesOf('just text')[0]).toBe(': must be object');
  });
});
