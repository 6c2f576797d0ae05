import type { LogLine } from './log-line.js';

const RESET = '\x1b[0m';
const DIM = '\x1b[2m';
const CYAN = '\x1b[36m';
const LEVEL_COLOURS: Readonly<Record<string, string>> = {
  trace: '\x1b[90m',
  debug: '\x1b[34m',
  info: '\x1b[32m',
  warn: '\x1b[33m',
  error: '\x1b[31m',
  fatal: '\x1b[35m',
};

export interface PrettyOptions {
  /** The instance's name, padded to `nameWidth`; none when only one instance is shown. */
  readonly name?: string;
  readonly nameWidth: number;
  readonly colour: boolean;
}

/** `11:29:11.707 INFO  cat-feeder-1  replica serving  id=1 port=7101`, for people. */
export function prettyLogLine(line: LogLine, options: PrettyOptions): string {
  const paint = (colour: string, text: string): string =>
    options.colour ? `${colour}${text}${RESET}` : text;
  const name =
    options.name === undefined ? '' : `${paint(CYAN, options.name.padEnd(options.nameWidth))}  `;
  if (line.msg === undefined && line.level === undefined) return `${name}${line.raw}`;
  const time = line.time === undefined ? '--:--:--.---' : clockTime(line.time);
  const level = (line.level ?? '').toUpperCase().padEnd(5);
  const fields = Object.entries(line.fields ?? {})
    .map(([key, value]) => `${paint(DIM, `${key}=`)}${fieldText(value)}`)
    .join(' ');
  return [
    `${paint(DIM, time)} ${paint(LEVEL_COLOURS[line.level ?? ''] ?? '', level)} ${name}${line.msg ?? ''}`,
    fields,
  ]
    .filter((part) => part !== '')
    .join('  ');
}

/** `name | line`: a raw line from one of several instances. */
export function prefixedLine(name: string, nameWidth: number, raw: string): string {
  return `${name.padEnd(nameWidth)} | ${raw}`;
}

function clockTime(ms: number): string {
  const date = new Date(ms);
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** A field's value on one line: an error by its message, text bare unless it has spaces. */
function fieldText(value: unknown): string {
  if (typeof value === 'string')
    return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  if (value !== null && typeof value === 'object' && 'message' in value) {
    const { type, message } = value as { type?: unknown; message?: unknown };
    return JSON.stringify(
      typeof type === 'string' ? `${type}: ${String(message)}` : String(message),
    );
  }
  return JSON.stringify(value) ?? String(value);
}
