// graph-render.js picks how Cytoscape draws the map (issue 14): its WebGL
// renderer for a big map where the browser has WebGL on a GPU, the 2D
// canvas otherwise. Cytoscape fixes the renderer when the instance is
// made, before the first snapshot says how big the map is, so the choice
// goes by the size of the map this browser showed last (kept by
// followSize), and a page setting can force either.

import { loadPref, storePref } from './prefs.js';

// From this many nodes on, WebGL draws the map (when the GPU allows).
// Below it the canvas draws what WebGL cannot (dashed and dotted edges,
// arrow shapes other than triangles) at a frame rate that is fine anyway.
export const webglFromNodes = 2000;

const sizeKey = 'dockmap.map-nodes';
const settingKey = 'dockmap.renderer';

// chooseRenderer decides between 'webgl' and 'canvas' for a map of nodes
// nodes (the last one seen), the page setting ('webgl', 'canvas' or none)
// and gl(), what WebGL the browser has ('hardware', 'software' or 'none'),
// asked only when it matters. WebGL in software (SwiftShader, llvmpipe)
// draws slower than the canvas on the same CPU, so only a GPU earns it,
// unless the setting asks.
export function chooseRenderer({ nodes, setting, gl = webglKind }) {
  if (setting === 'canvas' || (setting !== 'webgl' && nodes < webglFromNodes)) return 'canvas';
  const kind = gl();
  if (kind === 'none') return 'canvas';
  return setting === 'webgl' || kind === 'hardware' ? 'webgl' : 'canvas';
}

let glKind;

// webglKind tells whether the browser has WebGL 2 (what Cytoscape's
// renderer needs) and whether a GPU or software draws it. It asks once:
// a context is not free.
export function webglKind() {
  if (glKind) return glKind;
  glKind = 'none';
  try {
    const gl = document.createElement('canvas').getContext('webgl2');
    if (gl) {
      const info = gl.getExtension('WEBGL_debug_renderer_info');
      const name = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
      glKind = /swiftshader|llvmpipe|softpipe|software|basic render/i.test(name) ? 'software' : 'hardware';
      const lose = gl.getExtension('WEBGL_lose_context');
      if (lose) lose.loseContext();
    }
  } catch {
    // A browser that throws on the probe has no WebGL to offer.
  }
  return glKind;
}

// rendererSetting is the page's setting: ?renderer=webgl|canvas in the
// address (kept for later visits), ?renderer=auto to forget it.
export function rendererSetting() {
  const asked = new URLSearchParams(location.search).get('renderer');
  if (asked === 'webgl' || asked === 'canvas') storePref(settingKey, asked);
  else if (asked === 'auto') storePref(settingKey, '');
  const kept = loadPref(settingKey);
  return kept === 'webgl' || kept === 'canvas' ? kept : '';
}

// renderOptions returns the Cytoscape options for the renderer chosen.
export function renderOptions(choice) {
  return { webgl: choice === 'webgl' };
}

// While a map of viewportTextureFromNodes nodes or more is dragged or
// wheeled, the canvas moves a picture of it (Cytoscape's
// textureOnViewport) and draws it anew when the gesture ends; from
// hideEdgesFromNodes on, the picture leaves the edges out
// (hideEdgesOnViewport too), and they come back when the gesture ends.
// Cytoscape draws the picture on a gesture's first frame, the whole map
// at twice the resolution. BenchmarkPanZoom, in software here, at 5,000
// nodes: the picture with edges took that first frame 0.78-0.90 s, then
// 60 frames a second, so a 1 s drag had 3-9 frames; without edges 0.48-
// 0.52 s, then 60, some 30 frames in that second; the nodes drawn live
// without their edges (hideEdgesOnViewport alone, the choice until then)
// kept 15-20 for a drag and 12 for a wheel. At 1,000 the picture with
// its edges keeps 60. Below 500 nodes the canvas keeps up anyway.
export const viewportTextureFromNodes = 500;
export const hideEdgesFromNodes = 2000;

// followSize keeps the size of cy's map for the next visit's choice
// (written at most every few seconds, however many nodes a delta adds)
// and, when viewport is set, sets the canvas's way of drawing a gesture
// as the map crosses the sizes above. Cytoscape takes those options only
// at creation, before the map's size is known; its canvas renderer reads
// the flags on every frame, so they are set there (3.35).
export function followSize(cy, { viewport }) {
  let timer = 0;
  let frame = 0;
  const r = cy.renderer();
  const save = () => {
    timer = 0;
    if (!cy.destroyed()) storePref(sizeKey, String(cy.nodes().length));
  };
  const fit = () => {
    frame = 0;
    if (cy.destroyed()) return;
    const n = cy.nodes().length;
    r.textureOnViewport = n >= viewportTextureFromNodes;
    r.hideEdgesOnViewport = n >= hideEdgesFromNodes;
  };
  cy.on('add remove', () => {
    if (!timer) timer = setTimeout(save, 2000);
    if (viewport && !frame) frame = requestAnimationFrame(fit);
  });
}

// lastSize is the size followSize kept, 0 if none.
export function lastSize() {
  return Number(loadPref(sizeKey)) || 0;
}
