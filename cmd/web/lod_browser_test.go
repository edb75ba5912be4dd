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

// lodFitJS renders snapshot in a fresh Cytoscape instance styled like the
// page's, with the page's own renderSnapshot, keepLabels and level of
// detail, at the zoom that fits it, and reports what a room reads there:
// the zoom; how many nodes are drawn; the boxes, networks and summaries,
// each with its label and its label's size on screen; how many kept
// labels overlap another; and how many labels show at the least zoom.
func lodFitJS(frame []byte) string {
	return fmt.Sprintf(`(async () => {
  const g = await import('/static/graph.js');
  const lod = await import('/static/graph-lod.js');
  const box = document.createElement('div');
  box.style.cssText = 'position:fixed;inset:0;z-index:-1';
  document.body.append(box);
  const cy = g.createGraph(box);
  g.renderSnapshot(cy, %s);
  g.keepLabels(cy);
  lod.createLOD(cy);
  const frames = (n) => new Promise((r) => { const f = () => (n-- > 0 ? requestAnimationFrame(f) : r()); f(); });
  await frames(4);
  const z = cy.zoom();
  const shown = (n) => n.visible() && String(n.pstyle('label').strValue || '') !== '';
  const px = (n) => parseFloat(n.pstyle('font-size').pfValue) * z;
  const important = cy.nodes('.network, .host, .project').filter((n) => n.visible());
  const labels = important.map((n) => ({ id: n.id(), label: n.pstyle('label').strValue, px: px(n), summary: n.hasClass('lod-summary') || n.hasClass('lod-net'), shown: shown(n) }));
  // Labels that cover one another, by their rendered boxes.
  const boxes = important.map((n) => n.boundingBox({ includeNodes: false, includeEdges: false, includeLabels: true, includeOverlays: false }));
  let overlaps = 0;
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const p = boxes[i], q = boxes[j];
    if (p.w && q.w && p.x1 < q.x2 && q.x1 < p.x2 && p.y1 < q.y2 && q.y1 < p.y2) overlaps++;
  }
  const drawn = cy.elements(':visible').length;
  const members = cy.nodes('.container').filter((n) => n.visible()).length;
  cy.zoom(cy.minZoom());
  await frames(3);
  const atMin = cy.nodes().filter((n) => shown(n) && px(n) >= 12.99).length;
  cy.destroy();
  box.remove();
  return { zoom: z, drawn, members, labels, overlaps, atMin };
})()`, frame)
}

type lodFit struct {
	Zoom    float64 `json:"zoom"`
	Drawn   int     `json:"drawn"`
	Members int     `json:"members"`
	Labels  []struct {
		ID      string  `json:"id"`
		Label   string  `json:"label"`
		PX      float64 `json:"px"`
		Summary bool    `json:"summary"`
		Shown   bool    `json:"shown"`
	} `json:"labels"`
	Overlaps int `json:"overlaps"`
	AtMin    int `json:"atMin"`
}

// TestBrowserLODScenes: at the zoom that fits a map of 1,000 and of 5,000
// nodes, every host, project and network shown is labelled at 13 px or
// more on screen; the Compose projects are summaries that count their
// services and containers, their members hidden; and at the least zoom
// labels still show.
func TestBrowserLODScenes(t *testing.T) {
	base := startDockmap(t, nil)
	b := newBrowser(t)
	openMap(t, b, base)
	for _, sc := range []struct {
		name                                   string
		containers, networks, volumes, projects int
	}{
		{"1000 nodes, 35 projects", 700, 50, 250, 35},
		{"5000 nodes", 3500, 250, 1250, 0},
		{"5000 nodes, 100 projects", 3500, 250, 1250, 100},
	} {
		g := topology.Build(composeScene(benchScene(sc.containers, sc.networks, sc.volumes), sc.projects))
		frame := protocol.Encode(&protocol.Snapshot{Snapshot: topology.Snapshot{Graph: g}})
		ctx, cancel := context.WithTimeout(b.ctx, 3*time.Minute)
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage](lodFitJS(frame), chromedp.EvalAwaitPromise))
		cancel()
		if err != nil {
			t.Fatalf("%s: render: %v", sc.name, err)
		}
		var got lodFit
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatalf("%s: %v: %s", sc.name, err, raw)
		}
		summaries := 0
		for _, l := range got.Labels {
			if !l.Shown || l.PX < 12.99 {
				t.Errorf("%s: %s labelled %q at %.1f px on screen (shown %v), want 13 px or more", sc.name, l.ID, l.Label, l.PX, l.Shown)
			}
			if l.Summary {
				summaries++
			}
		}
		t.Logf("%s: fit zoom %.3f, %d elements drawn, %d containers shown, %d labels kept (%d summaries), %d pairs overlap, %d labels at the least zoom",
			sc.name, got.Zoom, got.Drawn, got.Members, len(got.Labels), summaries, got.Overlaps, got.AtMin)
		if sc.projects > 0 && summaries < sc.projects {
			t.Errorf("%s: %d summaries at fit zoom %.3f, want the %d projects", sc.name, summaries, got.Zoom, sc.projects)
		}
		if got.AtMin == 0 {
			t.Errorf("%s: no label reads at the least zoom", sc.name)
		}
	}
}
