// matrix.js draws the reachability matrix from the probe results: one row
// per container that pinged, one column per container pinged (the same
// set, so the matrix is square), each cell split "IP | name": green when
// the latest probe reached, red when it failed, grey when never tried or
// when the probe could not run ("could not measure", with the
// prediction). A cell's title holds the failure kind and detail.

import { h } from './dom.js';
import { mismatchText, unmeasured, unmeasuredText, predictionText } from './reach.js';

// createMatrix draws the matrix of the results of probes (createProbes)
// with the predictions of reach (createReach). It returns {render(table,
// emptyEl), rows()}: redraw table (and show emptyEl when there is
// nothing); the matrix as rows of words, for export (export-table.js).
export function createMatrix({ probes, reach }) {
  // members are the containers of the matrix, in its order.
  function members() {
    const ids = new Set();
    for (const r of probes.allResults()) {
      ids.add(r.from);
      ids.add(r.to);
    }
    return [...ids].map((id) => ({ id, name: probes.nameOf(id) })).sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  }

  // renderMatrix redraws table (and shows emptyEl when there is nothing).
  function renderMatrix(table, emptyEl) {
    if (!table) return;
    const sorted = members();
    if (emptyEl) emptyEl.hidden = sorted.length > 0;
    table.hidden = sorted.length === 0;
    if (!sorted.length) {
      table.replaceChildren();
      return;
    }
    const head = h(
      'tr',
      {},
      h('th', { className: 'corner', scope: 'col', text: 'from ↓ · to →' }),
      sorted.map((c) => h('th', { scope: 'col', className: 'col-name', title: c.name, text: c.name, dataset: { id: c.id } })),
    );
    const rows = sorted.map((row) =>
      h(
        'tr',
        { dataset: { from: row.id } },
        h('th', { scope: 'row', className: 'row-name', title: row.name, text: row.name }),
        sorted.map((col) => (row.id === col.id ? h('td', { className: 'self', text: '—' }) : cell(row, col))),
      ),
    );
    table.replaceChildren(h('thead', {}, head), h('tbody', {}, rows));
  }

  function cell(row, col) {
    return h(
      'td',
      { className: 'pair' },
      half(row, col, 'ip', 'IP'),
      h('span', { className: 'sep', attrs: { 'aria-hidden': 'true' }, text: '|' }),
      half(row, col, 'name', 'name'),
    );
  }

  function half(row, col, by, text) {
    const r = probes.resultFor(row.id, col.id, by);
    const state = stateOf(r);
    const mark = { ok: '✓', fail: '✗', unknown: '·', unmeasured: '?' }[state];
    const cls = ['half', state];
    // No measure is drawn like no probe yet: grey.
    if (state === 'unmeasured') cls.push('unknown');
    if (probes.isPending(row.id, col.id, by)) cls.push('pending');
    const how = `${row.name} → ${col.name} by ${by === 'ip' ? 'IP' : 'name'}`;
    let title = `${how}: ${state === 'unmeasured' ? unmeasuredText(r) : probes.failureTitle(r)}`;
    // Predictions are fetched only for a matrix someone looks at.
    const v = r && matrixShown() ? reach.verdictFor(r) : undefined;
    const differsNow = !!r && reach.differs(r, v);
    if (state === 'unmeasured' && v) title += `\n${predictionText(v, by)}`;
    if (state === 'fail' && v) {
      for (const why of v.reasons) title += `\nwhy: ${why.text || why.code}${why.fix ? `\nfix: ${why.fix}` : ''}`;
    }
    if (differsNow) {
      cls.push('mismatch');
      title += `\n${mismatchText}`;
    }
    return h('span', {
      className: cls.join(' '),
      title,
      text: `${mark} ${text}`,
      dataset: {
        testid: 'matrix-cell', from: row.id, to: col.id, by, state, failure: (r && r.failure) || '', mismatch: String(differsNow),
        // The prediction beside the measure: "true", "false", or "" while
        // it is not known.
        predicted: v ? String(v.ok) : '',
        reasons: r && !r.ok && v ? v.reasons.map((x) => x.code).join(' ') : '',
      },
    });
  }

  function matrixShown() {
    const m = document.getElementById('matrix');
    return !!m && !m.hidden;
  }

  // rows is the matrix as words: the header row (the containers pinged),
  // then one row per container that pinged; a cell says each way of
  // asking's result (ok, fail, unmeasured, or - when never tried), and the
  // prediction beside it when the matrix shows one. The pair of a
  // container with itself is "-".
  function rows() {
    const sorted = members();
    const out = [['from \\ to', ...sorted.map((c) => c.name)]];
    for (const row of sorted) {
      out.push([
        row.name,
        ...sorted.map((col) => {
          if (row.id === col.id) return '-';
          return ['ip', 'name']
            .map((by) => {
              const r = probes.resultFor(row.id, col.id, by);
              const word = { ok: 'ok', fail: 'fail', unknown: '-', unmeasured: 'unmeasured' }[stateOf(r)];
              const v = r && matrixShown() ? reach.verdictFor(r) : undefined;
              return `${by === 'ip' ? 'IP' : 'name'}: ${word}${v ? ` (predicted ${v.ok ? 'ok' : 'fail'})` : ''}`;
            })
            .join('; ');
        }),
      ]);
    }
    return out;
  }

  return { render: renderMatrix, rows };
}

// stateOf names a probe result's state in the matrix.
function stateOf(r) {
  return !r ? 'unknown' : r.ok ? 'ok' : unmeasured(r) ? 'unmeasured' : 'fail';
}
