package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
)

// The workshop, as a class sees it (issue 11): an instructor and a viewer
// follow lesson 1 at 1280x720 while the instructor does it from the page.

const mapReady = `window.dockmap && window.dockmap.connected && window.cy`

// clockPattern is a time of day as the page writes it next to a result.
var clockPattern = regexp.MustCompile(`\d\d:\d\d:\d\d`)

// randomPrefix is a participant's name prefix of its own, so that tests
// beside each other on one engine never share a lab.
func randomPrefix(t testing.TB) string {
	t.Helper()
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "w" + hex.EncodeToString(b[:]) + "-"
}

// chooseLesson picks lesson id with prefix in b's Lesson tab, and shows the
// tab.
func chooseLesson(t testing.TB, b *browser, id, prefix string) {
	t.Helper()
	waitJS(t, b, fmt.Sprintf(`[...document.querySelectorAll('[data-testid=lesson-select] option')].some((o) => o.value === %s)`, jsString(id)), waitTimeout)
	mustEval[bool](t, b, fmt.Sprintf(`(() => {
		const p = document.querySelector('[data-testid=lesson-prefix]');
		p.value = %s;
		p.dispatchEvent(new Event('input', { bubbles: true }));
		const s = document.querySelector('[data-testid=lesson-select]');
		s.value = %s;
		s.dispatchEvent(new Event('change', { bubbles: true }));
		document.querySelector('[data-testid=tab-lesson]').click();
		return true;
	})()`, jsString(prefix), jsString(id)))
	waitJS(t, b, fmt.Sprintf(`document.querySelector('[data-testid=lesson]').dataset.lesson === %s && document.querySelectorAll('[data-testid=lesson-step]').length > 0`, jsString(id)), waitTimeout)
}

// stepState is a JS expression: the state of step id on b's Lesson tab.
func stepState(id string) string {
	return fmt.Sprintf(`document.querySelector('[data-testid=lesson-step][data-step=%s]')?.dataset.state`, jsString(id))
}

// waitStepDone waits until step id is ticked green on every page.
func waitStepDone(t testing.TB, id string, pages ...*browser) {
	t.Helper()
	for _, b := range pages {
		waitJS(t, b, stepState(id)+` === 'done'`, waitTimeout)
	}
}

// roomProblems is a JS expression: what a room could not see, measured from
// the rendered positions: every shown node whose box (label included) lies
// outside the map or under something floating over it (the map controls,
// the legend, the matrix, a card, the presenter's caption), and every link
// label a node covers.
const roomProblems = `(() => {
	const g = document.querySelector('[data-testid=graph]').getBoundingClientRect();
	const floating = ['map-controls', 'legend', 'matrix', 'selection-prediction', 'presenter-caption']
		.map((id) => document.querySelector('[data-testid=' + id + ']'))
		.filter((el) => el && el.getClientRects().length > 0)
		.map((el) => el.getBoundingClientRect());
	const overlaps = (b, r) => b.x1 + g.left < r.right && b.x2 + g.left > r.left && b.y1 + g.top < r.bottom && b.y2 + g.top > r.top;
	const out = [];
	const nodes = window.cy.nodes(':visible').not('.overlay');
	nodes.forEach((n) => {
		const b = n.renderedBoundingBox({ includeLabels: true, includeOverlays: false, includeUnderlays: false });
		const at = ' at ' + [b.x1, b.y1, b.x2, b.y2].map(Math.round).join(',') + ' in ' + Math.round(g.width) + 'x' + Math.round(g.height);
		if (b.x1 < 0 || b.y1 < 0 || b.x2 > g.width || b.y2 > g.height) out.push(n.data('name') + ' outside the map' + at);
		else if (floating.some((r) => overlaps(b, r))) out.push(n.data('name') + ' under a floating element' + at);
	});
	window.cy.edges('.link:visible').forEach((e) => {
		const l = e.renderedBoundingBox({ includeNodes: false, includeEdges: false, includeLabels: true, includeOverlays: false });
		if (!(l.w > 0)) return;
		nodes.forEach((n) => {
			if (n.same(e.source()) || n.same(e.target())) return;
			const b = n.renderedBoundingBox({ includeLabels: true, includeOverlays: false, includeUnderlays: false });
			if (b.x1 < l.x2 && b.x2 > l.x1 && b.y1 < l.y2 && b.y2 > l.y1) out.push(n.data('name') + ' covers the label of link ' + e.data('label'));
		});
	});
	return out;
})()`

