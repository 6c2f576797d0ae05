import { describe, expect, it } from 'vitest';
import { catmesh } from './support/run-catmesh.js';

// None of these reaches a server: the command line is checked before anything is sent.
const usageErrors: [args: string[], message: string, help: string][] = [
  [
    [],
    'missing command; one of: up, down, status, logs, kv, order, check, chaos, netpol',
    'catmesh',
  ],
  [
    ['feed'],
    "unknown command 'feed'; one of: up, down, status, logs, kv, order, check, chaos, netpol",
    'catmesh',
  ],
  [
    ['kv'],
    'missing command; one of: get, put, cas, del, watch, status, member, transfer-leader',
    'catmesh kv',
  ],
  [
    ['kv', 'gte', 'k'],
    "unknown command 'gte'; one of: get, put, cas, del, watch, status, member, transfer-leader",
    'catmesh kv',
  ],
  [
    ['--bogus', 'kv'],
    "unknown option --bogus; an argument starting with '-' goes after '--'",
    'catmesh',
  ],
  [
    ['kv', 'get', 'k', '--bogus'],
    "unknown option --bogus; an argument starting with '-' goes after '--'",
    'catmesh kv get',
  ],
  [['kv', 'get'], 'missing KEY', 'catmesh kv get'],
  [
    ['check', '--target', 'nope'],
    '--target: must be cat-feeder or etcd, got "nope"',
    'catmesh check',
  ],
  [['kv', 'get', 'k', 'extra'], "unexpected argument 'extra'", 'catmesh kv get'],
  [['kv', 'get', 'k', '--consistency'], 'option --consistency needs a value', 'catmesh kv get'],
  [
    ['kv', 'get', 'k', '--consistency', 'eventual'],
    "--consistency: expected linearizable, lease or stale, got 'eventual'",
    'catmesh kv get',
  ],
  [['kv', 'get', 'k', '--json=yes'], 'option --json takes no value', 'catmesh kv get'],
  [['kv', 'put', 'k'], 'missing VALUE', 'catmesh kv put'],
  [['kv', 'put', 'k', 'v', '--stdin'], 'give VALUE or --stdin, not both', 'catmesh kv put'],
  [
    ['kv', 'cas', 'k', 'v', '--expect-revision', 'twelve'],
    "--expect-revision: expected an integer >= 1, got 'twelve'",
    'catmesh kv cas',
  ],
  [
    ['kv', 'watch', '--count', '0'],
    "--count: expected an integer >= 1, got '0'",
    'catmesh kv watch',
  ],
  [
    ['kv', 'member', 'add', 'three', 'h:1'],
    "ID: expected an integer >= 1, got 'three'",
    'catmesh kv member add',
  ],
  [
    ['kv', 'member', 'join'],
    "unknown command 'join'; one of: add, remove, promote",
    'catmesh kv member',
  ],
  [
    ['kv', 'get', 'k', '--timeout', 'soon'],
    "--timeout: expected a duration of at least 1ms with its unit, such as 500ms, 5s or 2m, got 'soon'",
    'catmesh kv get',
  ],
  [
    ['kv', 'get', 'k', '--timeout', '5'],
    "--timeout: expected a duration of at least 1ms with its unit, such as 500ms, 5s or 2m, got '5'",
    'catmesh kv get',
  ],
  [
    ['check', '--target', 'cat-feeder', '--duration', '5'],
    "--duration: expected a duration with its unit, such as 500ms, 5s or 2m, got '5'",
    'catmesh check',
  ],
  [
    ['--endpoints', 'localhost', 'kv', 'get', 'k'],
    "--endpoints: expected host:port[,host:port...], got 'localhost'",
    'catmesh kv get',
  ],
  [
    ['kv', 'get', 'k', '--endpoints', 'a:1,b:99999'],
    "--endpoints: expected host:port[,host:port...], got 'a:1,b:99999'",
    'catmesh kv get',
  ],
];

describe('usage errors', () => {
  it.each(usageErrors)(
    'catmesh %j: exit 2 with one line naming the problem',
    async (args, message, help) => {
      const run = await catmesh(args);
      expect(run).toEqual(
        expect.objectContaining({
          code: 2,
          stdout: '',
          stderr: `catmesh: ${message} (see '${help} --help')\n`,
        }),
      );
    },
  );

  it('a bad CATMESH_ENDPOINTS is named', async () => {
    const run = await catmesh(['kv', 'get', 'k'], { env: { CATMESH_ENDPOINTS: 'nope' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      "catmesh: CATMESH_ENDPOINTS: expected host:port[,host:port...], got 'nope' (see 'catmesh kv get --help')\n",
    );
  });

  it('a value starting with - goes after --', async () => {
    const run = await catmesh(['kv', 'put', 'k', '-1']);
    expect(run.code).toBe(2);
    // After '--' it is a value: the command line is accepted and the put is attempted.
    const accepted = await catmesh([
      'kv',
      'put',
      '--timeout',
      '1ms',
      '--endpoints',
      '127.0.0.1:1',
      '--',
      'k',
      '-1',
    ]);
    expect(accepted.code).toBe(3);
  });
});

describe('--help', () => {
  it.each([
    [['--help'], 'Usage: catmesh <command>'],
    [['-h'], 'Usage: catmesh <command>'],
    [['kv', '--help'], 'Usage: catmesh kv <command>'],
    [['kv', 'get', '--help'], 'Usage: catmesh kv get KEY'],
    [['kv', 'watch', '-h'], 'Usage: catmesh kv watch [PREFIX]'],
    [['kv', 'member', '--help'], 'Usage: catmesh kv member <command>'],
    [['kv', 'member', 'add', '--help'], 'Usage: catmesh kv member add ID ADDRESS [--learner]'],
  ])('catmesh %j prints help on stdout, exit 0', async (args, usage) => {
    const run = await catmesh(args);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout.startsWith(usage)).toBe(true);
  });

  it('documents the exit codes and the global options', async () => {
    const { stdout } = await catmesh(['--help']);
    for (const text of ['Exit codes:', '--endpoints', 'CATMESH_ENDPOINTS', '--timeout', '--json']) {
      expect(stdout).toContain(text);
    }
    expect(stdout).toMatch(/^ {2}3 {4}no endpoint could serve/m);
  });
});
