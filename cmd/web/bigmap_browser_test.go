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
		{"1000 nodes, 50 networks", func(n int) topology.Inventory { return benchScene(n, 50, 250) }, 700},
		{"1000 nodes as 35 Compose projects", func(n int) topology.Inventory { return composeScene(benchScene(n, 50, 250), 35) }, 700},
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
		want := 0
		for _, n := range topology.Build(sc.scene(sc.n + 5)).Nodes {
			if n.Kind != topology.KindProject {
				want++
			}
		}
		if int(got[0]) != want {
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