// checkRoom fails the test when the room could not see part of the lab on
// b, once the camera has settled.
func checkRoom(t testing.TB, b *browser, when string) {
	t.Helper()
	if !pollJS(b, `!window.cy.animated() && window.cy.nodes().every((n) => !n.animated())`, waitTimeout) {
		t.Errorf("%s: the map is still moving", when)
	}
	// A link bends round a node once the node has arrived: what counts is
	// the picture the room is left with.
	if !pollJS(b, roomProblems+`.length === 0`, 3*time.Second) {
		if got := mustEval[[]string](t, b, roomProblems); len(got) > 0 {
			t.Errorf("%s: %q", when, got)
		}
	}
}

// checkPanelRoom fails the test unless the panel takes at least 45 % of the
// page's height, is scrolled to its top, and the document itself does not
// scroll.
func checkPanelRoom(t testing.TB, b *browser, when string) {
	t.Helper()
	got := mustEval[map[string]float64](t, b, `(() => {
		const p = document.querySelector('[data-testid=panel]');
		const d = document.scrollingElement;
		return { share: p.getBoundingClientRect().height / innerHeight, top: p.scrollTop,
			over: d.scrollHeight - innerHeight, wide: d.scrollWidth - innerWidth };
	})()`)
	if got["share"] < 0.45 {
		t.Errorf("%s: the panel is %.0f %% of the page's height, want at least 45 %%", when, got["share"]*100)
	}
	if got["top"] != 0 {
		t.Errorf("%s: the panel opened scrolled to %v px, want its top", when, got["top"])
	}
	if got["over"] > 0 || got["wide"] > 0 {
		t.Errorf("%s: the document scrolls (%v px down, %v px across), want never", when, got["over"], got["wide"])
	}
}

// openPanelOf selects the node nodeID on b's map, waits for its panel and
// checks the panel has the room it needs.
func openPanelOf(t testing.TB, b *browser, nodeID, what string) {
	t.Helper()
	clickNode(t, b, nodeID)
	waitJS(t, b, panelShows(nodeID), waitTimeout)
	checkPanelRoom(t, b, what)
}

// setViewport sizes b's page.
func setViewport(t testing.TB, b *browser, w, h int64) {
	t.Helper()
	mustDo(t, b, fmt.Sprintf("a %dx%d screen", w, h), chromedp.EmulateViewport(w, h))
}

// focusOn shows only what focus (kind, value) keeps on b's map.
func focusOn(t testing.TB, b *browser, kind, value string) {
	t.Helper()
	mustEval[bool](t, b, fmt.Sprintf(`(() => {
		const k = document.querySelector('[data-testid=focus-kind]');
		k.value = %s;
		k.dispatchEvent(new Event('change', { bubbles: true }));
		const v = document.querySelector('[data-testid=focus-value]');
		v.value = %s;
		v.dispatchEvent(new Event('input', { bubbles: true }));
		return true;
	})()`, jsString(kind), jsString(value)))
	want := kind + ":" + value
	if kind == "" {
		want = ""
	}
	waitJS(t, b, fmt.Sprintf(`document.body.dataset.focus === %s`, jsString(want)), waitTimeout)
}

