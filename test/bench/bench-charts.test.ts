// The charts drawn from the benchmark's summaries: well-formed XML (checked by the small parser
// below, since the repository has no XML parser to lean on), one line per target per panel, one
// point per client count measured.
import { describe, expect, it } from 'vitest';
import { chartFiles, chartSvg, escapeXml, niceTicks } from './bench-charts.js';
import { summarizeCells, type Cell } from './bench-report.js';

interface XmlElement {
  readonly name: string;
  readonly attributes: ReadonlyMap<string, string>;
  readonly children: XmlElement[];
}

const ENTITIES = ['amp', 'lt', 'gt', 'quot', 'apos'];

/** Throws unless every `&` in text or an attribute value starts one of XML's own entities. */
function checkCharacterData(data: string, at: number): void {
  if (data.includes('<')) throw new Error(`raw < near ${at}`);
  for (let amp = data.indexOf('&'); amp >= 0; amp = data.indexOf('&', amp + 1)) {
    const semicolon = data.indexOf(';', amp);
    if (semicolon < 0 || !ENTITIES.includes(data.slice(amp + 1, semicolon))) {
      throw new Error(`bad entity near ${at + amp}`);
    }
  }
}

/** `name="value"` pairs, each once, separated by whitespace. */
function parseAttributes(source: string, at: number): Map<string, string> {
  const attributes = new Map<string, string>();
  let rest = source.trim();
  while (rest !== '') {
    const eq = rest.indexOf('=');
    const name = rest.slice(0, eq);
    if (eq <= 0 || name.trim() !== name || rest[eq + 1] !== '"') {
      throw new Error(`bad attribute near ${at}: ${rest}`);
    }
    const close = rest.indexOf('"', eq + 2);
    if (close < 0) throw new Error(`unterminated attribute near ${at}`);
    const value = rest.slice(eq + 2, close);
    checkCharacterData(value, at);
    if (attributes.has(name)) throw new Error(`duplicate attribute ${name} near ${at}`);
    attributes.set(name, value);
    const after = rest.slice(close + 1);
    if (after !== '' && after.trimStart() === after) {
      throw new Error(`no space between attributes near ${at}`);
    }
    rest = after.trim();
  }
  return attributes;
}

/** A well-formedness check of the XML this module writes (no comments, CDATA or doctype). */
function parseXml(source: string): XmlElement {
  const document: XmlElement = { name: '#document', attributes: new Map(), children: [] };
  const open = [document];
  let i = 0;
  while (i < source.length) {
    const lt = source.indexOf('<', i);
    checkCharacterData(source.slice(i, lt < 0 ? source.length : lt), i);
    if (lt < 0) break;
    if (source.startsWith('<?', lt)) {
      if (lt !== 0) throw new Error('an XML declaration only at the very start');
      i = source.indexOf('?>', lt) + 2;
      if (i < 2) throw new Error('unterminated XML declaration');
      continue;
    }
    const gt = source.indexOf('>', lt);
    if (gt < 0) throw new Error(`unterminated tag at ${lt}`);
    const tag = source.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.startsWith('/')) {
      const element = open.pop();
      if (open.length === 0 || element?.name !== tag.slice(1)) {
        throw new Error(`</${tag.slice(1)}> at ${lt} closes <${element?.name}>`);
      }
      continue;
    }
    const empty = tag.endsWith('/');
    const body = empty ? tag.slice(0, -1) : tag;
    const space = body.search(/\s|$/);
    const element: XmlElement = {
      name: body.slice(0, space),
      attributes: parseAttributes(body.slice(space), lt),
      children: [],
    };
    if (element.name === '') throw new Error(`unnamed element at ${lt}`);
    if (open.length === 1 && document.children.length > 0) {
      throw new Error(`a second root element at ${lt}`);
    }
    open[open.length - 1]!.children.push(element);
    if (!empty) open.push(element);
  }
  if (open.length !== 1) throw new Error(`<${open[open.length - 1]!.name}> is never closed`);
  if (document.children.length !== 1) throw new Error('no root element');
  return document.children[0]!;
}

function findAll(root: XmlElement, match: (e: XmlElement) => boolean): XmlElement[] {
  return [...(match(root) ? [root] : []), ...root.children.flatMap((c) => findAll(c, match))];
}

const withClass = (name: string, target?: string) => (e: XmlElement) =>
  e.attributes.get('class') === name &&
  (target === undefined || e.attributes.get('data-target') === target);

/** A cell whose throughput and p99 follow from its client count, round and target. */
function cell(
  target: Cell['target'],
  op: Cell['op'],
  placement: Cell['placement'],
  clients: number,
  round: number,
): Cell {
  const opsPerSecond = (target === 'etcd' ? 1000 : 800) * Math.log2(clients + 1) + round * 50;
  return {
    target,
    op,
    placement,
    clients,
    round,
    result: {
      completed: opsPerSecond,
      errors: 0,
      opsPerSecond,
      p50Ms: clients / 10,
      p99Ms: clients / 4 + round,
      clientCpuPercent: 0,
      serverCpuPercent: 0,
      serverCpuMsPerOp: 0,
    },
    load: { loadAverage: 1, cpuPercent: 100 },
  };
}

