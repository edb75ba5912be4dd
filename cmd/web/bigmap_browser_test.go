package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/topology"
)

// starScene is what a new user had on the engine (issue 14): containers
// created, not started, all on the default bridge and nothing else. A
// spectral layout (fcose's draft, used above 600 nodes) gives every leaf
// of one hub the same coordinates.
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

// overlapsJS renders snapshot in a fresh Cytoscape instance styled like
// the page's, with the page's own renderSnapshot, and counts the pairs of
// nodes whose bodies overlap (labels aside), by a grid of cells.
func overlapsJS(frame []byte) string {
	return fmt.Sprintf(`(async () => {
  const g = await import('/static/graph.js');
  const box = document.createElement('div');
  box.style.cssText = 'position:fixed;inset:0;z-index:-1';
  document.body.append(box);
  const cy = g.createGraph(box);
  g.renderSnapshot(cy, %s);
  const nodes = cy.nodes().not('.overlay, .host, .project').map((n) => n.boundingBox({ includeLabels: false, includeOverlays: false }));
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
  cy.destroy();
  box.remove();
  return [n, pairs];
})()`, frame)
}

// TestBrowserBigMapNoStacking: a first render of 1,000 containers puts no
// two nodes on one spot, for the star a class's created containers make
// and for a map of many networks and volumes.
func TestBrowserBigMapNoStacking(t *testing.T) {
	base := startDockmap(t, nil)
	b := newBrowser(t)
	openMap(t, b, base)
	for _, sc := range []struct {
		name string
		inv  topology.Inventory
	}{
		{"star of 1000 created", starScene(1000)},
		{"1000 nodes, 50 networks", benchScene(700, 50, 250)},
	} {
		g := topology.Build(sc.inv)
		frame := protocol.Encode(&protocol.Snapshot{Snapshot: topology.Snapshot{Graph: g}})
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](overlapsJS(frame), chromedp.EvalAwaitPromise))
		cancel()
		if err != nil || len(got) != 2 {
			t.Fatalf("%s: render: %v %v", sc.name, err, got)
		}
		if int(got[0]) != len(g.Nodes) {
			t.Errorf("%s: %v nodes on the page, want %d", sc.name, got[0], len(g.Nodes))
		}
		if got[1] > 0 {
			t.Errorf("%s: %v pairs of nodes overlap", sc.name, got[1])
		}
	}
}
