package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/topology"
)

// TestBrowserRendererChoice checks issue 14's rendering choice in real
// headless Chromium: a big map is drawn by Cytoscape's WebGL renderer when
// the browser has WebGL on a GPU, and by the canvas otherwise (no WebGL,
// WebGL in software, a small map, or the page setting asking for it); and
// ?renderer=webgl makes the real page draw with WebGL, its legend saying
// how the dashed edges look then, until ?renderer=auto. Chromium here has
// WebGL only in software (SwiftShader): the choice with a GPU is checked
// through chooseRenderer, whose GPU answer is the one seam.
func TestBrowserRendererChoice(t *testing.T) {
	base := startDockmap(t, nil)
	b := newBrowser(t)
	openMap(t, b, base)

	got := awaitJS[[]string](t, b, `(async () => {
  const r = await import('/static/graph-render.js');
  const cases = [
    [5000, '', 'hardware'], [5000, '', 'software'], [5000, '', 'none'], [100, '', 'hardware'],
    [5000, 'canvas', 'hardware'], [100, 'webgl', 'software'], [5000, 'webgl', 'none'],
  ];
  return cases.map(([nodes, setting, gl]) => r.chooseRenderer({ nodes, setting, gl: () => gl }));
})()`)
	want := []string{"webgl", "canvas", "canvas", "canvas", "canvas", "webgl", "canvas"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("chooseRenderer: got %v, want %v (big map: GPU, software, none; small map; setting canvas; setting webgl in software, with no WebGL)", got, want)
	}

	// A big map in this browser, as createGraph chooses it: WebGL only
	// if a GPU draws it, which the page finds out by itself.
	real := awaitJS[[]string](t, b, `(async () => {
  const g = await import('/static/graph.js');
  const r = await import('/static/graph-render.js');
  const box = document.createElement('div');
  box.style.cssText = 'position:fixed;inset:0;z-index:-1';
  document.body.append(box);
  const cy = g.createGraph(box, { nodes: 5000 });
  const out = [r.webglKind(), box.dataset.renderer, cy.renderer().webgl ? 'webgl' : 'canvas'];
  cy.destroy();
  box.remove();
  return out;
})()`)
	if len(real) != 3 || real[0] == "" {
		t.Fatalf("a big map's renderer: %v", real)
	}
	wantReal := "canvas"
	if real[0] == "hardware" {
		wantReal = "webgl"
	}
	t.Logf("this Chromium's WebGL: %s", real[0])
	if real[1] != wantReal || real[2] != wantReal {
		t.Errorf("a big map with WebGL %q: container says %q, Cytoscape draws with %q; want %q", real[0], real[1], real[2], wantReal)
	}

	// The canvas moves the picture on screen while a big map is dragged
	// or wheeled (TestBrowserGesturePicture), and draws a small one live;
	// the choice follows the map.
	big := topology.Build(benchScene(450, 20, 100))
	viewport := awaitJS[[]string](t, b, fmt.Sprintf(`(async () => {
  const g = await import('/static/graph.js');
  const box = document.createElement('div');
  box.style.cssText = 'position:fixed;inset:0;z-index:-1';
  document.body.append(box);
  const cy = g.createGraph(box, { nodes: 0 });
  const frames = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const flags = () => box.dataset.gesture;
  const out = [];
  cy.add([{ group: 'nodes', data: { id: 'one', label: 'one' }, classes: 'container' }]);
  await frames();
  out.push(flags());
  g.renderSnapshot(cy, %s);
  await frames();
  out.push(flags());
  cy.add(Array.from({ length: 2000 }, (_, i) => ({ group: 'nodes', data: { id: 'extra' + i }, position: { x: i, y: 0 } })));
  await frames();
  out.push(flags());
  cy.elements().remove();
  await frames();
  out.push(flags());
  cy.destroy();
  box.remove();
  return out;
})()`, protocol.Encode(&protocol.Snapshot{Snapshot: topology.Snapshot{Graph: big}})))
	if want := "[live picture picture live]"; fmt.Sprint(viewport) != want {
		t.Errorf("a gesture's drawing with 1 node, %d, %d, none: %v, want %s", len(big.Nodes), len(big.Nodes)+2000, viewport, want)
	}

	// The page setting: WebGL whatever the size, while the browser has it.
	state := `[document.getElementById('graph').dataset.renderer, window.cy.renderer().webgl ? 'webgl' : 'canvas',
		getComputedStyle(document.querySelector('.swatch-edge-mount-ro')).borderTopStyle]`
	if real[0] != "none" {
		load(t, b, "open the map with ?renderer=webgl", `window.dockmap && window.dockmap.connected && window.cy`, chromedp.Navigate(base+"/?renderer=webgl"))
		if s := mustEval[[]string](t, b, state); fmt.Sprint(s) != "[webgl webgl solid]" {
			t.Errorf("?renderer=webgl: graph, Cytoscape, read-only mount swatch: %v, want [webgl webgl solid]", s)
		}
		// Kept for the next visit.
		openMap(t, b, base)
		if s := mustEval[[]string](t, b, state); s[1] != "webgl" {
			t.Errorf("the visit after ?renderer=webgl draws with %v", s)
		}
	}
	load(t, b, "open the map with ?renderer=auto", `window.dockmap && window.dockmap.connected && window.cy`, chromedp.Navigate(base+"/?renderer=auto"))
	if s := mustEval[[]string](t, b, state); fmt.Sprint(s) != "[canvas canvas dashed]" {
		t.Errorf("?renderer=auto on the test engine's small map: %v, want [canvas canvas dashed]", s)
	}
}

