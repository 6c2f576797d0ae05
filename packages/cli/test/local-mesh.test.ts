// The pieces of `catmesh up` that need no running mesh: the port plan and the table, the
// decisions (traces, order of start and stop), and the readers (metrics, logs).
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDependencies, inDependencyOrder } from '../src/local-mesh/dependency-order.js';
import {
  decideTraceExport,
  instanceEnvironment,
  type TraceExport,
} from '../src/local-mesh/instance-environment.js';
import { parseLogLine } from '../src/local-mesh/log-line.js';
import { lastLines } from '../src/local-mesh/log-tail.js';
import { meshInstances } from '../src/local-mesh/mesh-instances.js';
import { planPorts } from '../src/local-mesh/port-plan.js';
import { prettyLogLine } from '../src/local-mesh/pretty-log-line.js';
import { readySummary } from '../src/local-mesh/ready-summary.js';
import { serverCallCounts } from '../src/local-mesh/prometheus-text.js';
import { RestartBackoff } from '../src/local-mesh/restart-backoff.js';
import { DEFAULT_STATE_DIR, StateDir } from '../src/local-mesh/state-dir.js';
import { catmesh, startCatmesh } from './support/run-catmesh.js';

describe('the port plan', () => {
  it('puts every service on its own default ports with the default base', () => {
    const plan = planPorts(7100, 3);
    expect(plan.catFeeders.map((replica) => [replica.main, replica.metrics])).toEqual([
      [7101, 9101],
      [7102, 9102],
      [7103, 9103],
    ]);
    expect([plan.inventory.main, plan.orders.main, plan.loadgen.main]).toEqual([7201, 7301, 7401]);
    expect([plan.inventory.metrics, plan.orders.metrics, plan.loadgen.metrics]).toEqual([
      9201, 9301, 9401,
    ]);
    expect(plan.nats).toEqual({ main: 7122, metrics: 9122 });
    expect(plan.dashboard).toEqual({ main: 7501, metrics: 9501 });
    expect(plan.catFeeders.map((replica) => replica.admin)).toEqual([8101, 8102, 8103]);
    expect([plan.inventory.admin, plan.orders.admin, plan.loadgen.admin]).toEqual([
      8201, 8301, 8401,
    ]);
  });

  it('gives every instance of a 5-replica mesh ports of its own', () => {
    const plan = planPorts(20_000, 5);
    const ports = [
      plan.nats,
      ...plan.catFeeders,
      plan.inventory,
      plan.orders,
      plan.loadgen,
      plan.dashboard,
    ].flatMap((p) => [p.main, p.metrics, ...(p.admin === undefined ? [] : [p.admin])]);
    expect(new Set(ports).size).toBe(ports.length);
    expect(Math.min(...ports)).toBeGreaterThan(20_000);
  });
});