const CLIENTS = [1, 16, 64, 256];
const full = summarizeCells(
  [1, 2, 3].flatMap((round) =>
    (['put', 'get'] as const).flatMap((op) =>
      (['leader', 'spread'] as const).flatMap((placement) =>
        CLIENTS.flatMap((clients) =>
          (['etcd', 'cat-feeder'] as const).map((target) =>
            cell(target, op, placement, clients, round),
          ),
        ),
      ),
    ),
  ),
);

const points = (polyline: XmlElement) =>
  polyline.attributes
    .get('points')!
    .split(' ')
    .map((pair) => pair.split(',').map(Number) as [number, number]);

describe('chartSvg', () => {
  it.each(['throughput', 'p99'] as const)(
    '%s: one panel per op and placement, one line per target, one point per client count',
    (metric) => {
      const svg = parseXml(chartSvg(full, metric));
      expect(svg.name).toBe('svg');
      const panels = findAll(svg, withClass('panel'));
      expect(
        panels.map((p) => `${p.attributes.get('data-op')}/${p.attributes.get('data-placement')}`),
      ).toEqual(['put/leader', 'put/spread', 'get/leader', 'get/spread']);
      for (const panel of panels) {
        for (const target of ['etcd', 'cat-feeder']) {
          const lines = findAll(panel, withClass('series', target));
          expect(lines).toHaveLength(1);
          expect(points(lines[0]!)).toHaveLength(CLIENTS.length);
          const marks = findAll(panel, withClass('point', target));
          expect(marks).toHaveLength(CLIENTS.length);
          // Three rounds that differ: every point has its min–max bar.
          for (const mark of marks) expect(findAll(mark, (e) => e.name === 'path')).toHaveLength(1);
        }
      }
    },
  );

  it('puts more clients to the right, and more throughput higher up', () => {
    const svg = parseXml(chartSvg(full, 'throughput'));
    const [putLeader] = findAll(svg, withClass('panel'));
    const etcd = points(findAll(putLeader!, withClass('series', 'etcd'))[0]!);
    for (let i = 1; i < etcd.length; i++) {
      expect(etcd[i]![0]).toBeGreaterThan(etcd[i - 1]![0]);
      expect(etcd[i]![1]).toBeLessThan(etcd[i - 1]![1]); // SVG's y grows downwards
    }
    // On a log scale 16 → 64 and 64 → 256 are the same distance.
    expect(etcd[2]![0] - etcd[1]![0]).toBeCloseTo(etcd[3]![0] - etcd[2]![0], 0);
  });

  it('draws the cells a target has, and no bars for a single round', () => {
    const cells = [
      cell('etcd', 'put', 'leader', 1, 1),
      cell('etcd', 'put', 'leader', 16, 1),
      cell('cat-feeder', 'put', 'leader', 1, 1),
    ];
    const source = chartSvg(summarizeCells(cells), 'p99');
    expect(source).not.toContain('NaN');
    const svg = parseXml(source);
    expect(findAll(svg, withClass('panel'))).toHaveLength(1);
    expect(points(findAll(svg, withClass('series', 'etcd'))[0]!)).toHaveLength(2);
    expect(points(findAll(svg, withClass('series', 'cat-feeder'))[0]!)).toHaveLength(1);
    const marks = findAll(svg, withClass('point'));
    expect(marks.flatMap((m) => findAll(m, (e) => e.name === 'path'))).toHaveLength(0);
  });

  it('handles a single client count without dividing by zero', () => {
    const source = chartSvg(summarizeCells([cell('etcd', 'get', 'spread', 16, 1)]), 'throughput');
    expect(source).not.toMatch(/NaN|Infinity/);
    expect(() => parseXml(source)).not.toThrow();
  });
});

describe('parseXml (the check itself)', () => {
  it('refuses what is not well-formed', () => {
    expect(() => parseXml('<a><b></a></b>')).toThrow();
    expect(() => parseXml('<a>fish & chips</a>')).toThrow();
    expect(() => parseXml('<a x="1" x="2"/>')).toThrow();
    expect(() => parseXml('<a x=1/>')).toThrow();
    expect(() => parseXml('<a/><b/>')).toThrow();
    expect(() => parseXml('<a>')).toThrow();
    expect(parseXml('<a x="&lt;"><b/></a>').children).toHaveLength(1);
  });
});

describe('chart helpers', () => {
  it('escapes text for XML', () => {
    expect(escapeXml(`<"it's" & more>`)).toBe('&lt;&quot;it&apos;s&quot; &amp; more&gt;');
  });

  it('chooses round axis ticks from 0 past the largest value', () => {
    expect(niceTicks(7965)).toEqual([0, 2000, 4000, 6000, 8000]);
    expect(niceTicks(87.4)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(2)).toEqual([0, 0.5, 1, 1.5, 2]);
    expect(niceTicks(0)).toEqual([0, 1]);
  });

  it('names the charts after the report, beside it', () => {
    expect(chartFiles('docs/benchmarks.md')).toEqual({
      throughput: 'docs/benchmarks-throughput.svg',
      p99: 'docs/benchmarks-p99.svg',
    });
  });
});