// TestBrowserRendererEdgeStyles renders a read-only mount beside a
// read-write one and a broken link beside a live one, through the page's
// own renderSnapshot, under each renderer createGraph can pick, and checks
// that each pair differs in what that renderer draws: under WebGL, which
// draws every edge solid (Cytoscape 3.35 reads only line-color, width and
// the opacities of an edge line), in colour, width or opacity.
func TestBrowserRendererEdgeStyles(t *testing.T) {
	base := startDockmap(t, nil)
	b := newBrowser(t)
	openMap(t, b, base)

	hex := func(i int) string { return fmt.Sprintf("%064x", i) }
	bridge := topology.Network{ID: hex(100), Name: "bridge", Driver: "bridge", Scope: "local", Default: true}
	ctr := func(i int, name string) topology.Container {
		return topology.Container{ID: hex(i), Name: name, Names: []string{name}, Image: "app:1", State: "running",
			NetworkMode: "bridge", Endpoints: []topology.Endpoint{{NetworkID: bridge.ID, NetworkName: "bridge", IP: fmt.Sprintf("172.17.0.%d", i+1)}}}
	}
	writer, reader, linker := ctr(1, "writer"), ctr(2, "reader"), ctr(3, "linker")
	writer.Mounts = []topology.Mount{{Type: "volume", Name: "data", Destination: "/data", Driver: "local", RW: true}}
	reader.Mounts = []topology.Mount{{Type: "volume", Name: "data", Destination: "/data", Driver: "local"}}
	// linker links to writer (the engine lists the link as writer's extra
	// name) and to a container since removed.
	writer.Names = append(writer.Names, "linker/db")
	linker.Links = []topology.LinkRef{{Target: "/writer", Alias: "db"}, {Target: "/gone", Alias: "cache"}}
	g := topology.Build(topology.Inventory{
		Networks:   []topology.Network{bridge},
		Volumes:    []topology.Volume{{Name: "data", Driver: "local"}},
		Containers: []topology.Container{writer, reader, linker},
	})
	frame := protocol.Encode(&protocol.Snapshot{Snapshot: topology.Snapshot{Graph: g}})

	for _, webgl := range []bool{false, true} {
		got := awaitJS[map[string][]string](t, b, fmt.Sprintf(`(async () => {
  const g = await import('/static/graph.js');
  const box = document.createElement('div');
  box.style.cssText = 'position:fixed;inset:0;z-index:-1';
  document.body.append(box);
  const cy = g.createGraph(box, { render: { webgl: %v } });
  g.renderSnapshot(cy, %s);
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  // What each renderer reads of an edge line.
  const drawn = (e) => {
    const p = (k) => String(e.pstyle(k).strValue ?? e.pstyle(k).value);
    const look = [p('line-color'), p('width'), String(e.pstyle('opacity').value * e.pstyle('line-opacity').value)];
    if (!cy.renderer().webgl) look.push(p('line-style'));
    return look.join(' ');
  };
  const one = (sel) => cy.edges(sel).map(drawn)[0] || 'none';
  const out = {
    renderer: [cy.renderer().webgl ? 'webgl' : 'canvas'],
    rw: [one('.mount:not(.ro)')], ro: [one('.mount.ro')],
    link: [one('.link')], broken: [one('.broken-link')],
  };
  cy.destroy();
  box.remove();
  return out;
})()`, webgl, frame))
		name := map[bool]string{false: "canvas", true: "webgl"}[webgl]
		if got["renderer"][0] != name {
			t.Fatalf("asked for %s, Cytoscape draws with %v", name, got["renderer"])
		}
		for _, pair := range [][2]string{{"rw", "ro"}, {"link", "broken"}} {
			a, z := got[pair[0]][0], got[pair[1]][0]
			if a == "none" || z == "none" {
				t.Fatalf("%s: the scene lacks an edge: %v", name, got)
			}
			if a == z {
				t.Errorf("%s: a %s edge looks like a %s one: %s", name, pair[1], pair[0], a)
			}
			t.Logf("%s: %s [%s], %s [%s]", name, pair[0], a, pair[1], z)
		}
	}
}

// awaitJS evaluates expr, a promise, in the page and decodes what it
// resolves to into T.
func awaitJS[T any](t testing.TB, b *browser, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %.200s: %v", expr, err)
	}
	return v
}