// Lesson 1 from the instructor's page, a viewer watching on another: each
// step ticks green on both pages as the map satisfies it; the IP success
// and the name failure are on the map together, with their times; after
// the link, the name arrow is green and the red one is gone; and after
// every action the room sees every node of the lab and the link's label.
func TestBrowserWorkshopLinks(t *testing.T) {
	c := dockertest.Client(t)
	image := dockertest.FixtureImage(t)
	base, output, _ := launch(t, nil, nil, "-addr", "127.0.0.1:0", "--operator-token", opToken, "--viewer-token", viewToken)
	teacher := newBrowser(t)
	signInWith(t, teacher, printedLogin(t, output(), "operator"), base, mapReady)
	viewer := newBrowser(t)
	signInWith(t, viewer, printedLogin(t, output(), "viewer"), base, mapReady)
	// The header says who is watching: the instructor and one viewer.
	for _, b := range []*browser{teacher, viewer} {
		waitJS(t, b, `(() => { const w = document.querySelector('[data-testid=watchers]'); return !w.hidden && w.dataset.viewers === '1' && w.dataset.operators === '1'; })()`, waitTimeout)
	}
	prefix := randomPrefix(t)
	for _, b := range []*browser{teacher, viewer} {
		setViewport(t, b, 1280, 720)
		chooseLesson(t, b, "links", prefix)
		// The lab only: on a busy engine other tests' containers come and go.
		focusOn(t, b, "prefix", prefix)
	}

	dbName, webName := prefix+"database", prefix+"web"
	dbID := runFromPage(t, teacher, c, base, image, dbName)
	waitStepDone(t, "run-database", teacher, viewer)
	checkRoom(t, teacher, "after running database")
	webID := runFromPage(t, teacher, c, base, image, webName)
	waitStepDone(t, "run-web", teacher, viewer)
	checkRoom(t, teacher, "after running web")
	checkRoom(t, viewer, "the viewer, after running web")

	openPanelOf(t, teacher, "c:"+webID, "web's panel")
	pingFromPanel(t, teacher, dbID, "ip")
	waitStepDone(t, "ping-ip", teacher, viewer)
	pingFromPanel(t, teacher, dbID, "name")
	waitStepDone(t, "ping-name-fails", teacher, viewer)

	// Both verdicts on both maps at once, each with its time.
	ipEdge := fmt.Sprintf(`window.cy.getElementById(%s)`, jsString("p:"+webID+">"+dbID+":ip"))
	nameEdge := fmt.Sprintf(`window.cy.getElementById(%s)`, jsString("p:"+webID+">"+dbID+":name"))
	both := ipEdge + `.hasClass('probe-ok') && ` + ipEdge + `.visible() && ` + nameEdge + `.hasClass('probe-fail') && ` + nameEdge + `.visible()`
	for _, b := range []*browser{teacher, viewer} {
		waitJS(t, b, both, waitTimeout)
		for _, e := range []string{ipEdge, nameEdge} {
			if label := mustEval[string](t, b, e+`.data('label')`); !clockPattern.MatchString(label) {
				t.Errorf("probe arrow %q has no time", label)
			}
		}
	}

	// The link, from the panel, through its plan.
	linkThroughPlan(t, teacher, dbID, "database")
	newWebID := recreatedID(t, c, base, webName, webID)
	waitStepDone(t, "add-link", teacher, viewer)
	waitJS(t, teacher, fmt.Sprintf(`window.cy.edges('.link').some((e) => e.source().id() === %s && e.data('label') === 'database')`, jsString("c:"+newWebID)), waitTimeout)
	checkRoom(t, teacher, "after the link (web re-created)")
	checkRoom(t, viewer, "the viewer, after the link")

	openPanelOf(t, teacher, "c:"+newWebID, "the new web's panel")
	pingFromPanel(t, teacher, dbID, "name")
	waitStepDone(t, "ping-name", teacher, viewer)
	newName := fmt.Sprintf(`window.cy.getElementById(%s)`, jsString("p:"+newWebID+">"+dbID+":name"))
	for _, b := range []*browser{teacher, viewer} {
		waitJS(t, b, newName+`.hasClass('probe-ok') && `+newName+`.visible()`, waitTimeout)
		// The old red arrow went with the old web.
		if n := mustEval[int](t, b, fmt.Sprintf(`window.cy.edges('.probe.probe-fail').filter((e) => e.target().id() === %s && e.data('by') === 'name').length`, jsString("c:"+dbID))); n != 0 {
			t.Errorf("%d red name arrows to database remain after the link", n)
		}
		if label := mustEval[string](t, b, newName+`.data('label')`); !clockPattern.MatchString(label) {
			t.Errorf("the green name arrow %q has no time", label)
		}
	}

	// And not the other way: a link is one-way.
	clickNode(t, teacher, "c:"+dbID)
	waitJS(t, teacher, panelShows("c:"+dbID), waitTimeout)
	pingFromPanel(t, teacher, newWebID, "name")
	waitStepDone(t, "one-way", teacher, viewer)
	if got := mustEval[string](t, teacher, `document.querySelector('[data-testid=lesson-summary]').dataset.done`); got != "7" {
		t.Errorf("steps done at the end = %s, want all 7", got)
	}

	// Tidy keeps every node in view.
	mustDo(t, teacher, "Tidy", chromedp.Click(chromedp.CSS(`[data-testid=tidy]`)))
	waitJS(t, teacher, `document.body.dataset.layout === 'done'`, waitTimeout)
	checkRoom(t, teacher, "after Tidy")
	// The stable layout: the lab's network at the left of its band, its
	// containers in a row, in name order.
	mustEval[bool](t, teacher, `(delete document.body.dataset.layout, true)`)
	mustDo(t, teacher, "Bands", chromedp.Click(chromedp.CSS(`[data-testid=bands]`)))
	waitJS(t, teacher, `document.body.dataset.layout === 'done'`, waitTimeout)
	checkRoom(t, teacher, "after Bands")
	row := mustEval[map[string]float64](t, teacher, fmt.Sprintf(`(() => {
		const byName = (n) => window.cy.nodes('.container').filter((c) => c.data('name') === n).first().position();
		const d = byName(%s), w = byName(%s);
		return { dy: Math.abs(d.y - w.y), dx: w.x - d.x };
	})()`, jsString(dbName), jsString(webName)))
	if row["dy"] > 1 || row["dx"] <= 0 {
		t.Errorf("Bands: database and web not in one row in name order (dx %v, dy %v)", row["dx"], row["dy"])
	}
	screenshot(t, teacher, "lesson-links")
}

