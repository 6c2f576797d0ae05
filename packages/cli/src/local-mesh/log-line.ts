/** A log line, read: what the pretty printer shows and the merge orders by. */
export interface LogLine {
  readonly raw: string;
  /** Milliseconds since the epoch, when the line says (JSON `time`, or NATS' timestamp). */
  readonly time?: number;
  /** `info`, `warn`, ... */
  readonly level?: string;
  readonly msg?: string;
  /** The other fields of a JSON line, minus the ones every line has. */
  readonly fields?: Readonly<Record<string, unknown>>;
}

/** Fields every catmesh log line has, or that the pretty printer shows in its own place. */
const COMMON_FIELDS = new Set(['level', 'time', 'msg', 'service', 'instance', 'pid', 'hostname']);

// nats-server: "[4242] 2026/11/26 11:29:11.707081 [INF] Starting nats-server"
const NATS_LINE =
  /^\[\d+\] (\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d)\.(\d+) \[([A-Z]{3})\] (.*)$/;
const NATS_LEVELS: Readonly<Record<string, string>> = {
  TRC: 'trace',
  DBG: 'debug',
  INF: 'info',
  WRN: 'warn',
  ERR: 'error',
  FTL: 'fatal',
};

/** Reads a line of a catmesh service (JSON, from pino) or of nats-server (text); else raw. */
export function parseLogLine(raw: string): LogLine {
  if (raw.startsWith('{')) {
    try {
      const value = JSON.parse(raw) as Record<string, unknown>;
      const fields: Record<string, unknown> = {};
      for (const [key, field] of Object.entries(value)) {
        if (!COMMON_FIELDS.has(key)) fields[key] = field;
      }
      const time = typeof value['time'] === 'string' ? Date.parse(value['time']) : value['time'];
      return {
        raw,
        ...(typeof time === 'number' && !Number.isNaN(time) && { time }),
        ...(typeof value['level'] === 'string' && { level: value['level'] }),
        ...(typeof value['msg'] === 'string' && { msg: value['msg'] }),
        fields,
      };
    } catch {
      return { raw };
    }
  }
  const nats = NATS_LINE.exec(raw);
  if (nats) {
    const [, year, month, day, hour, minute, second, fraction, level, msg] = nats;
    // nats-server writes local time, to the microsecond.
    const time = new Date(
      Number(year),
      Number(month) - 1,
      Number(day),
      Number(hour),
      Number(minute),
      Number(second),
      Number(fraction!.slice(0, 3).padEnd(3, '0')),
    ).getTime();
    return { raw, time, level: NATS_LEVELS[level!] ?? level!.toLowerCase(), msg: msg! };
  }
  return { raw };
}
