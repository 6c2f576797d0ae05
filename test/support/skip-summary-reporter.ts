// Ends every run with the list of what did not run and why, so that a skip is seen rather than
// lost among thousands of passing tests. The reason is the suite's `requires(problem)` (its
// `meta.skipReason`) or the note of `ctx.skip(note)`.
import type { Reporter, TestCase, TestModule } from 'vitest/node';

declare module 'vitest' {
  interface TaskMeta {
    /** Why a suite declared with `requires(problem)` of @catmesh/testkit was skipped. */
    skipReason?: string;
  }
}

/** One line per skipped test: `<file> > <test>: <reason>`. */
function skipSummary(modules: readonly TestModule[]): string[] {
  const lines: string[] = [];
  for (const module of modules) {
    for (const test of module.children.allTests('skipped')) {
      lines.push(`  ${module.relativeModuleId} > ${test.fullName}: ${skipReason(test)}`);
    }
  }
  if (lines.length === 0) return [];
  return [`Skipped (${lines.length}):`, ...lines];
}

function skipReason(test: TestCase): string {
  const result = test.result();
  const note = result.state === 'skipped' ? result.note : undefined;
  if (note !== undefined && note !== '') return note;
  if (test.options.mode === 'todo') return 'todo';
  return test.meta().skipReason ?? 'no reason given';
}

export default class SkipSummaryReporter implements Reporter {
  onTestRunEnd(modules: readonly TestModule[]): void {
    const lines = skipSummary(modules);
    if (lines.length > 0) process.stdout.write(`\n${lines.join('\n')}\n`);
  }
}
