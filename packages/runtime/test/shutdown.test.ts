import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  installShutdownHandler,
  standardShutdownSteps,
  type ShutdownStep,
  type SignalSource,
} from '@catmesh/runtime';
import { captureLogs } from './support/log-capture.js';

/** A signal source and exit the test controls, in place of the process's. */
function harness() {
  const signals = new EventEmitter();
  const exits: number[] = [];
  let exited: (code: number) => void = () => {};
  const exitedOnce = new Promise<number>((resolve) => (exited = resolve));
  return {
    signalSource: signals as unknown as SignalSource,
    send: (signal: NodeJS.Signals) => signals.emit(signal, signal),
    exit: (code: number) => {
      exits.push(code);
      exited(code);
    },
    exits,
    exitedOnce,
  };
}

function recordingStep(
  name: string,
  order: string[],
  run: () => Promise<void> | void = () => {},
): ShutdownStep {
  return {
    name,
    run: async () => {
      order.push(name);
      await run();
    },
  };
}

describe('installShutdownHandler', () => {
  it('on SIGTERM runs the steps in order, then exits 0', async () => {
    const h = harness();
    const order: string[] = [];
    const { logger, lines } = captureLogs('info');
    installShutdownHandler({
      graceMs: 30_000,
      logger,
      signalSource: h.signalSource,
      exit: h.exit,
      steps: ['a', 'b', 'c'].map((name) =>
        recordingStep(name, order, () => new Promise((resolve) => setTimeout(resolve, 5))),
      ),
    });
    h.send('SIGTERM');
    expect(await h.exitedOnce).toBe(0);
    expect(order).toEqual(['a', 'b', 'c']);
    expect(h.exits).toEqual([0]);
    expect(lines()[0]).toMatchObject({ msg: 'shutting down', reason: 'SIGTERM' });
  });

  it('SIGINT works the same', async () => {
    const h = harness();
    const order: string[] = [];
    installShutdownHandler({
      graceMs: 30_000,
      logger: captureLogs('silent').logger,
      signalSource: h.signalSource,
      exit: h.exit,
      steps: [recordingStep('only', order)],
    });
    h.send('SIGINT');
    expect(await h.exitedOnce).toBe(0);
    expect(order).toEqual(['only']);
  });

  it('when the grace period runs out, logs the stuck step and exits 1', async () => {
    const h = harness();
    const order: string[] = [];
    const { logger, lines } = captureLogs('info');
    installShutdownHandler({
      graceMs: 100,
      logger,
      signalSource: h.signalSource,
      exit: h.exit,
      steps: [
        recordingStep('health: NOT_SERVING', order),
        recordingStep('nats: drain', order, () => new Promise(() => {})),
        recordingStep('telemetry: flush', order),
      ],
    });
    h.send('SIGTERM');
    expect(await h.exitedOnce).toBe(1);
    expect(order).toEqual(['health: NOT_SERVING', 'nats: drain']);
    expect(lines().at(-1)).toMatchObject({
      level: 'error',
      step: 'nats: drain',
      msg: 'shutdown grace period ran out during step "nats: drain"',
    });
  });

  it('a second signal exits at once with 1', async () => {
    const h = harness();
    let release: () => void = () => {};
    const { logger, lines } = captureLogs('info');
    installShutdownHandler({
      graceMs: 30_000,
      logger,
      signalSource: h.signalSource,
      exit: h.exit,
      steps: [{ name: 'slow', run: () => new Promise<void>((resolve) => (release = resolve)) }],
    });
    h.send('SIGTERM');
    h.send('SIGINT');
    expect(await h.exitedOnce).toBe(1);
    expect(lines().at(-1)).toMatchObject({
      msg: 'second signal during shutdown: exiting now',
      signal: 'SIGINT',
    });
    release();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(h.exits).toEqual([1]);
  });

  it('a failing step is logged, the others still run, and the exit code is 1', async () => {
    const h = harness();
    const order: string[] = [];
    const { logger, lines } = captureLogs('info');
    installShutdownHandler({
      graceMs: 30_000,
      logger,
      signalSource: h.signalSource,
      exit: h.exit,
      steps: [
        recordingStep('grpc: drain', order, () => Promise.reject(new Error('drain broke'))),
        recordingStep('telemetry: flush', order),
      ],
    });
    h.send('SIGTERM');
    expect(await h.exitedOnce).toBe(1);
    expect(order).toEqual(['grpc: drain', 'telemetry: flush']);
    expect(lines().find((line) => line.msg === 'shutdown step failed')).toMatchObject({
      step: 'grpc: drain',
    });
  });

  it('shutdown() runs the same sequence once, and uninstall() stops listening', async () => {
    const h = harness();
    const order: string[] = [];
    const handler = installShutdownHandler({
      graceMs: 30_000,
      logger: captureLogs('silent').logger,
      signalSource: h.signalSource,
      exit: h.exit,
      steps: [recordingStep('one', order)],
    });
    handler.uninstall();
    h.send('SIGTERM');
    expect(order).toEqual([]);
    await Promise.all([handler.shutdown('fatal error'), handler.shutdown('again')]);
    expect(order).toEqual(['one']);
    expect(h.exits).toEqual([0]);
  });

  it('a signal during a shutdown started by shutdown() lets it finish', async () => {
    const h = harness();
    const order: string[] = [];
    let release: () => void = () => {};
    const handler = installShutdownHandler({
      graceMs: 30_000,
      logger: captureLogs('silent').logger,
      signalSource: h.signalSource,
      exit: h.exit,
      steps: [
        recordingStep('slow', order, () => new Promise<void>((resolve) => (release = resolve))),
      ],
    });
    const done = handler.shutdown('lost the NATS connection');
    h.send('SIGTERM');
    expect(h.exits).toEqual([]);
    release();
    await done;
    expect(h.exits).toEqual([0]);
  });
});

describe('standardShutdownSteps', () => {
  it('orders NOT_SERVING, gRPC drain, NATS drain, telemetry flush', async () => {
    const calls: string[] = [];
    const steps = standardShutdownSteps({
      grpc: {
        setNotServing: () => void calls.push('setNotServing'),
        drain: (ms) => {
          calls.push(`drain ${ms}`);
          return Promise.resolve('forced');
        },
      },
      grpcDrainMs: 1234,
      drainNats: () => {
        calls.push('drainNats');
        return Promise.resolve();
      },
      telemetry: {
        shutdown: () => {
          calls.push('telemetry');
          return Promise.resolve();
        },
      },
      logger: captureLogs('silent').logger,
    });
    expect(steps.map((step) => step.name)).toEqual([
      'health: NOT_SERVING',
      'grpc: drain',
      'nats: drain',
      'telemetry: flush',
    ]);
    for (const step of steps) await step.run();
    expect(calls).toEqual(['setNotServing', 'drain 1234', 'drainNats', 'telemetry']);
  });

  it('leaves NATS out when the service has none', () => {
    const steps = standardShutdownSteps({
      grpc: { setNotServing: () => {}, drain: () => Promise.resolve('graceful') },
      grpcDrainMs: 1,
      telemetry: { shutdown: () => Promise.resolve() },
      logger: captureLogs('silent').logger,
    });
    expect(steps.map((step) => step.name)).toEqual([
      'health: NOT_SERVING',
      'grpc: drain',
      'telemetry: flush',
    ]);
  });
});
