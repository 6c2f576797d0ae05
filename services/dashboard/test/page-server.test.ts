// The page server's routes that take a path from the browser: a run's report files, served only
// for runs the experiments panel listed, and a path that does not decode refused without harm.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DashboardSnapshot } from '../src/dashboard-snapshot.js';
import { ExperimentRuns } from '../src/experiment-runs.js';
import { startPageServer, type PageServer } from '../src/page-server.js';
import { TraceStore } from '../src/trace-store.js';

const REPORT = new URL('./fixtures/kill-the-leader-report.json', import.meta.url);

describe("the page server's report files", () => {
  let dir: string;
  let server: PageServer;
  let base: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'page-server-'));
    const page = join(dir, 'page');
    await mkdir(page);
    for (const file of ['index.html', 'app.js', 'app.css']) await writeFile(join(page, file), '');
    const runsDir = join(dir, 'chaos');
    await mkdir(join(runsDir, 'kill-the-leader-1'), { recursive: true });
    await writeFile(
      join(runsDir, 'kill-the-leader-1', 'report.json'),
      await readFile(REPORT, 'utf8'),
    );
    await writeFile(join(runsDir, 'kill-the-leader-1', 'report.html'), '<title>the report</title>');
    await writeFile(join(runsDir, 'secret.txt'), 'not for the page');
    const runs = new ExperimentRuns(runsDir);
    await runs.read();
    server = await startPageServer({
      host: '127.0.0.1',
      port: 0,
      pageDir: pathToFileURL(`${page}/`),
      snapshot: () => ({}) as DashboardSnapshot,
      traces: new TraceStore(),
      runs,
    });
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves a listed run's report as HTML", async () => {
    const response = await fetch(`${base}/reports/kill-the-leader-1/report.html`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await response.text()).toBe('<title>the report</title>');
  });

  it('answers 404 for anything else under /reports, however the path is spelt', async () => {
    for (const path of [
      '/reports/kill-the-leader-1/progress.json',
      '/reports/kill-the-leader-1/../secret.txt',
      '/reports/..%2Fsecret.txt/report.html',
      '/reports/kill-the-leader-1/report.html/more',
      '/reports/',
      '/reports/no-such-run/report.html',
    ]) {
      expect((await fetch(`${base}${path}`)).status, path).toBe(404);
    }
  });

  it('refuses a path that does not decode, and keeps serving', async () => {
    expect((await fetch(`${base}/reports/%E0%A4%A/report.html`)).status).toBe(400);
    expect((await fetch(`${base}/api/traces/%ZZ`)).status).toBe(400);
    expect((await fetch(`${base}/reports/kill-the-leader-1/report.html`)).status).toBe(200);
  });
});
