#!/usr/bin/env node
// The installed `catmesh` command. The CLI is compiled into dist/ by `make build`, which runs
// after `npm ci` has linked this file, so the link cannot point into dist/ itself.
import process from 'node:process';

try {
  await import('../dist/bin/catmesh.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/bin')) {
    throw error;
  }
  process.stderr.write('catmesh: the CLI is not built yet: run `make build` first\n');
  process.exitCode = 2;
}
