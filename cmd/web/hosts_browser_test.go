package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/topology"
)

// TestBrowserHosts: with two lab engines beside the local one, the map
// draws each engine as a host box holding its nodes; a host collapses to
// one node counting its containers and expands again by keyboard; focus
// shows one host alone or hides one, in the address; Tidy and Bands keep
// the boxes apart; a stopped engine greys its host alone until it comes
// back; the Run dialog runs a container on the engine chosen in it, and
// the new container shows, selected, in that engine's box.
func TestBrowserHosts(t *testing.T) {
	image := dockertest.FixtureImage(t)
	lab := dockertest.Lab(t, 2, false)
	lab.Load(t, image)
	base, _, _ := launch(t, nil, nil, "--addr", "127.0.0.1:0",
		"--engine", "lab1="+lab.Hosts[0], "--engine", "lab2="+lab.Hosts[1])
	prefix := randomPrefix(t)
	var out struct{ ID string }
	if st := apiAs(t, base, "POST", "/api/containers?engine=lab1", map[string]any{"name": prefix + "web", "image": image, "cmd": []string{"sleep", "3600"}}, &out); st != http.StatusCreated {
		t.Fatalf("run on lab1: HTTP %d", st)
	}
	onLab1 := string(topology.ContainerNodeID(out.ID + "@lab1"))

	b := newBrowser(t)
	openMap(t, b, base)
	markPage(t, b)
	const hostIDs = `window.cy.nodes('.host').map((n) => n.id()).sort().join(',')`
	waitJS(t, b, hostIDs+` === 'h:lab1,h:lab2,h:local' && window.cy.getElementById(`+jsString(onLab1)+`).nonempty()`, waitTimeout)
	if got := mustEval[string](t, b, `window.cy.getElementById(`+jsString(onLab1)+`).parent().id()`); got != "h:lab1" {
		t.Errorf("lab1's container is in %q, want h:lab1", got)
	}
	// Every node is in its host's box, the boxes hold nothing else.
	if bad := mustEval[[]string](t, b, `window.cy.nodes().not('.host, .overlay').filter((n) => !n.ancestors().some((a) => a.id() === 'h:' + n.data('host'))).map((n) => n.id())`); len(bad) > 0 {
		t.Errorf("nodes outside their host's box: %v", bad)
	}

	// What /api/graph says of each host.
	graph := func() topology.Snapshot {
		var g topology.Snapshot
		getJSONInto(t, base+"/api/graph", &g)
		return g
	}
	count := func(g topology.Snapshot, host string, kind topology.NodeKind) int {
		n := 0
		for _, x := range g.Nodes {
			if x.Host == host && (kind == "" || x.Kind == kind) {
				n++
			}
		}
		return n
	}

	// Collapse lab1 by keyboard: its nodes hidden, its label counts its
	// containers, one node stands for it; Enter expands it again.
	const lab1 = `window.cy.getElementById('h:lab1')`
	mustEval[bool](t, b, `(window.cy.elements().unselect(), `+lab1+`.select(), true)`)
	waitJS(t, b, `document.querySelector('[data-testid=host-menu]')?.dataset.host === 'lab1'`, waitTimeout)
	mustDo(t, b, "press c", chromedp.KeyEvent("c"))
	waitJS(t, b, lab1+`.hasClass('collapsed') && `+lab1+`.children().every((n) => !n.visible())`, waitTimeout)
	containers := count(graph(), "lab1", topology.KindContainer)
	want := fmt.Sprintf("lab1 · %d container", containers)
	if got := mustEval[string](t, b, lab1+`.data('label')`); !strings.HasPrefix(got, want) {
		t.Errorf("collapsed lab1 is labelled %q, want %q…", got, want)
	}
	if !mustEval[bool](t, b, lab1+`.visible()`) {
		t.Error("collapsed lab1 is not shown")
	}
	mustDo(t, b, "press Enter", chromedp.KeyEvent("\r"))
	waitJS(t, b, `!`+lab1+`.hasClass('collapsed') && `+lab1+`.children().every((n) => n.visible()) && `+lab1+`.data('label') === 'lab1'`, waitTimeout)

	// A click on a member inside a box selects the member, not the box,
	// and its panel says its engine.
	at := mustEval[[]float64](t, b, `(() => {
  const n = window.cy.getElementById(`+jsString(onLab1)+`);
  window.cy.center(n);
  const r = document.querySelector('[data-testid=graph]').getBoundingClientRect();
  const p = n.renderedPosition();
  return [r.left + p.x, r.top + p.y];
})()`)
	mustDo(t, b, "click lab1's container", chromedp.MouseClickXY(at[0], at[1]))
	waitJS(t, b, `window.dockmap.selected === `+jsString(onLab1)+` && document.querySelector('[data-testid=panel-engine]')?.textContent.trim() === 'engine lab1'`, waitTimeout)
	if mustEval[bool](t, b, lab1+`.selected()`) {
		t.Error("a click on lab1's container selected lab1's box too")
	}

	// Show only lab2, from its menu: exactly lab2's nodes are shown, and
	// the address says so; back to all.
	const shownNodes = `window.cy.nodes(':visible').not('.host, .overlay')`
	mustEval[bool](t, b, `(window.cy.elements().unselect(), window.cy.getElementById('h:lab2').select(), true)`)
	waitJS(t, b, `document.querySelector('[data-testid=host-menu]')?.dataset.host === 'lab2'`, waitTimeout)
	mustDo(t, b, "show only lab2", chromedp.Click(chromedp.CSS(`[data-testid=host-only]`)))
	waitJS(t, b, shownNodes+`.every((n) => n.data('host') === 'lab2')`, waitTimeout)
	if got, want := mustEval[int](t, b, shownNodes+`.length`), count(graph(), "lab2", ""); got != want {
		t.Errorf("with lab2 alone, %d nodes shown, want lab2's %d", got, want)
	}
	if got := mustEval[string](t, b, `new URLSearchParams(location.search).get('focus')`); got != "host:lab2" {
		t.Errorf("address focus = %q, want host:lab2", got)
	}
	if got := mustEval[string](t, b, `window.cy.nodes('.host:visible').map((n) => n.id()).join(',')`); got != "h:lab2" {
		t.Errorf("hosts shown with lab2 alone: %q, want h:lab2", got)
	}
	unfocus := `(() => { const k = document.querySelector('[data-testid=focus-kind]'); k.value = ''; k.dispatchEvent(new Event('change')); return true; })()`
	mustEval[bool](t, b, unfocus)
	waitJS(t, b, `window.cy.nodes('.focus-hidden').empty() && !new URLSearchParams(location.search).has('focus')`, waitTimeout)

	// Hide lab1: everything but lab1's nodes is shown.
	mustEval[bool](t, b, `(window.cy.elements().unselect(), `+lab1+`.select(), true)`)
	waitJS(t, b, `document.querySelector('[data-testid=host-menu]')?.dataset.host === 'lab1'`, waitTimeout)
	mustDo(t, b, "hide lab1", chromedp.Click(chromedp.CSS(`[data-testid=host-hide]`)))
	waitJS(t, b, `!`+lab1+`.visible() && `+shownNodes+`.every((n) => n.data('host') !== 'lab1')`, waitTimeout)
	g := graph()
	if got, want := mustEval[int](t, b, shownNodes+`.length`), len(g.Nodes)-count(g, "lab1", ""); got != want {
		t.Errorf("with lab1 hidden, %d nodes shown, want %d", got, want)
	}
	if got := mustEval[string](t, b, `document.querySelector('[data-testid=focus-count]').hidden ? '' : new URLSearchParams(location.search).get('focus')`); got != "hide-host:lab1" {
		t.Errorf("with lab1 hidden, the count is hidden or the address focus is %q, want hide-host:lab1", got)
	}
	mustEval[bool](t, b, unfocus)
	waitJS(t, b, `window.cy.nodes('.focus-hidden').empty()`, waitTimeout)

	// Tidy, then Bands: no two host boxes overlap.
	apart := func(when string) {
		t.Helper()
		overlaps := mustEval[[]string](t, b, `(() => {
  const bs = window.cy.nodes('.host').map((n) => ({ id: n.id(), b: n.boundingBox({ includeLabels: true }) }));
  const out = [];
  for (let i = 0; i < bs.length; i++) for (let j = i + 1; j < bs.length; j++) {
    const p = bs[i].b, q = bs[j].b;
    const at = (b) => '[' + [b.x1, b.y1, b.x2, b.y2].map(Math.round).join(',') + ']';
    if (p.x1 < q.x2 && q.x1 < p.x2 && p.y1 < q.y2 && q.y1 < p.y2) out.push(bs[i].id + at(p) + ' ' + bs[j].id + at(q));
  }
  return out;
})()`)
		if len(overlaps) > 0 {
			t.Errorf("%s: host boxes overlap: %v", when, overlaps)
		}
	}
	mustEval[bool](t, b, `(window.cy.elements().unselect(), true)`)
	mustDo(t, b, "press t", chromedp.KeyEvent("t"))
	waitJS(t, b, `document.body.dataset.layout === 'done'`, waitTimeout)
	apart("after Tidy")
	mustEval[bool](t, b, `(document.body.dataset.layout = '', true)`)
	mustDo(t, b, "Bands", chromedp.Click(chromedp.CSS(`#bands`)))
	waitJS(t, b, `document.body.dataset.layout === 'done'`, waitTimeout)
	apart("after Bands")
	if bad := mustEval[[]string](t, b, `window.cy.nodes().not('.host, .overlay').filter((n) => !n.ancestors().some((a) => a.id() === 'h:' + n.data('host'))).map((n) => n.id())`); len(bad) > 0 {
		t.Errorf("after Tidy, nodes outside their host's box: %v", bad)
	}

	// lab2 stopped: its host alone is greyed, with why; back when it is.
	lab.Stop(t, 2)
	waitJS(t, b, `window.cy.getElementById('h:lab2').hasClass('host-down') && !`+lab1+`.hasClass('host-down') && !window.cy.getElementById('h:local').hasClass('host-down')`, waitTimeout)
	if got := mustEval[string](t, b, `window.cy.getElementById('h:lab2').data('error') || ''`); got == "" {
		t.Error("lab2's greyed host carries no error")
	}
	lab.Start(t, 2)
	waitJS(t, b, `window.cy.getElementById('h:lab2').nonempty() && !window.cy.getElementById('h:lab2').hasClass('host-down')`, waitTimeout)

	// Run on lab1 from the page: the Engine select, then the new
	// container in lab1's box, selected by its suffixed ID.
	name := prefix + "made"
	mustDo(t, b, "open the Run dialog", chromedp.Click(chromedp.CSS(`[data-testid=run-open]`)))
	const engineSel = `document.querySelector('[data-testid=run-engine]')`
	waitJS(t, b, `document.querySelector('[data-testid=run-dialog]').open && !`+engineSel+`.closest('label').hidden && [...`+engineSel+`.options].some((o) => o.value === 'lab1')`, waitTimeout)
	mustEval[bool](t, b, `(`+engineSel+`.value = 'lab1', `+engineSel+`.dispatchEvent(new Event('change')), true)`)
	waitJS(t, b, fmt.Sprintf(`[...document.querySelectorAll('[data-testid=run-image] option')].some((o) => o.value === %s) && !document.querySelector('[data-testid=run-image]').disabled`, jsString(image)), waitTimeout)
	clearInput(t, b, `[data-testid=run-name]`)
	mustDo(t, b, "run on lab1",
		chromedp.SetValue(chromedp.CSS(`[data-testid=run-image]`), image),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=run-name]`), name),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=run-cmd]`), "sleep 3600"),
		chromedp.Click(chromedp.CSS(`[data-testid=run-submit]`)),
	)
	made := `window.cy.nodes('.container').filter((n) => n.data('name') === ` + jsString(name) + `)`
	waitJS(t, b, made+`.length === 1 && `+made+`.parent().id() === 'h:lab1' && `+made+`.id().endsWith('@lab1')`, waitTimeout)
	waitJS(t, b, `window.dockmap.selected === `+made+`.id()`, waitTimeout)
	waitJS(t, b, `document.querySelector('[data-testid=panel-engine]')?.textContent.trim() === 'engine lab1'`, waitTimeout)
	// Its panel's Stop goes to lab1 (the bare Docker ID would go to the
	// default engine, which has no such container).
	waitJS(t, b, `document.querySelector('#panel [data-action=stop]:not([disabled])') !== null`, waitTimeout)
	mustDo(t, b, "stop it from its panel", chromedp.Click(chromedp.CSS(`#panel [data-action=stop]`)))
	waitJS(t, b, made+`.hasClass('stopped')`, waitTimeout)
	if st := inspectOn(t, labClient(t, lab.Hosts[0]), strings.TrimSuffix(strings.TrimPrefix(mustEval[string](t, b, made+`.id()`), "c:"), "@lab1")).State; st == "running" {
		t.Errorf("lab1's container still runs after Stop in its panel")
	}
	// Its engine's events are in the feed, marked with the engine and
	// naming the container as the map does.
	waitJS(t, b, `[...document.querySelectorAll('[data-testid=event-row]')].some((r) =>
		r.querySelector('[data-testid=event-engine]')?.textContent === 'lab1' && r.textContent.includes(`+jsString(name)+`))`, waitTimeout)
	checkNotReloaded(t, b, "after the hosts' round")
}