// linkThroughPlan adds a link from the container in b's panel to the one
// with full ID to, under alias, confirms its plan, and waits for its job.
func linkThroughPlan(t testing.TB, b *browser, to, alias string) {
	t.Helper()
	addLinkFromPanel(t, b, to, alias)
	waitDialog(t, b, "link", "ready")
	confirmAndWait(t, b, "link")
}

// apiAs calls dockmap's API with the operator's token and decodes the
// answer into out (when not nil); it returns the status.
func apiAs(t testing.TB, base, method, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+opToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: 3 * waitTimeout}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, data, err)
		}
	}
	if resp.StatusCode >= 300 && out != nil {
		t.Logf("%s %s: %s %s", method, path, resp.Status, data)
	}
	return resp.StatusCode
}

// probeAs runs one probe through the API, as an operator.
func probeAs(t testing.TB, base, from, to, by string) {
	t.Helper()
	if st := apiAs(t, base, "POST", "/api/probes", map[string]any{"from": from, "to": to, "by": by}, &struct{}{}); st != http.StatusOK {
		t.Fatalf("probe %s → %s by %s: HTTP %d", from, to, by, st)
	}
}

// A viewer on a phone (390x844) gets the map, the lesson and the feed,
// with nothing cut off at the side and no scrolling of the page.
func TestBrowserViewerOnAPhone(t *testing.T) {
	c := dockertest.Client(t)
	base, output, _ := launch(t, nil, nil, "-addr", "127.0.0.1:0", "--operator-token", opToken, "--viewer-token", viewToken)
	prefix := randomPrefix(t)
	api := dockertest.RunContainer(t, c, dockertest.WithName(prefix+"api"))
	b := newBrowser(t)
	setViewport(t, b, 390, 844)
	signInWith(t, b, printedLogin(t, output(), "viewer"), base, mapReady)
	waitJS(t, b, nodeExists("c:"+api), waitTimeout)
	chooseLesson(t, b, "bridges", prefix)
	waitStepDone(t, "run-api", b)

	visible := func(testid string) string {
		return fmt.Sprintf(`(() => { const r = document.querySelector('[data-testid=%s]').getBoundingClientRect();
			return r.width > 0 && r.height > 40 && r.left >= 0 && r.right <= innerWidth + 0.5 && r.top >= 0 && r.top < innerHeight; })()`, testid)
	}
	for _, id := range []string{"graph", "lesson"} {
		if !mustEval[bool](t, b, visible(id)) {
			t.Errorf("on a phone the %s is not on screen: %v", id, mustEval[any](t, b, fmt.Sprintf(`document.querySelector('[data-testid=%s]').getBoundingClientRect().toJSON()`, id)))
		}
	}
	mustDo(t, b, "show the events", chromedp.Click(chromedp.CSS(`[data-testid=tab-event-feed]`)))
	if !mustEval[bool](t, b, visible("event-feed")) {
		t.Errorf("on a phone the event feed is not on screen")
	}
	got := mustEval[map[string]float64](t, b, `({ wide: document.scrollingElement.scrollWidth - innerWidth, tall: document.scrollingElement.scrollHeight - innerHeight })`)
	if got["wide"] > 0 || got["tall"] > 0 {
		t.Errorf("on a phone the page scrolls: %v px across, %v px down", got["wide"], got["tall"])
	}
	mustDo(t, b, "back to the lesson", chromedp.Click(chromedp.CSS(`[data-testid=tab-lesson]`)))
	screenshot(t, b, "viewer-phone")
}