describe('the mesh table', () => {
  const state = new StateDir('/tmp/mesh-state');
  const instances = meshInstances({
    plan: planPorts(7100, 3),
    state,
    loadgen: true,
    dashboard: true,
  });

  it('names every instance once, and every dependency is an instance', () => {
    const names = instances.map((spec) => spec.name);
    expect(names).toEqual([
      'nats',
      'cat-feeder-1',
      'cat-feeder-2',
      'cat-feeder-3',
      'inventory',
      'orders',
      'loadgen',
      'dashboard',
    ]);
    expect(() => checkDependencies(instances)).not.toThrow();
  });

  it('starts the dashboard, the services’ trace receiver, before them and stops it after them', () => {
    expect(instances.find((spec) => spec.name === 'dashboard')!.dependsOn).toEqual([]);
    for (const spec of instances.filter((s) => !['nats', 'dashboard'].includes(s.name)))
      expect(spec.dependsOn, spec.name).toContain('dashboard');
  });

  it('leaves out loadgen and the dashboard when asked, and nothing depends on them', () => {
    const plain = meshInstances({
      plan: planPorts(7100, 3),
      state,
      loadgen: false,
      dashboard: false,
    });
    expect(plain.map((spec) => spec.name)).toEqual(
      instances.map((spec) => spec.name).filter((name) => !['loadgen', 'dashboard'].includes(name)),
    );
    expect(() => checkDependencies(plain)).not.toThrow();
  });

  it("wires each service's variables from the plan", () => {
    const byName = new Map(instances.map((spec) => [spec.name, spec]));
    expect(byName.get('cat-feeder-2')!.env).toMatchObject({
      CATMESH_NODE_ID: '2',
      CATMESH_PEERS: '1=127.0.0.1:7101,2=127.0.0.1:7102,3=127.0.0.1:7103',
      CATMESH_DATA_DIR: '/tmp/mesh-state/data/cat-feeder-2',
      CATMESH_GRPC_HOST: '127.0.0.1',
      CATMESH_GRPC_PORT: '7102',
      CATMESH_METRICS_PORT: '9102',
      CATMESH_ADMIN_PORT: '8102',
      CATMESH_NATS_URL: 'nats://127.0.0.1:7122',
    });
    expect(byName.get('orders')!.env).toMatchObject({
      CATMESH_INVENTORY_ENDPOINT: '127.0.0.1:7201',
      CATMESH_CATFEEDER_ENDPOINTS: '127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103',
    });
    expect(byName.get('orders')!.dependsOn).toEqual([
      'nats',
      'inventory',
      'cat-feeder-1',
      'cat-feeder-2',
      'cat-feeder-3',
      'dashboard',
    ]);
    expect(byName.get('dashboard')!.env).toMatchObject({
      CATMESH_DASHBOARD_PORT: '7501',
      CATMESH_METRICS_PORT: '9501',
      CATMESH_DASHBOARD_REPLICAS: '1=127.0.0.1:7101,2=127.0.0.1:7102,3=127.0.0.1:7103',
      CATMESH_DASHBOARD_FAULT_ADMINS:
        'cat-feeder-1=127.0.0.1:8101,cat-feeder-2=127.0.0.1:8102,cat-feeder-3=127.0.0.1:8103,' +
        'inventory=127.0.0.1:8201,orders=127.0.0.1:8301,loadgen=127.0.0.1:8401',
    });
    expect(byName.get('dashboard')!.env['CATMESH_DASHBOARD_METRICS']).toContain(
      'orders=http://127.0.0.1:9301/metrics',
    );
    expect(byName.get('dashboard')!.health).toEqual({
      kind: 'http',
      url: 'http://127.0.0.1:9501/readyz',
    });
    expect(byName.get('nats')!.args).toEqual(
      expect.arrayContaining([
        '-js',
        '-p',
        '7122',
        '-m',
        '9122',
        '-sd',
        '/tmp/mesh-state/data/nats',
      ]),
    );
  });

  it("gives an instance the user's CATMESH_* and OTEL_* variables, but never lets them move a port", () => {
    const orders = instances.find((spec) => spec.name === 'orders')!;
    const env = instanceEnvironment(
      orders,
      {
        PATH: '/bin',
        CATMESH_HUNGER_AFTER: '10s',
        CATMESH_GRPC_PORT: '1',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        NODE_OPTIONS: '--inspect',
      },
      state.root,
      decideTraceExport({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }),
    );
    expect(env).toMatchObject({
      PATH: '/bin',
      CATMESH_HUNGER_AFTER: '10s',
      CATMESH_GRPC_PORT: '7301',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      CATMESH_LOCAL_MESH: '/tmp/mesh-state',
    });
    expect(env).not.toHaveProperty('NODE_OPTIONS');
    expect(env).not.toHaveProperty('OTEL_SDK_DISABLED');
  });
});

