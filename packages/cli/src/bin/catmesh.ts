#!/usr/bin/env node
// The `catmesh` executable: the process's streams, environment and Ctrl-C wired to runCli.
import { runCli } from '../run-cli.js';

const interrupt = new AbortController();
// Once: a second Ctrl-C finds no listener and kills the process the default way.
process.once('SIGINT', () => interrupt.abort());

// `catmesh kv watch | head -1`: the reader has gone, which ends the command, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
}

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  // A getter: touching process.stdin opens it, which only `--stdin` should do.
  get stdin() {
    return process.stdin;
  },
  env: process.env,
  signal: interrupt.signal,
  signals: process,
});
