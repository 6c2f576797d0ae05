// Random values for every CATMESH_* variable of every service, tried by machine. Each value is
// either read (and what was read means what the text said: it reads back the same from its own
// canonical form) or refused with a ConfigError naming the variable, the value and what was
// expected: never another exception, never NaN or Infinity let through. The per-type cases in
// packages/runtime/test/config.test.ts say what each type accepts; this searches for text
// nobody thought of, in the schemas the services really load.
import fc from 'fast-check';
import { ConfigError, type EnvVar } from '@catmesh/runtime';
import { propertyRuns } from '@catmesh/testkit';
import { describe, expect, it } from 'vitest';
import { catFeederConfigSchema } from '../services/cat-feeder/src/config.js';
import { dashboardConfigSchema } from '../services/dashboard/src/config.js';
import { inventoryConfigSchema } from '../services/inventory/src/config.js';
import { loadgenConfigSchema } from '../services/loadgen/src/config.js';
import { ordersConfigSchema } from '../services/orders/src/config.js';

const SCHEMAS: Record<string, Readonly<Record<string, EnvVar<unknown>>>> = {
  'cat-feeder': catFeederConfigSchema(),
  dashboard: dashboardConfigSchema(),
  inventory: inventoryConfigSchema(),
  loadgen: loadgenConfigSchema(),
  orders: ordersConfigSchema(),
};

/** Text shaped like what people type: numbers with and without units, lists, addresses. */
const numberish = fc
  .tuple(
    fc.oneof(fc.integer(), fc.double(), fc.nat({ max: 70_000 }), fc.bigInt()),
    fc.constantFrom('', 'ms', 's', 'm', 'h', 'd', 'us', ' s', 'S', 'sec', '.', 'e3'),
  )
  .map(([n, unit]) => `${n}${unit}`);
const listish = fc
  .tuple(
    fc.array(fc.oneof(numberish, fc.string({ maxLength: 8 }), fc.constant('1=127.0.0.1:7101')), {
      maxLength: 4,
    }),
    fc.constantFrom(',', ', ', ',,', ';'),
  )
  .map(([items, separator]) => items.join(separator));
const tricky = fc.constantFrom(
  '-0',
  '0x1f',
  '1e309',
  'Infinity',
  'NaN',
  '9007199254740993',
  'true',
  'yes',
  'on',
  'nats://127.0.0.1:4222',
  'http://',
  '127.0.0.1:99999',
  '1=127.0.0.1:7101,1=127.0.0.1:7102',
  '0=127.0.0.1:7101',
  '1=:7101',
  '\u0000',
  ' ',
);
const raw = fc.oneof(
  numberish,
  listish,
  tricky,
  fc.string({ maxLength: 24 }),
  fc.string({ unit: 'binary', maxLength: 24 }),
);

/** The text a read value would be written as, if its type has one form to compare against. */
function canonical(expected: string, value: unknown): string | undefined {
  if (typeof value !== 'number') return undefined;
  if (expected.startsWith('a duration')) return `${value}ms`;
  if (expected.startsWith('an integer')) return String(value);
  return undefined;
}

describe.each(Object.entries(SCHEMAS))('%s config under random values', (_, schema) => {
  const variables = Object.values(schema);

  it('reads each value, or refuses it naming the variable, the value and what it expected', () => {
    fc.assert(
      fc.property(fc.constantFrom(...variables), raw, (spec, text) => {
        let value: unknown;
        try {
          value = spec.read(text);
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          const refusal = error as ConfigError;
          expect(refusal.variable).toBe(spec.variable);
          expect(refusal.message.startsWith(`${spec.variable}`)).toBe(true);
          expect(refusal.message).toContain(spec.expected);
          return;
        }
        if (typeof value === 'number') expect(Number.isFinite(value)).toBe(true);
        const again = canonical(spec.expected, value);
        if (again !== undefined) expect(spec.read(again)).toBe(value);
      }),
      propertyRuns(400),
    );
  });
});