// With 200 foreign containers on the engine, focusing on one prefix leaves
// only that lab on the map and in the ping targets; the networks keep their
// labels at the zoom that shows everything.
func TestBrowserFocusOnABusyEngine(t *testing.T) {
	c := dockertest.Client(t)
	dockertest.FixtureImage(t)
	foreign := make([]string, 200)
	for i := range foreign {
		foreign[i] = dockertest.RunContainer(t, c, dockertest.Stopped(), dockertest.WithName(dockertest.UniqueName(t, fmt.Sprintf("foreign%d", i))))
	}
	prefix := randomPrefix(t)
	a := dockertest.RunContainer(t, c, dockertest.WithName(prefix+"api"))
	d := dockertest.RunContainer(t, c, dockertest.WithName(prefix+"db"))
	base := startDockmap(t, nil)
	b := newBrowser(t)
	setViewport(t, b, 1280, 720)
	openMap(t, b, base)
	waitJS(t, b, nodeExists("c:"+foreign[len(foreign)-1])+` && `+nodeExists("c:"+d), waitTimeout)
	mustDo(t, b, "Fit", chromedp.Click(chromedp.CSS(`[data-testid=zoom-fit]`)))
	if n := mustEval[int](t, b, `window.cy.nodes('.network.label-keep').length`); n == 0 {
		t.Errorf("at the zoom that shows 200 containers, no label is kept")
	}

	focusOn(t, b, "prefix", prefix)
	pollJS(b, `window.cy.nodes('.container:visible').length === 2`, waitTimeout)
	shown := mustEval[[]string](t, b, `window.cy.nodes('.container:visible').map((n) => n.data('name')).sort()`)
	if want := []string{prefix + "api", prefix + "db"}; strings.Join(shown, ",") != strings.Join(want, ",") {
		t.Errorf("focused on %s, the map shows %d containers %q, want %q", prefix, len(shown), shown, want)
	}
	if got := mustEval[string](t, b, `document.querySelector('[data-testid=focus-count]').textContent`); !strings.HasPrefix(got, "2 of ") {
		t.Errorf("focus count %q, want 2 of …", got)
	}
	clickNode(t, b, "c:"+a)
	waitJS(t, b, panelShows("c:"+a), waitTimeout)
	targets := mustEval[[]string](t, b, `[...document.querySelectorAll('#panel [data-testid=ping-target] option')].filter((o) => !o.hidden && o.value).map((o) => o.value)`)
	if len(targets) != 1 || targets[0] != d {
		t.Errorf("ping targets offered with the focus on: %d %q, want only %s's db", len(targets), targets, prefix)
	}
	checkRoom(t, b, "focused on the lab")

	// Off again: everything is back.
	focusOn(t, b, "", "")
	all := fmt.Sprintf(`window.cy.nodes('.container:visible').length >= %d`, len(foreign)+2)
	if !pollJS(b, all, waitTimeout) {
		t.Errorf("with the focus off, %d containers shown, want at least %d (focus %q)", mustEval[int](t, b, `window.cy.nodes('.container:visible').length`),
			len(foreign)+2, mustEval[string](t, b, `document.body.dataset.focus`))
	}
}

