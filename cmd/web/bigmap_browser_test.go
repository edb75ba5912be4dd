package main

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/topology"
)

// starScene is what a new user had on the engine (issue 14): containers
// created, not started, all on the default bridge and nothing else. A
// spectral layout (fcose's draft, once used above 600 nodes) gave every
// leaf of one hub the same coordinates.
func starScene(containers int) topology.Inventory {
	inv := topology.Inventory{Networks: []topology.Network{{ID: fmt.Sprintf("%064x", 1), Name: "bridge", Driver: "bridge", Scope: "local", ICC: true, Default: true}}}
	for i := range containers {
		c := topology.Container{ID: fmt.Sprintf("c%063x", i), Name: fmt.Sprintf("made-%04d", i), Image: "app:1", State: "created", Status: "Created",
			NetworkMode: "bridge", Endpoints: []topology.Endpoint{{NetworkName: "bridge"}}}
		c.Names = []string{c.Name}
		inv.Containers = append(inv.Containers, c)
	}
	return inv
}

// freshGraphJS is the start of the body of an async page script: g is the
// page's graph.js and cy a fresh Cytoscape instance made by it, styled like
// the page's, in box (a div over the whole window, behind the page), so
// that the map the page's live connection keeps is left alone.
const freshGraphJS = `const g = await import('/static/graph.js');
  const box = document.createElement('div');
  box.style.cssText = 'position:fixed;inset:0;z-index:-1';
  document.body.append(box);
  const cy = g.createGraph(box);`

// overlapsJS renders snapshot in a fresh Cytoscape instance styled like
// the page's, with the page's own renderSnapshot, and counts the pairs of
// nodes whose boxes (labels included) overlap, by a grid of cells, and the
// nodes that stand in a Compose project's box they are not in.
func overlapsJS(frame, delta []byte) string {
	return fmt.Sprintf(`(async () => {
`+freshGraphJS+`
  g.renderSnapshot(cy, %s);
  // Then the delta, placed among the others: nothing that was there moves.
  const before = new Map(cy.nodes().not('.host, .project').map((n) => [n.id(), { ...n.position() }]));
  g.applyDelta(cy, %s);
  let moved = 0;
  before.forEach((p, id) => {
    const q = cy.getElementById(id).position();
    if (Math.abs(p.x - q.x) > 0.5 || Math.abs(p.y - q.y) > 0.5) moved++;
  });
  const nodes = cy.nodes().not('.overlay, .host, .project').map((n) => n.boundingBox({ includeLabels: true, includeOverlays: false }));
  const cell = 200, grid = new Map();
  let pairs = 0;
  nodes.forEach((b, i) => {
    for (let x = Math.floor(b.x1 / cell); x <= Math.floor(b.x2 / cell); x++)
      for (let y = Math.floor(b.y1 / cell); y <= Math.floor(b.y2 / cell); y++) {
        const k = x + ',' + y;
        if (!grid.has(k)) grid.set(k, []);
        grid.get(k).push(i);
      }
  });
  const seen = new Set();
  for (const ids of grid.values()) for (let a = 0; a < ids.length; a++) for (let z = a + 1; z < ids.length; z++) {
    const p = nodes[ids[a]], q = nodes[ids[z]], k = ids[a] + ':' + ids[z];
    if (seen.has(k)) continue;
    seen.add(k);
    if (p.x1 < q.x2 - 0.5 && q.x1 < p.x2 - 0.5 && p.y1 < q.y2 - 0.5 && q.y1 < p.y2 - 0.5) pairs++;
  }
  const n = nodes.length;
  // A Compose project's box must hold its members only.
  let intruders = 0;
  cy.nodes('.project').forEach((p) => {
    const bb = p.boundingBox({ includeLabels: false, includeOverlays: false });
    const own = p.descendants();
    cy.nodes().not('.overlay, .host, .project').not(own).forEach((m) => {
      const q = m.boundingBox({ includeLabels: false, includeOverlays: false });
      if (bb.x1 < q.x2 && q.x1 < bb.x2 && bb.y1 < q.y2 && q.y1 < bb.y2) intruders++;
    });
  });
  cy.destroy();
  box.remove();
  return [n, pairs, intruders, moved];
})()`, frame, delta)
}

