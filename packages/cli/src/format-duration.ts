/** `5s` for 5000, `1500ms` for 1500: durations the way `--timeout` takes them. */
export function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