// Two participants do lesson 2 at once on one engine, each under a prefix;
// the instructor's class table shows where each one is.
func TestBrowserClassProgress(t *testing.T) {
	c := dockertest.Client(t)
	base, output, _ := launch(t, nil, nil, "-addr", "127.0.0.1:0", "--operator-token", opToken)
	p1, p2 := randomPrefix(t), randomPrefix(t)
	// p1 has the network done; p2 has only started its two containers.
	dockertest.CreateNetwork(t, c, p1+"backend")
	a1 := dockertest.RunContainer(t, c, dockertest.WithName(p1+"api"), dockertest.WithNetwork(p1+"backend"))
	d1 := dockertest.RunContainer(t, c, dockertest.WithName(p1+"db"), dockertest.WithNetwork(p1+"backend"))
	dockertest.RunContainer(t, c, dockertest.WithName(p2+"api"))
	dockertest.RunContainer(t, c, dockertest.WithName(p2+"db"))
	b := newBrowser(t)
	setViewport(t, b, 1280, 720)
	signInWith(t, b, printedLogin(t, output(), "operator"), base, mapReady)
	chooseLesson(t, b, "bridges", "")
	mustDo(t, b, "show the class", chromedp.Click(chromedp.CSS(`[data-testid=lesson-class]`)))
	row := func(p string) string {
		return fmt.Sprintf(`document.querySelector('[data-testid=lesson-progress-row][data-prefix=%s]')`, jsString(p))
	}
	waitJS(t, b, row(p1)+`?.dataset.step === 'api-to-db' && `+row(p2)+`?.dataset.step === 'share-network'`, waitTimeout)

	// p1 pings by name: the table moves them on, p2 stays.
	probeAs(t, base, a1, d1, "name")
	waitJS(t, b, row(p1)+`?.dataset.step === 'db-to-api'`, waitTimeout)
	if got := mustEval[string](t, b, row(p2)+`.dataset.step`); got != "share-network" {
		t.Errorf("%s moved to %q with nothing done, want share-network", p2, got)
	}
	if got := mustEval[string](t, b, row(p1)+`.textContent`); !strings.Contains(got, "4/5") {
		t.Errorf("%s's row %q, want 4/5 done", p1, got)
	}
	screenshot(t, b, "class-progress")
}

// A probe's result is marked stale as soon as the network it went over is
// detached, on the map and in the panel, and a reload still shows it.
func TestBrowserStaleAfterDetach(t *testing.T) {
	c := dockertest.Client(t)
	netName := dockertest.UniqueName(t, "stalenet")
	netID := dockertest.CreateNetwork(t, c, netName)
	a := dockertest.RunContainer(t, c, dockertest.WithNetwork(netName))
	bID := dockertest.RunContainer(t, c, dockertest.WithNetwork(netName))
	base, output, _ := launch(t, nil, nil, "-addr", "127.0.0.1:0", "--operator-token", opToken)
	b := newBrowser(t)
	signInWith(t, b, printedLogin(t, output(), "operator"), base, mapReady)
	waitJS(t, b, nodeExists("c:"+a)+` && `+nodeExists("c:"+bID), waitTimeout)
	clickNode(t, b, "c:"+a)
	waitJS(t, b, panelShows("c:"+a), waitTimeout)
	pingFromPanel(t, b, bID, "name")
	edge := fmt.Sprintf(`window.cy.getElementById(%s)`, jsString("p:"+a+">"+bID+":name"))
	waitJS(t, b, edge+`.hasClass('probe-ok') && !`+edge+`.hasClass('probe-stale')`, waitTimeout)

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := c.DisconnectNetwork(ctx, netID, bID); err != nil {
		t.Fatal(err)
	}
	waitJS(t, b, edge+`.hasClass('probe-stale') && `+edge+`.data('label').includes('stale')`, waitTimeout)
	waitJS(t, b, resultRow(bID, "name")+`?.dataset.stale === 'true'`, waitTimeout)
	if got := mustEval[string](t, b, resultRow(bID, "name")+`.textContent`); !strings.Contains(got, "stale") {
		t.Errorf("the panel's row %q does not say it is stale", got)
	}

	// A reload keeps it, still stale.
	load(t, b, "reload", mapReady, chromedp.Reload())
	waitJS(t, b, edge+`.nonempty() && `+edge+`.hasClass('probe-stale')`, waitTimeout)
}

