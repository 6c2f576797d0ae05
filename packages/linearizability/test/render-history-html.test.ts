// Structure of the rendered page; how it looks was checked by eye in a browser, not here.
import { describe, expect, it } from 'vitest';
import { checkKvHistory, renderHistoryHtml } from '../src/index.js';
import { cas, get, history, put } from './history-builder.js';

const stale = history(
  [
    put('p1', 0, 10, 'x', 'a'),
    put('p1', 20, 30, 'x', 'b'),
    put('p3', 25, 40, 'x', 'c', 'info'),
    cas('p3', 45, 50, 'x', 'a', 'z', true, 'fail'),
    get('p2', 40, 50, 'x', 'a'),
    get('p2', 60, 70, 'y', null),
  ],
  'ms',
);

function ids(html: string): string[] {
  return [...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]!);
}

describe('renderHistoryHtml', () => {
  it('draws the failing key, highlights what cannot be linearized and explains it', () => {
    const result = checkKvHistory(stale);
    const html = renderHistoryHtml(stale, { result, title: 'cat & feeder' });
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('<title>cat &amp; feeder</title>');
    expect(html).toContain('<h2>Key x <span class="verdict v-illegal">illegal</span></h2>');
    expect(html).not.toContain('<h2>Key y');
    // The paragraph, escaped, and the numbered prefix.
    expect(html).toContain(
      `<p class="explanation">Read of key x by process p2 (t=40–50 ms) returned &#39;a&#39;, but &#39;b&#39; was written`,
    );
    expect(html).toContain('After the 2 numbered operations the value is &#39;b&#39;.');
    // One lane per process of the key.
    expect([...html.matchAll(/class="lane">([^<]*)</g)].map((m) => m[1])).toEqual([
      'process p1',
      'process p3',
      'process p2',
    ]);
    // The impossible read is red and the write it should have seen is cited in blue.
    const culprit = html.slice(html.indexOf('id="k0-culprit"'));
    expect(culprit).toMatch(/^id="k0-culprit" class="culprit"><title>process p2, operation 4/);
    expect(culprit).toContain('stroke="#c62828"');
    expect(html).toMatch(
      /<title>process p1, operation 1 \(#2 in the order found\)\nput &#39;b&#39; → ok\nt=20–30 ms<\/title>[\s\S]*?stroke="#1565c0"/,
    );
    // The unknown put runs off to the right, fading, with an arrow; the failed cas is greyed.
    expect(html).toMatch(/fill="url\(#k0-fade\)" stroke="#777"[^>]*stroke-dasharray/);
    expect(html).toContain('outcome unknown');
    expect(html).toContain('did not happen');
  });

  it('is self-contained and escapes what the history says', () => {
    const h = history([
      put('<p>', 0, 10, 'a&b', '<script>alert(1)</script>'),
      get('"q"', 20, 30, 'a&b', "it's"),
    ]);
    const html = renderHistoryHtml(h, { result: checkKvHistory(h) });
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('process <p>');
    expect(html).toContain('process &lt;p&gt;');
    expect(html).toContain('Key a&amp;b');
    expect(html).not.toMatch(/\b(src|href)=/);
    expect(html).not.toMatch(/@import|url\((?!#)/);
    expect([...html.matchAll(/https?:\/\/[^"]+/g)].map((m) => m[0])).toEqual(
      Array(2).fill('http://www.w3.org/2000/svg'),
    );
  });

  it('draws every key of a linearizable history with the order found, ids unique', () => {
    const h = history([put('p1', 0, 10, 'x', 'a'), put('p1', 20, 30, 'y', 'b')]);
    const html = renderHistoryHtml(h, { result: checkKvHistory(h) });
    expect(html).toContain('<h2>Key x');
    expect(html).toContain('<h2>Key y');
    expect(html).toContain('numbered: a valid order found');
    expect(html).not.toContain('class="explanation"');
    const all = ids(html);
    expect(new Set(all).size).toBe(all.length);
  });

  it('draws the key asked for, without a result too', () => {
    const html = renderHistoryHtml(stale, { key: 'y' });
    expect(html).toContain('<h2>Key y </h2>');
    expect(html).not.toContain('<h2>Key x');
    expect(html).not.toContain('Verdict:');
  });

  it('shows the operations nearest the failure of a long history', () => {
    const writes = Array.from({ length: 50 }, (_, i) =>
      put('p1', i * 10, i * 10 + 5, 'x', `v${i}`),
    );
    const h = history([...writes, get('p2', 600, 610, 'x', 'v3')]);
    const result = checkKvHistory(h);
    const html = renderHistoryHtml(h, { result, maxOperations: 6 });
    expect(html).toContain('Showing 6 of 51 operations on this key, those nearest the failure.');
    expect(html).toContain('id="k0-culprit"');
    expect(html).toContain('put &#39;v49&#39;'); // the write the read should have seen
    expect(html).not.toContain('put &#39;v10&#39;');
  });
});
