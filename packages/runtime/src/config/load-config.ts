import type { EnvType } from './env-types.js';

/** The environment as `main.ts` sees it (`process.env`); nothing below main reads it directly. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** One environment variable of a config schema: its name, its type and what happens when unset. */
export interface EnvVar<T> {
  readonly variable: string;
  readonly expected: string;
  /** Reads the raw value (undefined or empty means unset); throws ConfigError if it is bad. */
  read(raw: string | undefined): T;
}

/** A config schema: field name → variable. `loadConfig` turns it into a typed object. */
export type ConfigSchema = Readonly<Record<string, EnvVar<unknown>>>;

/** The typed object a schema produces. */
export type ConfigOf<S extends ConfigSchema> = {
  readonly [K in keyof S]: S[K] extends EnvVar<infer T> ? T : never;
};

/** A variable is missing or holds a value its type does not accept. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    readonly variable: string,
    /** The offending value; undefined when a required variable is unset. */
    readonly value: string | undefined,
    readonly expected: string,
  ) {
    // JSON quoting keeps the message on one line whatever the value contains.
    super(
      value === undefined
        ? `${variable} is not set: expected ${expected}`
        : `${variable}=${JSON.stringify(value)}: expected ${expected}`,
    );
  }
}

/** A variable with a default, used when it is unset or empty. */
export function envVar<T>(
  variable: string,
  type: EnvType<T>,
  options: { readonly default: NoInfer<T> },
): EnvVar<T>;
/** A variable that may be left unset (its field is then undefined). */
export function envVar<T>(
  variable: string,
  type: EnvType<T>,
  options: { readonly optional: true },
): EnvVar<T | undefined>;
/** A variable that must be set. */
export function envVar<T>(variable: string, type: EnvType<T>): EnvVar<T>;
export function envVar<T>(
  variable: string,
  type: EnvType<T>,
  options?: { readonly default: T } | { readonly optional: true },
): EnvVar<T | undefined> {
  return {
    variable,
    expected: type.expected,
    read(raw) {
      const text = raw?.trim() ?? '';
      if (text === '') {
        if (options && 'default' in options) return options.default;
        if (options && 'optional' in options) return undefined;
        throw new ConfigError(variable, undefined, type.expected);
      }
      const value = type.parse(text);
      if (value === undefined) throw new ConfigError(variable, raw, type.expected);
      return value;
    },
  };
}

/**
 * A check across variables, run after each has been read on its own (say, "this node's id must
 * be one of the peers"). It throws a ConfigError naming the variable at fault.
 */
export type ConfigCheck<S extends ConfigSchema> = (config: ConfigOf<S>) => void;

/**
 * Reads every variable of `schema` from `env`, in schema order; the first bad one throws a
 * ConfigError naming the variable, its value and what was expected. Then `check`, if given.
 */
export function loadConfig<S extends ConfigSchema>(
  schema: S,
  env: Environment,
  check?: ConfigCheck<S>,
): ConfigOf<S> {
  const config: Record<string, unknown> = {};
  for (const [field, spec] of Object.entries(schema)) {
    config[field] = spec.read(env[spec.variable]);
  }
  const typed = config as ConfigOf<S>;
  check?.(typed);
  return typed;
}

/** Where loadConfigOrExit reports and how it stops; the real process unless a test says otherwise. */
export interface ExitIo {
  readonly writeError: (line: string) => void;
  readonly exit: (code: number) => never;
}

const processIo: ExitIo = {
  writeError: (line) => process.stderr.write(line),
  exit: (code) => process.exit(code),
};

/**
 * loadConfig for `main.ts`: a bad variable prints exactly one line to stderr
 * (`catmesh: CATMESH_GRPC_PORT="abc": expected an integer port 1-65535`) and exits with code 2,
 * the conventional code for a usage error, so a supervisor can tell it from a crash.
 */
export function loadConfigOrExit<S extends ConfigSchema>(
  schema: S,
  env: Environment,
  options: { readonly io?: ExitIo; readonly check?: ConfigCheck<S> } = {},
): ConfigOf<S> {
  const io = options.io ?? processIo;
  try {
    return loadConfig(schema, env, options.check);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.writeError(`catmesh: ${error.message}\n`);
    return io.exit(2);
  }
}
