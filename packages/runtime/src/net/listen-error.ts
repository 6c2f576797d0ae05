// Why a listener could not bind, said in words an operator can act on, naming host:port.

const REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the address is already in use (EADDRINUSE); another process listens on this port',
  EACCES:
    'permission denied (EACCES); ports below 1024 need root or the CAP_NET_BIND_SERVICE capability',
  EADDRNOTAVAIL: 'this machine has no such address (EADDRNOTAVAIL)',
};

/** `host:port`, with brackets around an IPv6 host. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * An Error for a failed bind. `cause` may be a Node error with a `code`, or grpc-js's
 * "No address added ... [listen EADDRINUSE: ...]", which carries the code only in its text.
 */
export function listenError(what: string, host: string, port: number, cause: unknown): Error {
  const text = cause instanceof Error ? cause.message : String(cause);
  const code =
    (cause as { code?: unknown } | null)?.code ??
    Object.keys(REASONS).find((known) => text.includes(known));
  const reason = (typeof code === 'string' ? REASONS[code] : undefined) ?? text;
  return new Error(`${what} cannot listen on ${formatHostPort(host, port)}: ${reason}`, { cause });
}
