import type { CheckIo } from '../../src/index.js';

/** A CheckIo whose output a test can read (and print when an assertion fails). */
export function capturedIo(): CheckIo & { text(): string } {
  let text = '';
  const stream = {
    write(chunk: string) {
      text += chunk;
      return true;
    },
  };
  return { stdout: stream, stderr: stream, env: process.env, text: () => text };
}
