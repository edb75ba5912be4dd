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

// While a map of pictureFromNodes nodes or more is dragged, pinched or
// wheeled, the page moves the picture already on screen (gesturePicture)
// and Cytoscape draws the map anew when the gesture ends. Cytoscape's own
// way (textureOnViewport) draws a picture of the whole map on the
// gesture's first frame: BenchmarkPanZoom, in software here, at 5,000
// nodes, took that frame 0.78-0.90 s with the edges in it and 0.48-0.52 s
// without (hideEdgesOnViewport too), then 60 frames a second, so a 1 s
// drag had 26 frames at best; drawing the nodes live without their edges
// kept 15-20 for a drag and 12 for a wheel. Below 500 nodes the canvas
// keeps up anyway.
export const pictureFromNodes = 500;

// followSize keeps the size of cy's map for the next visit's choice
// (written at most every few seconds, however many nodes a delta adds)
// and, when viewport is set (the canvas renderer), moves the picture on
// screen during a gesture once the map has pictureFromNodes nodes
// (gesturePicture). The container's data-gesture says which: "picture"
// or "live".
export function followSize(cy, { viewport }) {
  let timer = 0;
  let frame = 0;
  let nodes = 0;
  const save = () => {
    timer = 0;
    if (!cy.destroyed()) storePref(sizeKey, String(cy.nodes().length));
  };
  const count = () => {
    frame = 0;
    if (cy.destroyed()) return;
    nodes = cy.nodes().length;
    cy.container().dataset.gesture = nodes >= pictureFromNodes ? 'picture' : 'live';
  };
  if (viewport) {
    gesturePicture(cy, () => nodes >= pictureFromNodes);
    count();
  }
  cy.on('add remove', () => {
    if (!timer) timer = setTimeout(save, 2000);
    if (viewport && !frame) frame = requestAnimationFrame(count);
  });
}

// gesturePicture makes cy's canvas renderer, while on() holds, move what
// it last drew instead of drawing during a pan or zoom by hand: its
// canvases take a CSS transform that puts each point of the last frame
// where the viewport now shows it (the compositor does it, in no time),
// and the first frame after the gesture draws the map for real. What the
// last frame did not cover shows empty until then, as with Cytoscape's
// own picture. A node dragged, a box selected, an animation of the
// camera: drawn as ever.
//
// It relies on Cytoscape 3.35's canvas renderer: render(options) draws a
// frame (options.forcedContext: into something else, such as a PNG), the
// flags hoverData.dragging (a pan), pinching, swipePanning and
// data.wheelZooming say a gesture is on, data.canvases are its layers
// (index 0, the top one, takes no drawing of ours and stays put).
function gesturePicture(cy, on) {
  const r = cy.renderer();
  const draw = r.render;
  if (typeof draw !== 'function' || !r.data || !r.hoverData) return;
  let drawn = null; // the viewport of the last frame drawn: {zoom, pan}
  let moved = false; // the canvases carry a transform
  let ending = false; // the gesture is over: the next frame draws
  let watch = 0;
  const layers = () => [...r.data.canvases].slice(1);
  const gesture = () => !!(r.hoverData.dragging || r.pinching || r.swipePanning || r.data.wheelZooming) && !r.hoverData.draggingEles;
  const settle = () => {
    moved = false;
    ending = false;
    for (const c of layers()) c.style.transform = '';
  };
  // A gesture ends without always asking for a frame: once it has, one is
  // asked for, which draws the map and takes the transform off.
  const follow = () => {
    watch = 0;
    if (!moved || cy.destroyed()) return;
    if (gesture()) {
      watch = requestAnimationFrame(follow);
      return;
    }
    r.redrawHint('eles', true);
    r.redrawHint('drag', true);
    r.redraw();
  };
  r.render = function (options = {}) {
    if (!options.forcedContext && drawn && on() && gesture()) {
      const k = cy.zoom() / drawn.zoom;
      const p = cy.pan();
      const tx = p.x - drawn.pan.x * k;
      const ty = p.y - drawn.pan.y * k;
      for (const c of layers()) {
        c.style.transformOrigin = '0 0';
        c.style.transform = `translate(${tx}px, ${ty}px) scale(${k})`;
      }
      moved = true;
      moving.add(cy);
      if (!watch) watch = requestAnimationFrame(follow);
      return undefined;
    }
    if (moved && !options.forcedContext) {
      // Everything is drawn anew, not only what Cytoscape thinks changed
      // since the frame it last drew.
      r.redrawHint('eles', true);
      r.redrawHint('drag', true);
      if (!ending) {
        // What waited for the gesture's end (kept labels, the level of
        // detail) restyles now, and the next frame draws it all: this
        // frame's rendered styles were worked out already.
        ending = true;
        moving.delete(cy);
        cy.emit('gestureend');
        r.redraw();
        return undefined;
      }
    }
    const out = draw.call(this, options);
    if (!options.forcedContext) {
      if (moved) settle();
      drawn = { zoom: cy.zoom(), pan: { ...cy.pan() } };
    }
    return out;
  };
}

// The instances whose picture a gesture is moving. Not in cy's scratch:
// setting that restyles the whole map (Cytoscape 3.35).
const moving = new WeakSet();

// gesturing tells whether a gesture is moving cy's picture on screen
// (gesturePicture): what the picture hides anyway (labels sized for the
// zoom, the level of detail) can wait for its end, which cy announces
// with a "gestureend" event, in time for the frame that draws the map.
export function gesturing(cy) {
  return moving.has(cy);
}

// lastSize is the size followSize kept, 0 if none.
export function lastSize() {
  return Number(loadPref(sizeKey)) || 0;
}
