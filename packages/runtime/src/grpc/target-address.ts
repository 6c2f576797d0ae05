/** The host and port a gRPC target or peer string names, for `server.*`/`network.peer.*` attributes. */
export interface HostPort {
  readonly host: string;
  readonly port?: number;
}

// `host:port`, `[v6]:port`, `dns:///host:port`, `dns://resolver/host:port`, `ipv4:`/`ipv6:` forms.
const TARGET =
  /^(?:dns:(?:\/\/[^/]*\/)?|ipv4:|ipv6:)?(?:\[(?<v6>[^\]]+)\]|(?<name>[^:/[\]]+))(?::(?<port>\d+))?$/;

/** Parses a target like `inventory:50051`; undefined for forms without a host (e.g. `unix:`). */
export function parseHostPort(target: string): HostPort | undefined {
  const match = TARGET.exec(target);
  const host = match?.groups?.v6 ?? match?.groups?.name;
  if (host === undefined) return undefined;
  const port = match?.groups?.port;
  return port === undefined ? { host } : { host, port: Number(port) };
}
