// export.js runs the Export menu: the map (or the selection) as a PNG for
// a projector or for print, the selected containers (or the Compose project
// the map is focused on) as a Compose file from the server, and the
// reachability matrix as CSV or Markdown. Every file goes to the browser's
// downloads through an object URL.

import { APIError, errorText } from './api.js';
import { toCSV, toMarkdown } from './export-table.js';

const byID = (id) => document.getElementById(id);

// The projector's picture, in pixels.
export const projectorSize = { width: 1920, height: 1080 };

// printScale is how many pixels of the print PNG a pixel of the map at
// zoom 1 becomes.
export const printScale = 3;

// The label Compose puts on a project's containers, as focus.js's
// "Labelled…" takes it.
const projectLabel = 'com.docker.compose.project';

// createExport wires the Export menu of the map cy and the matrix's
// export buttons. selection (createSelection) says what is selected,
// matrix (createMatrix) gives the matrix's words, toast tells. It returns
// {png(kind), composeFile(), matrixFile(format)}.
export function createExport({ cy, selection, matrix, toast }) {
  const menu = byID('export-menu');

  // exported is what a PNG shows: the selection with its edges between
  // selected nodes and the boxes around them, or, with nothing selected,
  // everything shown.
  function exported() {
    const nodes = cy.nodes(':selected:visible');
    if (nodes.empty()) return null;
    const withBoxes = nodes.union(nodes.ancestors());
    return withBoxes.union(nodes.edgesWith(nodes).filter(':visible'));
  }

  // picture renders the map, or only the part kept, as a PNG blob of the
  // given scale and background. What is not kept is hidden for the time
  // of one synchronous render, so the page never shows it gone.
  function picture({ scale, bg }) {
    const keep = exported();
    const hidden = keep ? cy.elements(':visible').not(keep) : cy.collection();
    hidden.addClass('export-hidden');
    try {
      return cy.png({ output: 'blob', full: true, scale, bg });
    } finally {
      hidden.removeClass('export-hidden');
    }
  }

  // projector fits the map into a 1920×1080 picture on the page's own
  // background, centred, as large as it goes.
  async function projector() {
    const bb = (exported() || cy.elements(':visible')).boundingBox();
    const margin = 40;
    const w = projectorSize.width - 2 * margin;
    const h = projectorSize.height - 2 * margin;
    const scale = Math.max(0.05, Math.min(w / Math.max(bb.w, 1), h / Math.max(bb.h, 1)));
    const bg = getComputedStyle(byID('graph')).backgroundColor || '#ffffff';
    const drawn = await createImageBitmap(picture({ scale, bg }));
    const canvas = document.createElement('canvas');
    canvas.width = projectorSize.width;
    canvas.height = projectorSize.height;
    const g = canvas.getContext('2d');
    g.fillStyle = bg;
    g.fillRect(0, 0, canvas.width, canvas.height);
    const s = Math.min(1, canvas.width / drawn.width, canvas.height / drawn.height);
    const dw = drawn.width * s;
    const dh = drawn.height * s;
    g.drawImage(drawn, (canvas.width - dw) / 2, (canvas.height - dh) / 2, dw, dh);
    drawn.close();
    return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the canvas made no PNG'))), 'image/png'));
  }

  async function png(kind) {
    closeMenu();
    try {
      const part = exported() ? 'selection' : 'map';
      if (kind === 'print') {
        download(picture({ scale: printScale, bg: '#ffffff' }), `dockmap-${part}-print.png`);
      } else {
        download(await projector(), `dockmap-${part}-1920x1080.png`);
      }
    } catch (err) {
      toast(`PNG export failed: ${errorText(err)}`, 'error');
    }
  }

  // composeQuery says what to ask the server for: the selected
  // containers, else the Compose project the map is focused on.
  function composeQuery() {
    const ids = selection.containers().map((n) => n.id().replace(/^c:/, ''));
    if (ids.length) return `containers=${encodeURIComponent(ids.join(','))}`;
    // A selected Compose project box ("p:NAME", "p:NAME@ENGINE").
    const box = cy.nodes('.project:selected');
    if (box.length === 1) {
      const [, engine] = box.id().split('@');
      return `project=${encodeURIComponent(box.data('name'))}${engine ? `&engine=${encodeURIComponent(engine)}` : ''}`;
    }
    const kind = byID('focus-kind')?.value;
    if (kind === 'project' && byID('focus-value')?.value.trim()) return `project=${encodeURIComponent(byID('focus-value').value.trim())}`;
    const [key, value] = String(byID('focus-value')?.value || '').split('=');
    if (kind === 'label' && key.trim() === projectLabel && value) return `project=${encodeURIComponent(value.trim())}`;
    return '';
  }

  async function composeFile() {
    closeMenu();
    const q = composeQuery();
    if (!q) {
      toast('Select containers or a Compose project\'s box first (Shift+click for more), or show only one Compose project (Show only → Compose project…).');
      return;
    }
    try {
      const res = await fetch(`/api/export/compose?${q}`, { credentials: 'same-origin', headers: { Accept: 'application/yaml, application/json' } });
      if (!res.ok) {
        const body = await res.json().catch(() => null);
        throw new APIError(res.status, body?.error, body?.detail || body?.error);
      }
      const name = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') || '')?.[1] || 'compose.yaml';
      const blob = await res.blob();
      download(blob, name);
      if ((await blob.text()).includes('# Left out')) toast(`${name}: some settings could not be exported; the file's first lines say which.`);
    } catch (err) {
      toast(`Compose export failed: ${errorText(err)}`, 'error');
    }
  }

  function matrixFile(format) {
    const rows = matrix.rows();
    if (rows.length < 2) {
      toast('The matrix is empty: ping some containers first.');
      return;
    }
    if (format === 'csv') download(new Blob([toCSV(rows)], { type: 'text/csv' }), 'dockmap-reachability.csv');
    else download(new Blob([toMarkdown(rows)], { type: 'text/markdown' }), 'dockmap-reachability.md');
  }

  function closeMenu() {
    if (menu) menu.open = false;
  }

  byID('export-png-projector')?.addEventListener('click', () => png('projector'));
  byID('export-png-print')?.addEventListener('click', () => png('print'));
  byID('export-compose')?.addEventListener('click', composeFile);
  byID('matrix-export-csv')?.addEventListener('click', () => matrixFile('csv'));
  byID('matrix-export-md')?.addEventListener('click', () => matrixFile('md'));
  // A click elsewhere closes the menu, as a menu does.
  document.addEventListener('click', (ev) => {
    if (menu?.open && !menu.contains(ev.target)) closeMenu();
  });

  return { png, composeFile, matrixFile };
}

// download saves blob under name through a link to an object URL, freed
// once the browser has taken it.
function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