// gestureJS renders snapshot in a fresh Cytoscape instance made as the
// page makes it, then drags its background (DOM events, as a hand's) and
// turns the wheel. It returns [the container's data-gesture, the node
// layer's transform during the drag ("x,y,k", its move and scale),
// frames Cytoscape drew during it, the
// pan the drag made ("x,y"), the transform after the drag, whether it drew
// after the drag, the transform during the wheel, frames drawn during it,
// the transform after the wheel, whether it drew after the wheel].
func gestureJS(frame []byte) string {
	return fmt.Sprintf(`(async () => {
`+freshGraphJS+`
  g.renderSnapshot(cy, %s);
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  for (let i = 0; i < 5; i++) await frame();
  const layer = cy.renderer().data.canvases[2];
  let draws = 0;
  cy.on('render', () => draws++);
  const rect = box.getBoundingClientRect();
  const target = box.querySelector('canvas');
  const mouse = (type, x, y) => new MouseEvent(type, {
    clientX: rect.left + x, clientY: rect.top + y, bubbles: true, cancelable: true, view: window,
    button: 0, buttons: type === 'mouseup' ? 0 : 1,
  });
  // The transform's move and scale, "x,y,k" (none: "").
  const transform = () => {
    const m = /translate\(([-\d.e]+)px, ([-\d.e]+)px\) scale\(([-\d.e]+)\)/.exec(layer.style.transform);
    return m ? [m[1], m[2], m[3]].map((v) => Math.round(Number(v) * 100) / 100).join(',') : layer.style.transform;
  };
  const out = [box.dataset.gesture || ''];
  const pan0 = { ...cy.pan() };
  let before = draws;
  target.dispatchEvent(mouse('mousedown', 4, 4));
  for (let i = 1; i <= 10; i++) {
    window.dispatchEvent(mouse('mousemove', 4 + 12 * i, 4 + 6 * i));
    await frame();
  }
  const moved = [cy.pan().x - pan0.x, cy.pan().y - pan0.y, 1].map((v) => Math.round(v * 100) / 100).join(',');
  out.push(transform(), String(draws - before), moved);
  before = draws;
  window.dispatchEvent(mouse('mouseup', 124, 64));
  for (let i = 0; i < 5; i++) await frame();
  out.push(transform(), String(draws > before));
  const drawsBeforeWheel = draws;
  for (let i = 0; i < 6; i++) {
    target.dispatchEvent(new WheelEvent('wheel', { clientX: rect.left + rect.width / 2, clientY: rect.top + rect.height / 2,
      deltaY: -10, deltaMode: 0, bubbles: true, cancelable: true, view: window }));
    await frame();
  }
  out.push(transform(), String(draws - drawsBeforeWheel));
  before = draws;
  // Cytoscape ends a wheel's zoom a moment after the last notch.
  for (let i = 0; i < 60 && layer.style.transform; i++) await frame();
  await frame();
  out.push(transform(), String(draws > before));
  cy.destroy();
  box.remove();
  return out;
})()`, frame)
}

// TestBrowserGesturePicture: on a map of 500 nodes or more, a drag or a
// wheel moves the picture already on screen (a CSS transform of the
// canvases, where the viewport now puts each point of the last frame)
// instead of Cytoscape drawing each frame or a picture of the whole map,
// and the map is drawn for real once the gesture ends; a small map is
// drawn live.
func TestBrowserGesturePicture(t *testing.T) {
	base := startDockmap(t, nil)
	b := newBrowser(t)
	openMap(t, b, base)
	big := topology.Build(benchScene(450, 20, 100))
	got := awaitJS[[]string](t, b, gestureJS(protocol.Encode(&protocol.Snapshot{Snapshot: topology.Snapshot{Graph: big}})))
	t.Logf("a map of %d nodes: %q", len(big.Nodes), got)
	if got[0] != "picture" {
		t.Errorf("data-gesture = %q, want picture", got[0])
	}
	if got[1] != got[3] || got[3] == "0,0,1" {
		t.Errorf("during the drag the node layer is moved by %q, want %q (the pan the drag made)", got[1], got[3])
	}
	if got[2] != "0" {
		t.Errorf("Cytoscape drew %s frames during the drag, want none", got[2])
	}
	if got[4] != "" || got[5] != "true" {
		t.Errorf("after the drag: transform %q, drawn anew %s; want none, true", got[4], got[5])
	}
	if k := got[6][strings.LastIndex(got[6], ",")+1:]; got[6] == "" || k == "1" || got[7] != "0" {
		t.Errorf("during the wheel: transform %q, %s frames drawn; want a scale, none drawn", got[6], got[7])
	}
	if got[8] != "" || got[9] != "true" {
		t.Errorf("after the wheel: transform %q, drawn anew %s; want none, true", got[8], got[9])
	}

	small := topology.Build(benchScene(70, 5, 25))
	got = awaitJS[[]string](t, b, gestureJS(protocol.Encode(&protocol.Snapshot{Snapshot: topology.Snapshot{Graph: small}})))
	if got[0] != "live" || got[1] != "" || got[2] == "0" {
		t.Errorf("a map of %d nodes: data-gesture %q, transform during the drag %q, frames drawn %s; want live, none, some", len(small.Nodes), got[0], got[1], got[2])
	}
}
