// Random values for the config every service shares (serviceConfigSchema), tried by machine
// against what each variable's message promises. test/hostile-config.test.ts checks that a bad
// value is refused naming the variable; this checks the other half: a value is accepted exactly
// when it is what "expected ..." says (an independent reading of that sentence decides), and
// what was read is what the text meant. An accepted invalid value, or a refused valid one, fails.
import { isIP, isIPv6 } from 'node:net';
import fc from 'fast-check';
import { ConfigError, serviceConfigSchema, type EnvVar } from '@catmesh/runtime';
import { propertyRuns } from '@catmesh/testkit';
import { describe, expect, it } from 'vitest';

const schema = serviceConfigSchema({ serviceName: 'test', grpcPort: 7001, metricsPort: 9001 });
const variables: EnvVar<unknown>[] = Object.values(schema);

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * What `expected` promises for `text` (already trimmed, not empty): the value it must be read
 * as, or undefined if it must be refused. Written from the sentence, not from the parser.
 */
function promised(expected: string, text: string): { value: unknown } | undefined {
  let match: RegExpExecArray | null;
  if (expected === 'an integer port 1-65535') {
    if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
    const n = BigInt(text);
    return n >= 1n && n <= 65535n ? { value: Number(n) } : undefined;
  }
  if ((match = /^a duration of at least (\d+)ms with its unit/.exec(expected))) {
    const parts = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)$/.exec(text);
    if (!parts) return undefined;
    const ms = Math.round(Number(parts[1]) * UNIT_MS[parts[2]!]!);
    return Number.isSafeInteger(ms) && ms >= Number(match[1]) ? { value: ms } : undefined;
  }
  if ((match = /^one of (.*)$/.exec(expected))) {
    return match[1]!.split(', ').includes(text) ? { value: text } : undefined;
  }
  if (expected === 'true or false') {
    const word = text.toLowerCase();
    if (word === 'true' || word === '1') return { value: true };
    if (word === 'false' || word === '0') return { value: false };
    return undefined;
  }
  if (expected === 'a non-empty string') return { value: text };
  if (expected === 'a host name or IP address') {
    const bracketed = /^\[(.*)\]$/.exec(text);
    const ip = bracketed ? isIPv6(bracketed[1]!) : isIP(text) !== 0;
    const name = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?$/.test(text);
    return ip || name ? { value: text } : undefined;
  }
  if (expected === 'a URL starting with http:// or https://') {
    if (!/^https?:\/\//i.test(text) || !URL.canParse(text)) return undefined;
    return new URL(text).host === '' ? undefined : { value: text };
  }
  throw new Error(`no reading of "expected ${expected}": teach this test the new type`);
}

/** Text near what each type accepts, and far from it. */
const raw = fc.oneof(
  fc
    .tuple(
      fc.oneof(fc.integer(), fc.double(), fc.nat({ max: 70_000 }), fc.bigInt()),
      fc.constantFrom('', 'ms', 's', 'm', 'h', 'd', ' s', '.', '.5s'),
    )
    .map(([n, unit]) => `${n}${unit}`),
  fc.constantFrom(
    'info',
    'INFO',
    'warn',
    'on',
    'off',
    'true',
    'False',
    '1',
    '0',
    'yes',
    'http/json',
  ),
  {
    weight: 4,
    arbitrary: fc
      .array(fc.constantFrom('a', 'Z', '0', '9', '_', '-', '.', ':', '[', ']', 'f', '%', '/'), {
        maxLength: 12,
      })
      .map((chars) => chars.join('')),
  },
  fc.webUrl(),
  fc.ipV4(),
  fc.ipV6(),
  fc.ipV6().map((ip) => `[${ip}]`),
  fc.domain(),
  fc.string({ maxLength: 16 }),
  fc.string({ unit: 'binary', maxLength: 16 }),
);

describe('the shared service config under random values', () => {
  it.each(variables.map((spec) => [spec.variable, spec]))(
    '%s accepts exactly what its message promises',
    (_, spec) => {
      fc.assert(
        fc.property(raw, (text) => {
          const promise = text.trim() === '' ? undefined : promised(spec.expected, text.trim());
          let value: unknown;
          try {
            value = spec.read(text);
          } catch (error) {
            expect(error).toBeInstanceOf(ConfigError);
            expect((error as ConfigError).variable).toBe(spec.variable);
            expect((error as Error).message).toContain(spec.variable);
            expect(promise).toBeUndefined();
            return;
          }
          if (text.trim() === '') return; // unset: the default or undefined
          expect(promise).toBeDefined();
          expect(value).toStrictEqual(promise!.value);
        }),
        propertyRuns(200),
      );
    },
  );
});
