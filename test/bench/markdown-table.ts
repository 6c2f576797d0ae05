// A Markdown table padded to its columns, so that it reads on a terminal as well as rendered.

/** The first `textColumns` columns are left-aligned, the rest (figures) right-aligned. */
export function markdownTable(
  textColumns: number,
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]?.length ?? 0)));
  const pad = (cell: string, c: number) =>
    c < textColumns ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!);
  const line = (cells: readonly string[]) => `| ${cells.map(pad).join(' | ')} |`;
  const rule = `| ${widths.map((w, c) => (c < textColumns ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