// The presenter view (f): the map alone, the lesson's step as the caption,
// and a sentence when a probe comes in.
func TestBrowserPresenterView(t *testing.T) {
	c := dockertest.Client(t)
	prefix := randomPrefix(t)
	netName := prefix + "backend"
	dockertest.CreateNetwork(t, c, netName)
	a := dockertest.RunContainer(t, c, dockertest.WithName(prefix+"api"), dockertest.WithNetwork(netName))
	d := dockertest.RunContainer(t, c, dockertest.WithName(prefix+"db"), dockertest.WithNetwork(netName))
	base, output, _ := launch(t, nil, nil, "-addr", "127.0.0.1:0", "--operator-token", opToken)
	b := newBrowser(t)
	setViewport(t, b, 1280, 720)
	signInWith(t, b, printedLogin(t, output(), "operator"), base, mapReady)
	chooseLesson(t, b, "bridges", prefix)
	waitJS(t, b, stepState("share-network")+` === 'done'`, waitTimeout)
	mustDo(t, b, "press f", chromedp.KeyEvent("f"))
	waitJS(t, b, `document.body.dataset.presenter === 'true'`, waitTimeout)
	for _, sel := range []string{".topbar", "[data-testid=sidebar]", "[data-testid=map-controls]"} {
		if mustEval[bool](t, b, fmt.Sprintf(`document.querySelector(%s).getClientRects().length > 0`, jsString(sel))) {
			t.Errorf("presenter view still shows %s", sel)
		}
	}
	caption := `document.querySelector('[data-testid=presenter-caption]')`
	waitJS(t, b, `!`+caption+`.hidden && `+caption+`.dataset.step === 'api-to-db'`, waitTimeout)
	if got := mustEval[string](t, b, caption+`.textContent`); !strings.Contains(got, "api reaches db by name") {
		t.Errorf("caption %q, want the current step's title", got)
	}
	probeAs(t, base, a, d, "name")
	say := `document.querySelector('[data-testid=presenter-say]')`
	waitJS(t, b, `!`+say+`.hidden && `+say+`.textContent.includes('can reach') && `+say+`.textContent.includes('by name')`, waitTimeout)
	waitJS(t, b, caption+`.dataset.step === 'db-to-api'`, waitTimeout)
	checkRoom(t, b, "presenter view")
	screenshot(t, b, "presenter")
	mustDo(t, b, "press f again", chromedp.KeyEvent("f"))
	waitJS(t, b, `document.body.dataset.presenter === undefined && document.querySelector('.topbar').getClientRects().length > 0`, waitTimeout)
}