// TestBrowserBigMapNoStacking: a first render of a big map puts no two
// nodes (labels included) on one spot and no node in a Compose project's
// box it is not in: the star a class's 1,000 created containers make, a
// 1,000-node map of many networks and volumes, the same as 35 Compose
// projects, and a 5,000-node map (issue 14).
func TestBrowserBigMapNoStacking(t *testing.T) {
	base := startDockmap(t, nil)
	b := newBrowser(t)
	openMap(t, b, base)
	for _, sc := range []struct {
		name  string
		scene func(containers int) topology.Inventory
		n     int
	}{
		{"star of 1000 created", starScene, 1000},
		{"1000 nodes, 50 networks", scene1000, 700},
		{"1000 nodes as 35 Compose projects", scene1000Projects, 700},
		{"5000 nodes, 250 networks", func(n int) topology.Inventory { return benchScene(n, 250, 1250) }, 3500},
	} {
		g := topology.Build(sc.scene(sc.n))
		frame := protocol.Encode(&protocol.Snapshot{Snapshot: topology.Snapshot{Graph: g}})
		// Then five containers more, as a busy class makes them.
		delta, err := json.Marshal(topology.Diff(g, topology.Build(sc.scene(sc.n+5))))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](overlapsJS(frame, delta), chromedp.EvalAwaitPromise))
		cancel()
		if err != nil || len(got) != 4 {
			t.Fatalf("%s: render: %v %v", sc.name, err, got)
		}
		// The project boxes are not counted: a box holds its members.
		if want := unboxedNodes(topology.Build(sc.scene(sc.n + 5))); int(got[0]) != want {
			t.Errorf("%s: %v nodes on the page, want %d", sc.name, got[0], want)
		}
		if got[1] > 0 {
			t.Errorf("%s: %v pairs of nodes overlap", sc.name, got[1])
		}
		if got[2] > 0 {
			t.Errorf("%s: %v nodes stand in a Compose project's box they are not in", sc.name, got[2])
		}
		if got[3] > 0 {
			t.Errorf("%s: %v nodes moved when five containers came", sc.name, got[3])
		}
	}
}

// edgesLaterJS renders snapshot the page's way (renderSnapshot with
// edgesLater) in a fresh Cytoscape instance, and the same snapshot in one
// step in another, then applies delta to the first before anything
// completed it. It returns [pending, nodes and edges drawn first, nodes
// placed apart from the one-step render, calls of complete, whether the
// delta's first node was absent when complete ran, edges and nodes after
// the delta].
func edgesLaterJS(frame, delta []byte, added string) string {
	return fmt.Sprintf(`(async () => {
`+freshGraphJS+`
  const box2 = document.createElement('div');
  box2.style.cssText = 'position:fixed;inset:0;z-index:-2';
  document.body.append(box2);
  const one = g.createGraph(box2);
  const snap = %s;
  let calls = 0, absent = false;
  const change = g.renderSnapshot(cy, snap, { edgesLater: true, complete: () => {
    calls++;
    absent = cy.getElementById(%q).empty();
  } });
  const shown = cy.elements().not('.overlay, .host, .project');
  const first = [shown.nodes().length, shown.edges().length];
  g.renderSnapshot(one, snap);
  let apart = 0;
  one.nodes().not('.overlay, .host, .project').forEach((n) => {
    const p = cy.getElementById(n.id()).position(), q = n.position();
    if (Math.abs(p.x - q.x) > 0.5 || Math.abs(p.y - q.y) > 0.5) apart++;
  });
  g.applyDelta(cy, %s);
  const after = cy.elements().not('.overlay, .host, .project');
  const out = [change.pending ? 1 : 0, ...first, apart, calls, absent ? 1 : 0, after.edges().length, after.nodes().length];
  cy.destroy(); one.destroy(); box.remove(); box2.remove();
  return out;
})()`, frame, added, delta)
}

