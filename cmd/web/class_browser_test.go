package main

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/lesson"
	"github.com/dockmap/dockmap/internal/topology"
)

// TestBrowserClassOfEngines: three lab engines, one per participant, each
// a different way into the lesson "links". The class view (key g, or the
// Lesson tab's Labs) shows one tile per lab engine in the engines' order,
// each with the done/total and the current step that GET
// /api/lessons/links/progress gives its engine, and a small picture of its
// lab that follows a new container; the Class table names the engines;
// a stopped lab2 greys lab2's tile alone, and it comes back; Escape
// closes the grid, and a click on lab3's tile closes it and shows lab3's
// host alone, in the address, counted against /api/graph.
func TestBrowserClassOfEngines(t *testing.T) {
	image := dockertest.FixtureImage(t)
	lab := dockertest.Lab(t, 3, false)
	lab.Load(t, image)
	base, output, _ := launch(t, nil, nil, "--addr", "127.0.0.1:0", "--operator-token", opToken,
		"--engine", "lab1="+lab.Hosts[0], "--engine", "lab2="+lab.Hosts[1], "--engine", "lab3="+lab.Hosts[2])
	run := func(engine, name string) {
		t.Helper()
		var out struct{ ID string }
		if st := apiAs(t, base, "POST", "/api/containers?engine="+engine, map[string]any{"name": name, "image": image, "cmd": []string{"sleep", "3600"}}, &out); st != http.StatusCreated {
			t.Fatalf("run %s on %s: HTTP %d", name, engine, st)
		}
	}
	// lab1 has done nothing of the lesson (a container of no step), lab2
	// the first step (database), lab3 the first two (database, web).
	run("lab1", "notes")
	run("lab2", "database")
	run("lab3", "database")
	run("lab3", "web")

	progress := func() []lesson.Progress {
		t.Helper()
		var rows []lesson.Progress
		if st := apiAs(t, base, "GET", "/api/lessons/links/progress", nil, &rows); st != http.StatusOK {
			t.Fatalf("GET progress: HTTP %d", st)
		}
		return rows
	}
	// rowOf is an engine's row, as the tile picks it (the furthest on).
	rowOf := func(rows []lesson.Progress, engine string) (lesson.Progress, bool) {
		var best lesson.Progress
		found := false
		for _, r := range rows {
			if r.Engine == engine && (!found || r.Done > best.Done) {
				best, found = r, true
			}
		}
		return best, found
	}
	waitUntil(t, "lab2 on step 2 and lab3 on step 3 of links", func() (bool, string) {
		rows := progress()
		r2, ok2 := rowOf(rows, "lab2")
		r3, ok3 := rowOf(rows, "lab3")
		return ok2 && ok3 && r2.Done == 1 && r3.Done == 2, fmt.Sprintf("%+v", rows)
	})
	if r, ok := rowOf(progress(), "lab1"); ok && r.Done != 0 {
		t.Errorf("lab1 has %d steps done, want 0", r.Done)
	}

	b := newBrowser(t)
	setViewport(t, b, 1280, 720)
	signInWith(t, b, printedLogin(t, output(), "operator"), base, mapReady)
	chooseLesson(t, b, "links", "")

	// The Class table names the lab engines' participants.
	mustDo(t, b, "show the class", chromedp.Click(chromedp.CSS(`[data-testid=lesson-class]`)))
	const classRow = `document.querySelector('[data-testid=lesson-progress-row][data-engine=lab3]')`
	waitJS(t, b, classRow+`?.querySelector('th').textContent === 'engine lab3' && `+classRow+`.textContent.includes('2/7')`, waitTimeout)

	const grid = `document.querySelector('[data-testid=class-view]')`
	tile := func(engine string) string {
		return fmt.Sprintf(`document.querySelector('[data-testid=class-tile][data-engine=%s]')`, jsString(engine))
	}
	waitJS(t, b, `!document.querySelector('[data-testid=class-view-open]').hidden`, waitTimeout)
	mustEval[bool](t, b, `(document.activeElement?.blur(), true)`)
	mustDo(t, b, "press g", chromedp.KeyEvent("g"))
	waitJS(t, b, grid+`.open && [...document.querySelectorAll('[data-testid=class-tile]')].map((e) => e.dataset.engine).join(',') === 'lab1,lab2,lab3'`, waitTimeout)

	// Each tile says what the progress API says of its engine.
	matches := func(engines ...string) string {
		rows := progress()
		var conds []string
		for _, e := range engines {
			r, ok := rowOf(rows, e)
			title := "not started"
			if ok {
				title = r.StepTitle
			}
			conds = append(conds, fmt.Sprintf(`%[1]s.dataset.done === %[2]s && %[1]s.dataset.total === '7' && %[1]s.querySelector('[data-testid=class-tile-step]').textContent === %[3]s`,
				tile(e), jsString(fmt.Sprint(r.Done)), jsString(title)))
		}
		return strings.Join(conds, " && ")
	}
	waitJS(t, b, matches("lab1", "lab2", "lab3"), waitTimeout)
	for e, want := range map[string]string{"lab1": "0/7", "lab2": "1/7", "lab3": "2/7"} {
		if got := mustEval[string](t, b, tile(e)+`.querySelector('[data-testid=class-tile-done]').textContent`); got != want {
			t.Errorf("%s's tile says %q done, want %q", e, got, want)
		}
	}
	if got := mustEval[string](t, b, tile("lab3")+`.querySelector('[data-testid=class-tile-step]').textContent`); got != "web reaches database by IP" {
		t.Errorf("lab3's current step %q, want web reaches database by IP", got)
	}
	// On a 1280x720 projector the grid scrolls nowhere and stays on screen.
	if over := mustEval[string](t, b, `(() => {
  const g = document.querySelector('[data-testid=class-view-tiles]');
  const d = `+grid+`.getBoundingClientRect();
  if (g.scrollHeight > g.clientHeight + 1 || g.scrollWidth > g.clientWidth + 1) return 'the tiles scroll';
  if (d.bottom > innerHeight || d.right > innerWidth) return 'the grid is past the window';
  return '';
})()`); over != "" {
		t.Error(over)
	}

	// The pictures draw each lab's containers, and follow a new one.
	circles := func(engine string) string {
		return tile(engine) + `.querySelectorAll('circle.container').length`
	}
	waitJS(t, b, circles("lab3")+` === 2 && `+circles("lab2")+` === 1 && `+circles("lab1")+` === 1`, waitTimeout)
	run("lab1", "scratch")
	waitJS(t, b, circles("lab1")+` === 2`, waitTimeout)

	// lab2 stopped: its tile alone is greyed, with why; the others keep
	// their progress; back when it is.
	lab.Stop(t, 2)
	waitJS(t, b, tile("lab2")+`.dataset.connected === 'false' && `+tile("lab2")+`.classList.contains('down')`, waitTimeout)
	if got := mustEval[string](t, b, tile("lab2")+`.querySelector('[data-testid=class-tile-state]').textContent`); !strings.HasPrefix(got, "unreachable") {
		t.Errorf("lab2's greyed tile says %q, want unreachable…", got)
	}
	for _, e := range []string{"lab1", "lab3"} {
		if mustEval[bool](t, b, tile(e)+`.classList.contains('down') || `+tile(e)+`.dataset.connected !== 'true'`) {
			t.Errorf("%s's tile is greyed with lab2 stopped", e)
		}
	}
	waitJS(t, b, matches("lab1", "lab3"), waitTimeout)
	lab.Start(t, 2)
	waitJS(t, b, tile("lab2")+`.dataset.connected === 'true' && !`+tile("lab2")+`.classList.contains('down')`, waitTimeout)
	waitJS(t, b, matches("lab1", "lab2", "lab3"), waitTimeout)
	screenshot(t, b, "class-of-engines")

	// Escape closes the grid; Labs opens it again.
	mustDo(t, b, "press Escape", chromedp.KeyEvent("\x1b"))
	waitJS(t, b, `!`+grid+`.open`, waitTimeout)
	mustDo(t, b, "open Labs", chromedp.Click(chromedp.CSS(`[data-testid=class-view-open]`)))
	waitJS(t, b, grid+`.open && `+tile("lab3")+` !== null`, waitTimeout)

	// lab3's tile opens lab3 full size: its host alone, the grid closed.
	mustDo(t, b, "click lab3's tile", chromedp.Click(chromedp.CSS(`[data-testid=class-tile][data-engine=lab3]`)))
	const shownNodes = `window.cy.nodes(':visible').not('.host, .overlay')`
	waitJS(t, b, `!`+grid+`.open && new URLSearchParams(location.search).get('focus') === 'host:lab3' && `+shownNodes+`.every((n) => n.data('host') === 'lab3' || !n.data('host'))`, waitTimeout)
	var g topology.Snapshot
	if st := apiAs(t, base, "GET", "/api/graph", nil, &g); st != http.StatusOK {
		t.Fatalf("GET /api/graph: HTTP %d", st)
	}
	if got, want := mustEval[int](t, b, shownNodes+`.length`), labNodes(g, "lab3"); got != want {
		t.Errorf("lab3 opened full size shows %d nodes, want lab3's %d", got, want)
	}
	// Full size: fitted as Fit fits it (the view's free part depends on
	// the window and on what floats over the map, so Fit is the measure).
	// The camera at rest: the same for 0.7 s (a move takes 0.45 s, and
	// cy.animated() is false until its first frame).
	const still = `(() => {
  const v = [window.cy.zoom(), window.cy.pan().x, window.cy.pan().y].join(',');
  const w = (window.classStill ??= { v: '', at: 0 });
  if (w.v !== v) Object.assign(w, { v, at: Date.now() });
  return !window.cy.animated() && Date.now() - w.at > 700;
})()`
	waitJS(t, b, `document.body.dataset.classLab === 'lab3' && `+still, waitTimeout)
	opened := mustEval[[]float64](t, b, `[window.cy.zoom(), window.cy.pan().x, window.cy.pan().y]`)
	screenshot(t, b, "class-lab3-open")
	mustDo(t, b, "Fit", chromedp.Click(chromedp.CSS(`[data-testid=zoom-fit]`)))
	waitJS(t, b, still, waitTimeout)
	fitted := mustEval[[]float64](t, b, `[window.cy.zoom(), window.cy.pan().x, window.cy.pan().y]`)
	if math.Abs(opened[0]/fitted[0]-1) > 0.02 || math.Abs(opened[1]-fitted[1]) > 4 || math.Abs(opened[2]-fitted[2]) > 4 {
		t.Errorf("lab3 opened at zoom %.3f, pan (%.0f, %.0f); Fit puts it at zoom %.3f, pan (%.0f, %.0f)", opened[0], opened[1], opened[2], fitted[0], fitted[1], fitted[2])
	}
}

// labNodes counts the nodes focus host:engine keeps: the host's own, and
// those of no host an edge joins to them (a Swarm overlay).
func labNodes(g topology.Snapshot, engine string) int {
	mine := map[topology.NodeID]bool{}
	hostless := map[topology.NodeID]bool{}
	for _, n := range g.Nodes {
		switch n.Host {
		case engine:
			mine[n.ID] = true
		case "":
			hostless[n.ID] = true
		}
	}
	loose := map[topology.NodeID]bool{}
	for _, e := range g.Edges {
		if mine[e.From] && hostless[e.To] {
			loose[e.To] = true
		}
		if mine[e.To] && hostless[e.From] {
			loose[e.From] = true
		}
	}
	return len(mine) + len(loose)
}
