// The experiments panel: the experiment running now, step by step (pending, in force with its
// countdown, reverted, failed), and the reports of the ones before it, each opening the HTML
// report that `catmesh chaos run` wrote.
import type {
  ExperimentStepView,
  ExperimentsView,
  PastExperimentView,
  RunningExperimentView,
} from '../src/dashboard-snapshot.js';
import { h } from './dom.js';
import { clock, remaining, sourceLine } from './format.js';

/** What each phase of a run is, in the words of the experiment's report. */
const PHASES: Readonly<Record<string, string>> = {
  starting: 'starting: checking the mesh and restocking',
  before: 'measuring the steady state',
  during: 'fault window: the steps are in force',
  after: 'watching the recovery',
  settle: 'waiting for the last orders to end',
  check: 'checking invariants and linearizability, writing the report',
};

/** A verdict in words and a mark, so that none depends on its colour. */
const HYPOTHESIS: Readonly<Record<string, { text: string; good: boolean }>> = {
  held: { text: '✔ held', good: true },
  recovered: { text: '↻ recovered', good: true },
  violated: { text: '✖ violated', good: false },
  inconclusive: { text: '? inconclusive', good: false },
};

export function experimentsView(experiments: ExperimentsView, nowMs: number): Node {
  if (!experiments.source.up) {
    return h('p', { class: 'down' }, `✖ ${sourceLine(experiments.source)}`);
  }
  return h(
    'div',
    {},
    ...experiments.running.map((run) => runningView(run, nowMs)),
    experiments.running.length === 0 &&
      h(
        'p',
        {},
        'No experiment is running. Start one from the library: catmesh chaos run k8s/experiments/kill-the-leader.yaml',
      ),
    h('h3', {}, 'Past experiments'),
    experiments.past.length === 0
      ? h('p', {}, 'None yet: each run of catmesh chaos run writes its report here.')
      : pastTable(experiments.past),
  );
}

function runningView(run: RunningExperimentView, nowMs: number): Node {
  return h(
    'div',
    { class: 'running', 'data-run': run.run },
    h('h3', {}, `Running: ${run.experiment}`),
    h(
      'p',
      { 'data-phase': run.phase },
      `${PHASES[run.phase] ?? run.phase} (since ${clock(run.phaseSinceMs)})`,
      run.endsAtMs !== undefined &&
        run.endsAtMs > nowMs &&
        h(
          'span',
          {
            'data-expires': String(run.endsAtMs),
            'data-prefix': ' · recovery window ends in ',
            'data-ended': '',
          },
          ` · recovery window ends in ${remaining(run.endsAtMs, nowMs)}`,
        ),
    ),
    h(
      'ol',
      { class: 'steps', 'aria-label': `Steps of ${run.experiment}` },
      ...run.steps.map((step) => stepView(step, nowMs)),
    ),
  );
}

function stepView(step: ExperimentStepView, nowMs: number): Node {
  const countdown = (prefix: string, atMs: number) =>
    h(
      'span',
      { 'data-expires': String(atMs), 'data-prefix': prefix },
      `${prefix}${remaining(atMs, nowMs)}`,
    );
  const state = (() => {
    switch (step.state) {
      case 'applied':
        return [
          h('span', { class: 'fault' }, '⚡ in force'),
          ' · ',
          countdown('reverts in ', (step.appliedAtMs ?? nowMs) + step.durationMs),
          step.targets.length > 0 && ` · held by ${step.targets.join(', ')}`,
        ];
      case 'reverted':
        return [h('span', { class: 'up' }, '✔ reverted')];
      case 'failed':
        return [h('span', { class: 'down' }, `✖ failed: ${step.error ?? '?'}`)];
      default:
        return [
          '○ pending',
          step.startsAtMs !== undefined && ' · ',
          step.startsAtMs !== undefined && countdown('starts in ', step.startsAtMs),
        ];
    }
  })();
  return h(
    'li',
    { 'data-step': step.name, 'data-state': step.state },
    h('strong', {}, step.name),
    `: ${step.description} — `,
    ...state,
  );
}

function pastTable(past: readonly PastExperimentView[]): Node {
  return h(
    'div',
    { class: 'table-scroll' },
    h(
      'table',
      { 'aria-label': 'Past experiments' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['Started', 'Experiment', 'Steady state', 'Correctness', 'Findings', 'Report'].map(
            (t) => h('th', { scope: 'col' }, t),
          ),
        ),
      ),
      h('tbody', {}, ...past.map(pastRow)),
    ),
  );
}

function pastRow(run: PastExperimentView): Node {
  if (run.kind === 'unreadable') {
    return h(
      'tr',
      { 'data-run': run.run },
      h('td', { class: 'when' }, clock(run.startedAtMs)),
      h('td', {}, run.run),
      h('td', { class: 'down', colspan: '4' }, `✖ its report.json cannot be read: ${run.reason}`),
    );
  }
  if (run.kind === 'abandoned') {
    return h(
      'tr',
      { 'data-run': run.run },
      h('td', { class: 'when' }, clock(run.startedAtMs)),
      h('td', {}, run.experiment),
      h(
        'td',
        { class: 'down', colspan: '4' },
        `✖ abandoned: its runner (pid ${run.pid}) ended during "${run.phase}" without writing a report; its faults expired on their own`,
      ),
    );
  }
  const hypothesis = HYPOTHESIS[run.hypothesis] ?? { text: run.hypothesis, good: false };
  return h(
    'tr',
    { 'data-run': run.run },
    h('td', { class: 'when' }, clock(run.startedAtMs)),
    h('td', {}, run.experiment, run.interrupted && ' (interrupted)'),
    h('td', { class: `verdict ${hypothesis.good ? 'up' : 'down'}` }, hypothesis.text),
    h('td', {}, ...correctness(run)),
    h('td', {}, h('div', { class: 'findings' }, run.findings.join(' '))),
    h('td', {}, h('a', { href: run.reportPath, target: '_blank', rel: 'noopener' }, 'open')),
  );
}

function correctness(run: Extract<PastExperimentView, { kind: 'report' }>): Node[] {
  const parts: Node[] = [];
  if (run.linearizability !== undefined) {
    const ok = run.linearizability === 'ok';
    parts.push(
      h(
        'span',
        { class: ok ? 'up' : 'down' },
        ok ? '✔ linearizable' : `✖ linearizability: ${run.linearizability}`,
      ),
    );
  }
  if (run.invariantsHold !== undefined) {
    if (parts.length > 0) parts.push(document.createTextNode(' · '));
    parts.push(
      h(
        'span',
        { class: run.invariantsHold ? 'up' : 'down' },
        run.invariantsHold ? '✔ shop invariants' : '✖ a shop invariant broke',
      ),
    );
  }
  if (parts.length === 0) parts.push(document.createTextNode('–'));
  parts.push(
    document.createTextNode(
      ` · ${run.leaderChanges} leader change${run.leaderChanges === 1 ? '' : 's'}`,
    ),
  );
  return parts;
}