// TestBrowserBigMapEdgesLater: the page draws a big map's nodes first and
// its edges once they show (renderSnapshot's edgesLater), laid out by the
// snapshot's edges all the same: every node stands where a render in one
// step puts it. A delta that comes before the edges completes the map
// first and hands on the snapshot's change before its own, so nothing is
// applied to half a map. A small map is drawn in one step.
func TestBrowserBigMapEdgesLater(t *testing.T) {
	base := startDockmap(t, nil)
	b := newBrowser(t)
	openMap(t, b, base)
	for _, sc := range []struct {
		name  string
		scene func(containers int) topology.Inventory
		n     int
		later bool
	}{
		{"1000 nodes, 50 networks", scene1000, 700, true},
		{"1000 nodes as 35 Compose projects", scene1000Projects, 700, true},
		{"100 nodes", func(n int) topology.Inventory { return benchScene(n, 5, 25) }, 70, false},
	} {
		g := topology.Build(sc.scene(sc.n))
		frame := protocol.Encode(&protocol.Snapshot{Snapshot: topology.Snapshot{Graph: g}})
		g2 := topology.Build(sc.scene(sc.n + 1))
		d := topology.Diff(g, g2)
		if len(d.AddedNodes) == 0 {
			t.Fatalf("%s: the delta adds no node", sc.name)
		}
		delta, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](edgesLaterJS(frame, delta, string(d.AddedNodes[0].ID)), chromedp.EvalAwaitPromise))
		cancel()
		if err != nil || len(got) != 8 {
			t.Fatalf("%s: render: %v %v", sc.name, err, got)
		}
		pending, firstNodes, firstEdges, apart, calls, absent, edges, after := got[0] == 1, int(got[1]), int(got[2]), int(got[3]), int(got[4]), got[5] == 1, int(got[6]), int(got[7])
		if pending != sc.later {
			t.Errorf("%s: pending = %v, want %v", sc.name, pending, sc.later)
		}
		if firstNodes != unboxedNodes(g) {
			t.Errorf("%s: %d nodes drawn first, want all %d", sc.name, firstNodes, unboxedNodes(g))
		}
		if wantFirst := map[bool]int{true: 0, false: len(g.Edges)}[sc.later]; firstEdges != wantFirst {
			t.Errorf("%s: %d edges drawn first, want %d", sc.name, firstEdges, wantFirst)
		}
		// (A small map's force layout starts at random: its places differ.)
		if sc.later && apart != 0 {
			t.Errorf("%s: %d nodes stand elsewhere than in a render in one step", sc.name, apart)
		}
		if sc.later && (calls != 1 || !absent) {
			t.Errorf("%s: complete ran %d times, before the delta: %v; want once, before", sc.name, calls, absent)
		}
		if !sc.later && calls != 0 {
			t.Errorf("%s: complete ran %d times for a map drawn in one step (its caller hands the change on)", sc.name, calls)
		}
		if edges != len(g2.Edges) || after != unboxedNodes(g2) {
			t.Errorf("%s: after the delta, %d edges and %d nodes, want %d and %d", sc.name, edges, after, len(g2.Edges), unboxedNodes(g2))
		}
	}
}

// The big-map tests' scenes of 1,000 nodes (with 700 containers): every
// container on one to three of 50 networks, and the same as 35 Compose
// projects.
func scene1000(n int) topology.Inventory { return benchScene(n, 50, 250) }

func scene1000Projects(n int) topology.Inventory { return composeScene(benchScene(n, 50, 250), 35) }

// unboxedNodes counts g's nodes but Compose projects' boxes, which hold
// their members and are not counted as nodes on the map.
func unboxedNodes(g topology.Graph) int {
	n := 0
	for _, x := range g.Nodes {
		if x.Kind != topology.KindProject {
			n++
		}
	}
	return n
}
