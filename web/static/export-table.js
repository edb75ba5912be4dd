// export-table.js turns a table (rows of cells, the first row the header)
// into CSV or Markdown text. It is pure, so that the browser test can
// check it on its own.

// toCSV writes rows as RFC 4180 CSV: a cell holding a comma, a quote or
// a line break is quoted, its quotes doubled; lines end in CRLF.
export function toCSV(rows) {
  const field = (v) => {
    const s = String(v ?? '');
    return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return rows.map((r) => r.map(field).join(',')).join('\r\n') + '\r\n';
}

// toMarkdown writes rows as a GitHub-flavoured Markdown table: the first
// row is the header; a pipe in a cell is escaped and a line break becomes
// a space, so that every row stays one line.
export function toMarkdown(rows) {
  if (!rows.length) return '';
  const cell = (v) => String(v ?? '').replace(/\r?\n/g, ' ').replaceAll('\\', '\\\\').replaceAll('|', '\\|');
  const width = Math.max(...rows.map((r) => r.length));
  const line = (r) => `| ${Array.from({ length: width }, (_, i) => cell(r[i])).join(' | ')} |`;
  return [line(rows[0]), `|${' --- |'.repeat(width)}`, ...rows.slice(1).map(line)].join('\n') + '\n';
}
