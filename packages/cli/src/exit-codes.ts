/** The exit codes of every catmesh command; scripts depend on them, so they only ever grow. */
export const ExitCode = {
  ok: 0,
  /** The answer was no: key not found, compare failed, or the request was refused. */
  negative: 1,
  usage: 2,
  /** No endpoint could serve the request before the timeout. */
  unavailable: 3,
  /** Ctrl-C (128 + SIGINT, as shells report it). */
  interrupted: 130,
} as const;

export const EXIT_CODES_HELP = `Exit codes:
  0    success
  1    the answer was no: key not found, compare failed, or the server refused the request
       (e.g. INVALID_ARGUMENT, printed as "catmesh: <code>: <details>")
  2    usage error: unknown command or option, missing or bad argument
  3    no endpoint could serve the request before --timeout (every one UNAVAILABLE,
       unreachable or too slow); a write may or may not have been applied
  130  interrupted (Ctrl-C); \`kv watch\` exits 0 instead, Ctrl-C being how it ends`;