// The timeline after a lesson: dragging back shows the map as it was, and
// the exported session opens read-only in another dockmap with the same
// map.
func TestBrowserTimelineAndReplay(t *testing.T) {
	c := dockertest.Client(t)
	base, output, _ := launch(t, nil, nil, "-addr", "127.0.0.1:0", "--operator-token", opToken)
	b := newBrowser(t)
	setViewport(t, b, 1280, 720)
	signInWith(t, b, printedLogin(t, output(), "operator"), base, mapReady)
	prefix := randomPrefix(t)
	first := dockertest.RunContainer(t, c, dockertest.WithName(prefix+"database"))
	waitJS(t, b, nodeExists("c:"+first), waitTimeout)
	second := dockertest.RunContainer(t, c, dockertest.WithName(prefix+"web"))
	waitJS(t, b, nodeExists("c:"+second), waitTimeout)

	mustDo(t, b, "open the timeline", chromedp.KeyEvent("h"))
	waitJS(t, b, `!document.querySelector('[data-testid=timeline]').hidden && Number(document.querySelector('[data-testid=timeline-range]').max) > 0`, waitTimeout)
	// Back to the moment web's container was created: the past map has
	// database and not yet web.
	mark := fmt.Sprintf(`[...document.querySelectorAll('[data-testid=timeline-marks] .timeline-mark')].findIndex((m) => m.title.includes(%s))`, jsString(prefix+"web"))
	waitJS(t, b, mark+` >= 0`, waitTimeout)
	mustEval[bool](t, b, `(() => { const r = document.querySelector('[data-testid=timeline-range]'); r.value = String(Math.max(0, `+mark+` - 1)); r.dispatchEvent(new Event('input', { bubbles: true })); return true; })()`)
	past := `document.querySelector('[data-testid=graph-past]')`
	waitJS(t, b, `!`+past+`.hidden && window.dockmapPast && window.dockmapPast.getElementById(`+jsString("c:"+first)+`).nonempty() && window.dockmapPast.getElementById(`+jsString("c:"+second)+`).empty()`, waitTimeout)
	screenshot(t, b, "timeline")
	mustDo(t, b, "back to now", chromedp.KeyEvent(kb.Escape))
	waitJS(t, b, past+`.hidden`, waitTimeout)

	// Export, and open it in another dockmap.
	req, _ := http.NewRequest("GET", base+"/api/timeline/export", nil)
	req.Header.Set("Authorization", "Bearer "+opToken)
	resp, err := (&http.Client{Timeout: waitTimeout}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	file := filepath.Join(t.TempDir(), "session.jsonl.gz")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	replay, _, _ := launch(t, nil, nil, "-addr", "127.0.0.1:0", "--replay", file)
	r := newBrowser(t)
	setViewport(t, r, 1280, 720)
	openMapWhen(t, r, replay, `window.cy && window.cy.nodes().length > 0`)
	waitJS(t, r, `document.querySelector('[data-testid=replay]')?.textContent.includes('read-only')`, waitTimeout)
	waitJS(t, r, nodeExists("c:"+first)+` && `+nodeExists("c:"+second), waitTimeout)
	// Nothing here can change anything.
	if n := mustEval[int](t, r, `document.querySelectorAll('.toolbar button').length`); n != 0 {
		t.Errorf("a replay offers %d action buttons", n)
	}
}

// openMapWhen opens the map at base and waits for ready.
func openMapWhen(t testing.TB, b *browser, base, ready string) {
	t.Helper()
	load(t, b, "open the map", ready, chromedp.Navigate(base+"/"))
}

// Lessons 2 and 3, done the way a participant at a terminal does them (the
// engine API, as the docker CLI would), on a page at 1280x720: each step
// ticks, and after every change the room sees every node of the lab and
// every link label.
func TestBrowserLessonsTwoAndThree(t *testing.T) {
	c := dockertest.Client(t)
	dockertest.FixtureImage(t)
	base, output, _ := launch(t, nil, nil, "-addr", "127.0.0.1:0", "--operator-token", opToken)
	b := newBrowser(t)
	setViewport(t, b, 1280, 720)
	signInWith(t, b, printedLogin(t, output(), "operator"), base, mapReady)
	ctx := engineCtx(t)

	// Lesson 2: two containers, a network, both on it, names both ways.
	p := randomPrefix(t)
	chooseLesson(t, b, "bridges", p)
	focusOn(t, b, "prefix", p)
	api := dockertest.RunContainer(t, c, dockertest.WithName(p+"api"))
	waitStepDone(t, "run-api", b)
	checkRoom(t, b, "lesson 2, after running api")
	db := dockertest.RunContainer(t, c, dockertest.WithName(p+"db"))
	waitStepDone(t, "run-db", b)
	checkRoom(t, b, "lesson 2, after running db")
	net := dockertest.CreateNetwork(t, c, p+"backend")
	for _, id := range []string{api, db} {
		if err := c.ConnectNetwork(ctx, net, id, nil); err != nil {
			t.Fatal(err)
		}
	}
	waitStepDone(t, "share-network", b)
	checkRoom(t, b, "lesson 2, after attaching both to backend")
	probeAs(t, base, api, db, "name")
	waitStepDone(t, "api-to-db", b)
	probeAs(t, base, db, api, "name")
	waitStepDone(t, "db-to-api", b)
	checkRoom(t, b, "lesson 2, after the probes")
	screenshot(t, b, "lesson-bridges")

	// Lesson 3: a volume in a writer and a reader.
	p = randomPrefix(t)
	chooseLesson(t, b, "sharing", p)
	focusOn(t, b, "prefix", p)
	vol := p + "data"
	dockertest.CreateVolume(t, c, vol)
	dockertest.RunContainer(t, c, dockertest.WithName(p+"writer"), dockertest.WithMount(docker.MountSpec{Type: "volume", Source: vol, Target: "/data"}))
	waitStepDone(t, "run-writer", b)
	checkRoom(t, b, "lesson 3, after running writer with the volume")
	dockertest.RunContainer(t, c, dockertest.WithName(p+"reader"), dockertest.WithMount(docker.MountSpec{Type: "volume", Source: vol, Target: "/data", ReadOnly: true}))
	waitStepDone(t, "share-volume", b)
	checkRoom(t, b, "lesson 3, after running reader with the volume")
	screenshot(t, b, "lesson-sharing")
}
