import { describe, expect, it } from 'vitest';
import { CheckUsageError, parseCheckArgs, resolveCheckOptions, runCheck } from '../src/index.js';
import { capturedIo } from './support/captured-io.js';

function usageError(run: () => unknown): CheckUsageError {
  try {
    run();
  } catch (error) {
    if (error instanceof CheckUsageError) return error;
    throw error;
  }
  throw new Error('expected a CheckUsageError');
}

describe('the command line', () => {
  it('reads the documented options', () => {
    const options = parseCheckArgs([
      '--target',
      'cat-feeder',
      '--duration',
      '60s',
      '--seed',
      '7',
      '--nemesis',
      'partition-random-halves,kill,pause',
      '--read-consistency',
      'stale',
      '--clients',
      '5',
      '--out',
      '/tmp/x',
    ]);
    expect(options).toMatchObject({
      target: 'cat-feeder',
      durationMs: 60_000,
      seed: 7,
      nemeses: ['partition-random-halves', 'kill', 'pause'],
      readConsistency: 'stale',
      clients: 5,
      outDir: '/tmp/x',
    });
  });

  it('fills in defaults', () => {
    const options = resolveCheckOptions({ target: 'etcd' });
    expect(options).toMatchObject({
      durationMs: 60_000,
      seed: 1,
      readConsistency: 'linearizable',
      clients: 5,
      nodes: 3,
      opTimeoutMs: 1_000,
      checkTimeoutMs: 60_000,
    });
    expect(options.nemeses.length).toBeGreaterThan(0);
    expect(parseCheckArgs(['--target', 'etcd', '--nemesis', 'none'])).toMatchObject({
      nemeses: [],
    });
  });

  it('names the option at fault', () => {
    expect(usageError(() => parseCheckArgs([])).option).toBe('--target');
    expect(usageError(() => parseCheckArgs(['--target', 'redis'])).option).toBe('--target');
    expect(
      usageError(() => parseCheckArgs(['--target', 'etcd', '--nemesis', 'partition-everything']))
        .message,
    ).toMatch(/unknown nemesis "partition-everything"/);
    expect(usageError(() => parseCheckArgs(['--target', 'etcd', '--clients', 'many'])).option).toBe(
      '--clients',
    );
    expect(
      usageError(() => parseCheckArgs(['--target', 'etcd', '--duration', 'soon'])).option,
    ).toBe('--duration');
    expect(usageError(() => parseCheckArgs(['--target', 'etcd', '--bogus'])).option).toBe(
      'arguments',
    );
  });

  it('refuses combinations the target or the cluster cannot do', () => {
    expect(
      usageError(() => resolveCheckOptions({ target: 'etcd', readConsistency: 'lease' })).message,
    ).toMatch(/etcd has no lease reads/);
    expect(
      usageError(() =>
        resolveCheckOptions({ target: 'cat-feeder', nemeses: ['partition-majorities-ring'] }),
      ).message,
    ).toMatch(/needs --nodes 5/);
    expect(usageError(() => resolveCheckOptions({ target: 'cat-feeder', nodes: 4 })).option).toBe(
      '--nodes',
    );
    // etcd has no power-loss journal: its power loss would only be a kill.
    expect(
      usageError(() => resolveCheckOptions({ target: 'etcd', nemeses: ['power-loss'] })).message,
    ).toMatch(/power-loss needs --target cat-feeder/);
    expect(resolveCheckOptions({ target: 'cat-feeder', nemeses: ['power-loss'] }).nemeses).toEqual([
      'power-loss',
    ]);
  });

  it('reads durations with their unit, and refuses a bare number naming the accepted forms', () => {
    const durationsOf = (...args: string[]) => parseCheckArgs(['--target', 'cat-feeder', ...args]);
    expect(
      durationsOf('--duration', '1.5s', '--op-timeout', '500ms', '--check-timeout', '2m'),
    ).toMatchObject({ durationMs: 1_500, opTimeoutMs: 500, checkTimeoutMs: 120_000 });
    expect(durationsOf('--duration', '1h')).toMatchObject({ durationMs: 3_600_000 });
    for (const option of ['--duration', '--op-timeout', '--check-timeout']) {
      const error = usageError(() => parseCheckArgs(['--target', 'etcd', option, '20']));
      expect(error.option).toBe(option);
      expect(error.message).toBe(
        `${option}: expected a duration with its unit, such as 500ms, 5s or 2m, got '20'`,
      );
    }
  });

  it('answers a usage error with exit code 2 before starting anything', async () => {
    const io = capturedIo();
    const run = await runCheck({ target: 'cat-feeder', clients: 0 }, io);
    expect(run).toEqual({ exitCode: 2 });
    expect(io.text()).toMatch(/--clients: must be a whole number from 1/);
  });
});
