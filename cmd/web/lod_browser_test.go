package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
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
`+freshGraphJS+`
  const lod = await import('/static/graph-lod.js');
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
		name                                    string
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

// createMany creates n containers (created, not started: cheap) from the
// fixture image, spec(i) saying each one's name, labels and network, a
// few at a time; all are removed when the test ends, as many at a time.
func createMany(t *testing.T, c *docker.Client, n int, spec func(i int) docker.ContainerSpec) []string {
	t.Helper()
	image := dockertest.FixtureImage(t)
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	work := make(chan int)
	for range 6 {
		wg.Go(func() {
			for i := range work {
				s := spec(i)
				s.Image = image
				s.Cmd = []string{"sleep", "3600"}
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				ids[i], errs[i] = c.CreateContainer(ctx, s)
				cancel()
				if errs[i] == nil {
					dockertest.TrackContainer(t, c, ids[i])
				}
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	// Removed before the tracker's own cleanup (last in, first out),
	// which goes one at a time.
	t.Cleanup(func() {
		work := make(chan string)
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				for id := range work {
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					if err := c.RemoveContainerAndVolumes(ctx, id); err != nil && !errors.Is(err, topology.ErrNotFound) {
						t.Errorf("remove %s: %v", id, err)
					}
					cancel()
				}
			})
		}
		for _, id := range ids {
			if id != "" {
				work <- id
			}
		}
		close(work)
		wg.Wait()
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("create container %d of %d: %v", i+1, n, err)
		}
	}
	return ids
}

// TestBrowserLOD: a few hundred real containers on the engine, in four
// Compose projects and on one big network, on the live page. Zoomed out,
// each project is a summary counting its services and containers, its
// members hidden, and the big network folds its leaf containers and says
// how many, all labelled readably; a project the user collapsed before
// stays collapsed when zooming in, the others open with their members
// where they stood; a click, or Enter, opens a summary while zoomed out;
// at the least zoom labels still show; with ?lod=off nothing folds.
func TestBrowserLOD(t *testing.T) {
	c := dockertest.Client(t)
	const perProject, leaves = 70, 40
	projects := make([]string, 4)
	for i := range projects {
		projects[i] = dockertest.ComposeProject(t, fmt.Sprintf("lod%d", i))
	}
	big := dockertest.UniqueName(t, "lodbig")
	bigID := dockertest.CreateNetwork(t, c, big)
	prefix := dockertest.UniqueName(t, "lod")
	createMany(t, c, len(projects)*perProject+leaves, func(i int) docker.ContainerSpec {
		s := docker.ContainerSpec{Name: fmt.Sprintf("%s-%03d", prefix, i), Labels: dockertest.Labels()}
		if i >= len(projects)*perProject {
			s.Network = big
			return s
		}
		p := i % len(projects)
		s.Labels[topology.ComposeProjectLabel] = projects[p]
		s.Labels[topology.ComposeServiceLabel] = fmt.Sprintf("svc%d", (i/len(projects))%5)
		s.Labels[topology.ComposeNumberLabel] = fmt.Sprint(1 + i/(len(projects)*5))
		return s
	})

	base := startDockmap(t, nil)
	b := newBrowser(t)
	openMap(t, b, base)
	mine := fmt.Sprintf(`window.cy.nodes('.container').filter((n) => (n.data('name') || '').startsWith(%s))`, jsString(prefix+"-"))
	waitJS(t, b, mine+fmt.Sprintf(`.length === %d`, len(projects)*perProject+leaves), waitTimeout)
	box := func(i int) string {
		return fmt.Sprintf(`window.cy.getElementById(%s)`, jsString(string(topology.ProjectNodeID(projects[i]))))
	}
	bigNet := fmt.Sprintf(`window.cy.getElementById(%s)`, jsString(string(topology.NetworkNodeID(bigID))))
	t.Logf("fit zoom %.3f with %d nodes", mustEval[float64](t, b, `window.cy.zoom()`), mustEval[int](t, b, `window.cy.nodes().length`))

	// Zoomed in, nothing is folded; the user collapses project 1.
	zoomTo := func(level float64, at string) {
		mustEval[bool](t, b, fmt.Sprintf(`(() => { const cy = window.cy; cy.stop(true, true); cy.zoom({ level: %g, position: %s }); return true; })()`, level, at))
	}
	zoomTo(1, box(0)+`.position()`)
	waitJS(t, b, `window.cy.nodes('.lod-summary, .lod-net').empty()`, waitTimeout)
	where := mustEval[map[string][]float64](t, b, `Object.fromEntries(`+mine+`.map((n) => [n.id(), [n.position('x'), n.position('y')]]))`)
	mustEval[bool](t, b, fmt.Sprintf(`(() => { window.cy.nodes(':selected').unselect(); %s.select(); return true; })()`, box(1)))
	mustDo(t, b, "press Enter on project 1", chromedp.KeyEvent("\r"))
	waitJS(t, b, box(1)+`.hasClass('collapsed') && !`+box(1)+`.hasClass('lod-summary')`, waitTimeout)
	mustEval[bool](t, b, `(() => { window.cy.nodes(':selected').unselect(); return true; })()`)

	// Zoomed out: summaries, the big network folded, labels readable.
	zoomTo(0.15, box(0)+`.position()`)
	for i := range projects {
		if i == 1 {
			continue
		}
		waitJS(t, b, box(i)+`.hasClass('lod-summary') && `+box(i)+`.descendants(':visible').empty()`, waitTimeout)
		label := mustEval[string](t, b, box(i)+`.data('label')`)
		if !strings.Contains(label, "5 services") || !strings.Contains(label, fmt.Sprintf("%d containers", perProject)) {
			t.Errorf("summary of project %d says %q, want its 5 services and %d containers", i, label, perProject)
		}
	}
	waitJS(t, b, bigNet+`.hasClass('lod-net')`, waitTimeout)
	if got, want := mustEval[string](t, b, bigNet+`.pstyle('label').strValue`), fmt.Sprintf("%s · %d containers", big, leaves); got != want {
		t.Errorf("folded network labelled %q, want %q", got, want)
	}
	if n := mustEval[int](t, b, bigNet+`.neighborhood('node.container:visible').length`); n != 0 {
		t.Errorf("%d leaf containers of the folded network still shown", n)
	}
	readable := `window.cy.nodes('.network, .host, .project').filter((n) => n.visible() && (!n.pstyle('label').strValue || n.pstyle('font-size').pfValue * window.cy.zoom() < 12.99)).map((n) => n.id() + ' ' + n.pstyle('font-size').pfValue)`
	waitJS(t, b, readable+`.length === 0`, waitTimeout)
	screenshot(t, b, "lod-far")

	// A click opens a summary, Enter another, zoomed out as it is.
	clickNode(t, b, string(topology.ProjectNodeID(projects[2])))
	waitJS(t, b, `!`+box(2)+`.hasClass('collapsed') && `+box(2)+fmt.Sprintf(`.children('.container:visible').length === %d`, perProject), waitTimeout)
	mustEval[bool](t, b, fmt.Sprintf(`(() => { window.cy.nodes(':selected').unselect(); %s.select(); return true; })()`, box(3)))
	mustDo(t, b, "press Enter on project 3's summary", chromedp.KeyEvent("\r"))
	waitJS(t, b, `!`+box(3)+`.hasClass('collapsed')`, waitTimeout)
	mustEval[bool](t, b, `(() => { window.cy.nodes(':selected').unselect(); return true; })()`)

	// The least zoom: labels still read.
	zoomTo(0.05, box(0)+`.position()`)
	waitJS(t, b, `window.cy.nodes('.label-keep').filter((n) => n.visible() && n.pstyle('font-size').pfValue * window.cy.zoom() >= 12.99).nonempty()`, waitTimeout)

	// Zoomed in again: all open but what the user collapsed, nothing moved.
	zoomTo(1, box(0)+`.position()`)
	waitJS(t, b, `window.cy.nodes('.lod-summary, .lod-net').empty() && `+box(0)+fmt.Sprintf(`.children('.container:visible').length === %d`, perProject), waitTimeout)
	if !mustEval[bool](t, b, box(1)+`.hasClass('collapsed')`) {
		t.Errorf("project 1, collapsed by the user, opened on zooming in")
	}
	after := mustEval[map[string][]float64](t, b, `Object.fromEntries(`+mine+`.map((n) => [n.id(), [n.position('x'), n.position('y')]]))`)
	moved := 0
	for id, p := range where {
		if q := after[id]; len(q) != 2 || math.Abs(q[0]-p[0]) > 0.5 || math.Abs(q[1]-p[1]) > 0.5 {
			moved++
		}
	}
	if moved > 0 {
		t.Errorf("%d of %d containers moved through the zooms", moved, len(where))
	}
	if n := mustEval[int](t, b, bigNet+`.neighborhood('node.container:visible').length`); n != leaves {
		t.Errorf("%d of the big network's %d leaves shown zoomed in", n, leaves)
	}

	// ?lod=off turns it off: zoomed out, nothing folds.
	load(t, b, "open the map with ?lod=off", `window.dockmap && window.dockmap.connected && window.cy`, chromedp.Navigate(base+"/?lod=off"))
	waitJS(t, b, mine+fmt.Sprintf(`.length === %d`, len(projects)*perProject+leaves), waitTimeout)
	zoomTo(0.15, box(0)+`.position()`)
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	defer cancel()
	folded, err := chromedp.Run(ctx, chromedp.Evaluate[int](`new Promise((r) => { let n = 5; const f = () => (n-- > 0 ? requestAnimationFrame(f) : r(window.cy.nodes('.lod-summary, .lod-net').length)); f(); })`, chromedp.EvalAwaitPromise))
	if err != nil || folded != 0 {
		t.Errorf("with ?lod=off, %d summaries or folded networks (%v)", folded, err)
	}
}

// BenchmarkLOD measures what the level of detail costs and saves at the
// zoom that fits a large map, with it off and on, in real headless
// Chromium with the page's own modules (a fresh Cytoscape instance, as
// BenchmarkFirstRender): the elements drawn, the time between frames
// while the map is panned a little each frame (the draw's cost), and one
// container more (a delta) to the end of applyDelta and to the next frame
// (the level of detail's own pass included). Run it with -benchtime=3x.
func BenchmarkLOD(b *testing.B) {
	base := startDockmap(b, nil)
	br := newBrowser(b)
	openMap(b, br, base)
	for _, sc := range []struct{ containers, networks, volumes, projects int }{
		{700, 50, 250, 35},
		{3500, 250, 1250, 0},
		{3500, 250, 1250, 100},
		{1000, 2, 0, 0}, // a big star: the default bridge's leaves fold
	} {
		scene := func(containers int) topology.Inventory {
			return composeScene(benchScene(containers, sc.networks, sc.volumes), sc.projects)
		}
		g := topology.Build(scene(sc.containers))
		frame := protocol.Encode(&protocol.Snapshot{Snapshot: topology.Snapshot{Graph: g}})
		delta, err := json.Marshal(topology.Diff(g, topology.Build(scene(sc.containers+1))))
		if err != nil {
			b.Fatal(err)
		}
		for _, on := range []bool{false, true} {
			name := fmt.Sprintf("nodes=%d/projects=%d/lod=%v", len(g.Nodes), sc.projects, on)
			b.Run(name, func(b *testing.B) {
				measure := fmt.Sprintf(`(async () => {
`+freshGraphJS+`
  const lod = await import('/static/graph-lod.js');
  g.renderSnapshot(cy, %s);
  g.keepLabels(cy);
  if (%v) lod.createLOD(cy);
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  for (let i = 0; i < 4; i++) await frame();
  const drawn = cy.elements(':visible').length;
  const gaps = [];
  let last = await frame();
  for (let i = 0; i < 30; i++) {
    cy.panBy({ x: i %% 2 ? 3 : -3, y: 0 });
    const now = await frame();
    gaps.push(now - last);
    last = now;
  }
  gaps.sort((a, b) => a - b);
  const t1 = performance.now();
  g.applyDelta(cy, %s);
  const applyMs = performance.now() - t1;
  await frame();
  const paintMs = performance.now() - t1;
  cy.destroy();
  box.remove();
  return [drawn, gaps[gaps.length >> 1], applyMs, paintMs];
})()`, frame, on, delta)
				var drawn float64
				var gaps, applied, painted []time.Duration
				for b.Loop() {
					ctx, cancel := context.WithTimeout(br.ctx, 3*time.Minute)
					got, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](measure, chromedp.EvalAwaitPromise))
					cancel()
					if err != nil || len(got) != 4 {
						b.Fatalf("measure: %v %v", err, got)
					}
					drawn = got[0]
					gaps = append(gaps, millis(got[1]))
					applied = append(applied, millis(got[2]))
					painted = append(painted, millis(got[3]))
				}
				b.ReportMetric(drawn, "drawn-elements")
				reportMillis(b, "frame-gap", gaps, false)
				reportMillis(b, "delta-applied", applied, false)
				reportMillis(b, "delta-painted", painted, false)
			})
		}
	}
}