describe('exporting traces', () => {
  const receiver = 'http://127.0.0.1:7501';

  it('goes where the user says, else to the dashboard, else is off; OTEL_SDK_DISABLED as the user set it wins', () => {
    expect(decideTraceExport({})).toEqual({ enabled: false, env: { OTEL_SDK_DISABLED: 'true' } });
    // Said nothing, with a dashboard: its receiver, which takes OTLP/JSON.
    expect(decideTraceExport({}, receiver)).toEqual({
      enabled: true,
      endpoint: receiver,
      toDashboard: true,
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        // Spans leave every half second, and the dashboard lists an order once it is whole.
        OTEL_BSP_SCHEDULE_DELAY: '500',
      },
      dashboardEnv: { CATMESH_DASHBOARD_TRACE_SETTLE: '2000ms' },
    });
    // The user's export delay wins, and the dashboard waits for it; so does the user's settle time.
    const slower = decideTraceExport({ OTEL_BSP_SCHEDULE_DELAY: '5000' }, receiver);
    expect(slower.env).toMatchObject({ OTEL_BSP_SCHEDULE_DELAY: '5000' });
    expect(slower.dashboardEnv).toEqual({ CATMESH_DASHBOARD_TRACE_SETTLE: '15500ms' });
    expect(
      decideTraceExport({ CATMESH_DASHBOARD_TRACE_SETTLE: '1s' }, receiver),
    ).not.toHaveProperty('dashboardEnv');
    expect(decideTraceExport({ OTEL_SDK_DISABLED: 'true' }, receiver)).toEqual({
      enabled: false,
      env: {},
    });
    expect(decideTraceExport({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318' })).toEqual({
      enabled: true,
      endpoint: 'http://jaeger:4318',
      env: {},
    });
    expect(decideTraceExport({ OTEL_SDK_DISABLED: 'false' })).toEqual({
      enabled: true,
      endpoint: 'http://localhost:4318',
      env: {},
    });
    expect(
      decideTraceExport({
        OTEL_SDK_DISABLED: 'true',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://j:4318',
      }),
    ).toEqual({ enabled: false, env: {} });
  });

  it("to the user's endpoint and a copy to the dashboard, which links to the Jaeger UI the user names", () => {
    // What the user says wins over the dashboard, which still gets every span, as a copy.
    expect(
      decideTraceExport({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318' }, receiver),
    ).toEqual({
      enabled: true,
      endpoint: 'http://jaeger:4318',
      dashboardCopy: receiver,
      env: {
        CATMESH_OTLP_DASHBOARD_ENDPOINT: receiver,
        OTEL_BSP_SCHEDULE_DELAY: '500',
      },
      dashboardEnv: { CATMESH_DASHBOARD_TRACE_SETTLE: '2000ms' },
    });
    // The services' default endpoint, switched on by the user, too.
    expect(decideTraceExport({ OTEL_SDK_DISABLED: 'false' }, receiver)).toMatchObject({
      endpoint: 'http://localhost:4318',
      dashboardCopy: receiver,
    });
    // The Jaeger UI is never guessed from the OTLP endpoint: only the user's variable links.
    const linked = decideTraceExport(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318',
        CATMESH_DASHBOARD_JAEGER_URL: 'http://localhost:16686',
      },
      receiver,
    );
    expect(linked).toMatchObject({ dashboardCopy: receiver, jaegerUi: 'http://localhost:16686' });
    // No dashboard: no copy, and nothing to link from.
    expect(
      decideTraceExport({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318',
        CATMESH_DASHBOARD_JAEGER_URL: 'http://localhost:16686',
      }),
    ).toEqual({ enabled: true, endpoint: 'http://jaeger:4318', env: {} });

    // Each instance gets the copy's endpoint; the dashboard, the user's Jaeger UI (as every
    // CATMESH_* variable is passed on).
    const userEnv = {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318',
      CATMESH_DASHBOARD_JAEGER_URL: 'http://localhost:16686',
    };
    const instances = meshInstances({
      plan: planPorts(7100, 3),
      state: new StateDir('/tmp/mesh-state'),
      loadgen: true,
      dashboard: true,
    });
    const envOf = (name: string) =>
      instanceEnvironment(
        instances.find((spec) => spec.name === name)!,
        userEnv,
        '/tmp/mesh-state',
        linked,
      );
    expect(envOf('orders')).toMatchObject({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318',
      CATMESH_OTLP_DASHBOARD_ENDPOINT: receiver,
    });
    expect(envOf('orders')).not.toHaveProperty('OTEL_EXPORTER_OTLP_PROTOCOL');
    expect(envOf('dashboard')).toMatchObject({
      CATMESH_DASHBOARD_JAEGER_URL: 'http://localhost:16686',
      CATMESH_DASHBOARD_TRACE_SETTLE: '2000ms',
    });
    // The settle time is the dashboard's alone.
    expect(envOf('orders')).not.toHaveProperty('CATMESH_DASHBOARD_TRACE_SETTLE');
  });

  describe('in the ready summary', () => {
    const state = new StateDir('/tmp/mesh-state');
    /** The summary's last lines, from the one about traces. */
    const summary = (traces: TraceExport, dashboard = true): string[] => {
      const lines = readySummary({
        instances: meshInstances({ plan: planPorts(7100, 3), state, loadgen: true, dashboard }),
        pids: new Map(),
        state,
        stateDirArgument: DEFAULT_STATE_DIR,
        portBase: 7100,
        traces,
        elapsedMs: 1000,
      }).split('\n');
      return lines.slice(lines.findIndex((line) => line.startsWith('Traces:'))).filter(Boolean);
    };
    const jaeger = 'http://localhost:4318';

    it('says the dashboard gets a copy, and whether it links to Jaeger and how to get the links', () => {
      expect(summary(decideTraceExport({ OTEL_EXPORTER_OTLP_ENDPOINT: jaeger }, receiver))).toEqual(
        [
          "Traces: exported over OTLP to http://localhost:4318, and a copy of each span to the dashboard's receiver (http://127.0.0.1:7501) for its list of orders.",
          "  The dashboard links to no Jaeger UI: set CATMESH_DASHBOARD_JAEGER_URL to the UI's URL (e.g. http://localhost:16686) for a link on each order.",
        ],
      );
      const linked = decideTraceExport(
        {
          OTEL_EXPORTER_OTLP_ENDPOINT: jaeger,
          CATMESH_DASHBOARD_JAEGER_URL: 'http://localhost:16686',
        },
        receiver,
      );
      expect(summary(linked).at(-1)).toBe(
        "  The dashboard links each order to its trace in Jaeger's UI at http://localhost:16686 (CATMESH_DASHBOARD_JAEGER_URL).",
      );
    });

    it('with traces only on the dashboard, shows how to have Jaeger as well, with the links', () => {
      expect(summary(decideTraceExport({}, receiver))).toEqual([
        "Traces: to the dashboard's own OTLP receiver (http://127.0.0.1:7501), one span tree per order there. For Jaeger as well, with a link on each order:",
        '  docker run --rm -p 16686:16686 -p 4318:4318 jaegertracing/jaeger:latest',
        '  OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 CATMESH_DASHBOARD_JAEGER_URL=http://localhost:16686 catmesh up',
      ]);
      // Links to a Jaeger that gets no trace are said to lead nowhere.
      expect(
        summary(
          decideTraceExport({ CATMESH_DASHBOARD_JAEGER_URL: 'http://localhost:16686' }, receiver),
        ).at(-1),
      ).toBe(
        '  (CATMESH_DASHBOARD_JAEGER_URL=http://localhost:16686 is set, but no trace goes to a Jaeger without OTEL_EXPORTER_OTLP_ENDPOINT: its links find nothing.)',
      );
    });

    it('with no dashboard, says where traces go, or how to send them to Jaeger', () => {
      expect(summary(decideTraceExport({ OTEL_EXPORTER_OTLP_ENDPOINT: jaeger }), false)).toEqual([
        'Traces: exported over OTLP to http://localhost:4318 (no dashboard in this mesh; a Jaeger shows them on its port 16686)',
      ]);
      expect(summary(decideTraceExport({}), false)).toEqual([
        'Traces: off (OTEL_SDK_DISABLED=true). To see every order as one trace in Jaeger:',
        '  docker run --rm -p 16686:16686 -p 4318:4318 jaegertracing/jaeger:latest',
        '  OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 catmesh up   # then http://localhost:16686',
      ]);
    });
  });
});

describe('inDependencyOrder', () => {
  const items = [
    { name: 'orders', dependsOn: ['inventory', 'nats'] },
    { name: 'nats', dependsOn: [] },
    { name: 'inventory', dependsOn: ['nats'] },
    { name: 'cat', dependsOn: ['nats'] },
  ];

  it('runs each item after its prerequisites, the independent ones side by side', async () => {
    const events: string[] = [];
    await inDependencyOrder(
      items,
      (item) => item.dependsOn,
      async (item) => {
        events.push(`start ${item.name}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
        events.push(`end ${item.name}`);
      },
    );
    expect(events.slice(0, 2)).toEqual(['start nats', 'end nats']);
    // inventory and cat start together, before either ends.
    expect(events.slice(2, 4).sort()).toEqual(['start cat', 'start inventory']);
    expect(events.indexOf('start orders')).toBeGreaterThan(events.indexOf('end inventory'));
  });

  it('starts nothing after a failure, and rejects with the first one', async () => {
    const started: string[] = [];
    const run = inDependencyOrder(
      items,
      (item) => item.dependsOn,
      async (item) => {
        started.push(item.name);
        if (item.name === 'inventory') throw new Error('inventory failed');
        if (item.name === 'cat') {
          await new Promise((resolve) => setTimeout(resolve, 20));
          throw new Error('cat failed later');
        }
      },
    );
    await expect(run).rejects.toThrow('inventory failed');
    expect(started).not.toContain('orders');
  });

  it('reports a cycle instead of waiting forever', async () => {
    const cycle = [
      { name: 'a', dependsOn: ['b'] },
      { name: 'b', dependsOn: ['a'] },
    ];
    await expect(
      inDependencyOrder(
        cycle,
        (item) => item.dependsOn,
        () => Promise.resolve(),
      ),
    ).rejects.toThrow('dependency cycle: a -> b -> a');
  });
});

describe('the restart backoff', () => {
  it('doubles from 250 ms up to 10 s, and starts over once reset', () => {
    const backoff = new RestartBackoff();
    const delays = Array.from({ length: 9 }, () => backoff.next());
    expect(delays).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
    backoff.reset();
    expect(backoff.next()).toBe(250);
  });
});

describe('reading /metrics', () => {
  it('counts the gRPC calls a server answered and the failed ones, health checks left out', () => {
    const page = [
      '# HELP grpc_server_handled_total Total number of RPCs completed on the server.',
      '# TYPE grpc_server_handled_total counter',
      'grpc_server_handled_total{grpc_service="catmesh.orders.v1.OrderService",grpc_method="PlaceOrder",grpc_type="unary",grpc_code="OK"} 40',
      'grpc_server_handled_total{grpc_service="catmesh.orders.v1.OrderService",grpc_method="PlaceOrder",grpc_type="unary",grpc_code="Unavailable"} 2',
      'grpc_server_handled_total{grpc_service="grpc.health.v1.Health",grpc_method="Check",grpc_type="unary",grpc_code="OK"} 500',
      'grpc_server_started_total{grpc_service="catmesh.orders.v1.OrderService",grpc_method="PlaceOrder",grpc_type="unary"} 43',
    ].join('\n');
    expect(serverCallCounts(page)).toEqual({ calls: 42, errors: 2 });
  });
});

describe('log lines', () => {
  const pino =
    '{"level":"warn","time":"2026-11-26T11:38:36.653Z","service":"orders","instance":"orders","orderId":"0mw","reason":"unknown sku nope","err":{"type":"Error","message":"boom"},"msg":"order moved"}';

  it("reads a service's JSON line and a nats-server text line", () => {
    expect(parseLogLine(pino)).toMatchObject({
      time: Date.parse('2026-11-26T11:38:36.653Z'),
      level: 'warn',
      msg: 'order moved',
      fields: { orderId: '0mw', reason: 'unknown sku nope' },
    });
    const nats = parseLogLine('[4242] 2026/11/26 11:29:11.707081 [WRN] JetStream is slow');
    expect(nats).toMatchObject({ level: 'warn', msg: 'JetStream is slow' });
    expect(new Date(nats.time!).getMilliseconds()).toBe(707);
    expect(parseLogLine('a stack trace line')).toEqual({ raw: 'a stack trace line' });
  });

  it('prints a line for people: time, level, instance, message, fields, an error by its message', () => {
    const line = prettyLogLine(parseLogLine(pino), { name: 'orders', nameWidth: 8, colour: false });
    expect(line).toMatch(
      /^\d\d:\d\d:\d\d\.653 WARN {2}orders {4}order moved {2}orderId=0mw reason="unknown sku nope" err="Error: boom"$/,
    );
  });

  it('reads the last lines of a long log from its end, whole lines only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'catmesh-log-'));
    try {
      const file = join(dir, 'a.log');
      const lines = Array.from({ length: 5000 }, (_, i) => `line ${i} ${'é'.repeat(i % 50)}`);
      await writeFile(file, `${lines.join('\n')}\n`);
      expect(await lastLines(file, 3)).toEqual(lines.slice(-3));
      expect(await lastLines(file, 4000)).toEqual(lines.slice(-4000));
      expect(await lastLines(join(dir, 'missing.log'), 3)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('catmesh logs', () => {
  it('interleaves the logs by time and follows what is appended until Ctrl-C', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'catmesh-logs-'));
    try {
      await mkdir(join(stateDir, 'logs'));
      const line = (time: string, msg: string) =>
        `{"level":"info","time":"2026-11-26T11:00:0${time}.000Z","msg":"${msg}"}\n`;
      await writeFile(join(stateDir, 'logs', 'a.log'), line('1', 'a1') + line('3', 'a3'));
      await writeFile(join(stateDir, 'logs', 'bb.log'), line('2', 'b2'));
      const interrupt = new AbortController();
      const run = startCatmesh(['logs', '--follow', '--state-dir', stateDir], {
        signal: interrupt.signal,
      });
      await expect.poll(() => run.stdout()).toContain('a3');
      await appendFile(join(stateDir, 'logs', 'bb.log'), line('4', 'b4'));
      await expect.poll(() => run.stdout()).toContain('b4');
      interrupt.abort();
      expect(await run.result).toMatchObject({ code: 0, stderr: '' });
      expect(
        run
          .stdout()
          .split('\n')
          .map((text) => text.slice(0, 5) + text.slice(-5)),
      ).toEqual(['a  | "a1"}', 'bb | "b2"}', 'a  | "a3"}', 'bb | "b4"}', '']);
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});

describe('usage errors of the mesh commands', () => {
  const cases: [string[], string][] = [
    [['up', '--replicas', '4'], "--replicas: expected 3 or 5, got '4'"],
    [['up', '--port-base', '80'], "--port-base: expected an integer 1024-63134, got '80'"],
    [['up', 'now'], "unexpected argument 'now'"],
    [['order', 'place', '--quantity', '2'], 'missing --sku'],
    [
      ['order', 'place', '--sku', 'kibble', '--quantity', 'two'],
      "--quantity: expected an integer >= 1, got 'two'",
    ],
    [
      ['order', 'list', '--state', 'lost'],
      "--state: expected one of pending, reserved, fulfilled, rejected, failed, got 'lost'",
    ],
    [
      ['order', 'list', '--orders-endpoint', 'nowhere'],
      "--orders-endpoint: expected host:port, got 'nowhere'",
    ],
  ];
  it.each(cases)('catmesh %j', async (args, message) => {
    const run = await catmesh(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`catmesh: ${message}`);
  });
});
