package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
)

// TestBrowserTutorialLinks is the tutorial's first chapter (DESIGN.md),
// driven from the page only, on the real engine: run database and web from
// the Run dialog on the default bridge; from web, database's IP answers and
// its name does not ("name not resolved"); add the link web → database as
// "database" from the panel's form, through the confirm dialog; the arrow
// appears; now the name answers from web, and still not the other way.
func TestBrowserTutorialLinks(t *testing.T) {
	c := dockertest.Client(t)
	image := dockertest.FixtureImage(t)
	base := startDockmap(t, nil)
	b := newBrowser(t)
	// Other tests on the engine make networks; Chromium then cancels the
	// loads in flight with ERR_NETWORK_CHANGED. openMap loads again.
	openMap(t, b, base)

	dbName := dockertest.UniqueName(t, "database")
	webName := dockertest.UniqueName(t, "web")
	dbID := runFromPage(t, b, c, base, image, dbName)
	webID := runFromPage(t, b, c, base, image, webName)
	db, web := "c:"+dbID, "c:"+webID

	// From web: database's IP answers, green on the page.
	clickNode(t, b, web)
	waitJS(t, b, panelShows(web), waitTimeout)
	pingFromPanel(t, b, dbID, "ip")
	waitJS(t, b, resultRow(dbID, "ip")+`?.dataset.ok === 'true'`, waitTimeout)
	waitJS(t, b, fmt.Sprintf(`window.cy.getElementById(%s).hasClass('probe-ok')`, jsString("p:"+webID+">"+dbID+":ip")), waitTimeout)

	// Its name does not: red, and the page says why.
	pingFromPanel(t, b, dbID, "name")
	waitJS(t, b, resultRow(dbID, "name")+`?.dataset.ok === 'false'`, waitTimeout)
	if got := mustEval[string](t, b, resultRow(dbID, "name")+`.dataset.failure`); got != "name-not-resolved" {
		t.Errorf("web → database by name: failure %q, want name-not-resolved; row: %s", got,
			mustEval[string](t, b, resultRow(dbID, "name")+`.textContent`))
	}
	if got := mustEval[string](t, b, resultRow(dbID, "name")+`.textContent`); !strings.Contains(got, "name not resolved") {
		t.Errorf("web → database by name row = %q, want it to say \"name not resolved\"", got)
	}
	nameEdge := fmt.Sprintf(`window.cy.getElementById(%s)`, jsString("p:"+webID+">"+dbID+":name"))
	waitJS(t, b, nameEdge+`.hasClass('probe-fail') && `+nameEdge+`.data('label').includes('name not resolved')`, waitTimeout)
	// Both at once on the map: the IP arrow green beside the red name
	// arrow, each with the time it was measured.
	ipEdge := fmt.Sprintf(`window.cy.getElementById(%s)`, jsString("p:"+webID+">"+dbID+":ip"))
	if !mustEval[bool](t, b, ipEdge+`.hasClass('probe-ok') && `+ipEdge+`.visible() && `+nameEdge+`.visible()`) {
		t.Errorf("the IP and the name verdicts are not both on the map: ip %q, name %q",
			mustEval[string](t, b, ipEdge+`.classes().join(' ')`), mustEval[string](t, b, nameEdge+`.classes().join(' ')`))
	}
	for _, e := range []string{ipEdge, nameEdge} {
		if label := mustEval[string](t, b, e+`.data('label')`); !clockPattern.MatchString(label) {
			t.Errorf("probe arrow label %q has no time", label)
		}
	}

	// Add the link from the panel's form, alias "database", and confirm.
	// Choosing the target sets the alias to its name; type ours instead.
	mustDo(t, b, "choose the link target", chromedp.SetValue(chromedp.CSS(`#panel [data-testid=link-target]`), dbID))
	clearInput(t, b, `#panel [data-testid=link-alias]`)
	mustDo(t, b, "fill the Add link form",
		chromedp.SendKeys(chromedp.CSS(`#panel [data-testid=link-alias]`), "database"),
		chromedp.Click(chromedp.CSS(`#panel [data-testid=link-add]`)),
	)
	const dialog = `document.querySelector('[data-testid=link-dialog]')`
	waitJS(t, b, dialog+`.open && ['ready', 'error'].includes(`+dialog+`.dataset.state)`, waitTimeout)
	if st := mustEval[string](t, b, dialog+`.dataset.state`); st != "ready" {
		t.Fatalf("link dialog: %s", mustEval[string](t, b, `document.querySelector('[data-testid=link-error]').textContent`))
	}
	t.Logf("link plan: %s | %s", mustEval[string](t, b, `document.querySelector('[data-testid=link-method]').textContent`),
		mustEval[string](t, b, `document.querySelector('[data-testid=link-summary]').textContent`))
	if m := mustEval[string](t, b, `document.querySelector('[data-testid=link-method]').dataset.method`); m != "recreate" {
		t.Errorf("link plan method on the default bridge = %q, want recreate", m)
	}
	mustDo(t, b, "confirm the link", chromedp.Click(chromedp.CSS(`[data-testid=link-confirm]`)))
	// A re-create stops web (up to 10 s for a shell that ignores SIGTERM).
	waitJS(t, b, `['done', 'failed'].includes(`+dialog+`.dataset.state)`, 3*waitTimeout)
	if st := mustEval[string](t, b, dialog+`.dataset.state`); st != "done" {
		t.Fatalf("add link failed: %s", mustEval[string](t, b, `document.querySelector('[data-testid=link-error]').textContent`))
	}
	t.Logf("link steps: %s", mustEval[string](t, b,
		`[...document.querySelectorAll('[data-testid=link-step]')].map((e) => e.textContent).join(' | ')`))
	// Every step of the plan the dialog showed was ticked by its job.
	checkStepsDone(t, b, "link-step")
	mustDo(t, b, "close the link dialog", chromedp.Click(chromedp.CSS(`[data-testid=link-cancel]`)))
	waitJS(t, b, `!`+dialog+`.open`, waitTimeout)

	// web was re-created: a new ID under the same name, with the arrow.
	newWebID := recreatedID(t, c, base, webName, webID)
	web = "c:" + newWebID
	waitJS(t, b, fmt.Sprintf(`window.cy.edges('.link').some((e) => e.source().id() === %s && e.target().id() === %s && e.data('label') === 'database')`,
		jsString(web), jsString(db)), waitTimeout)

	// Now the name answers from web...
	clickNode(t, b, web)
	waitJS(t, b, panelShows(web), waitTimeout)
	pingFromPanel(t, b, dbID, "name")
	waitJS(t, b, resultRow(dbID, "name")+`?.dataset.ok === 'true'`, waitTimeout)
	waitJS(t, b, fmt.Sprintf(`window.cy.getElementById(%s).hasClass('probe-ok')`, jsString("p:"+newWebID+">"+dbID+":name")), waitTimeout)

	// ...and still not from database to web: a link is one-way.
	clickNode(t, b, db)
	waitJS(t, b, panelShows(db), waitTimeout)
	pingFromPanel(t, b, newWebID, "name")
	waitJS(t, b, resultRow(newWebID, "name")+`?.dataset.ok === 'false'`, waitTimeout)
	if got := mustEval[string](t, b, resultRow(newWebID, "name")+`.dataset.failure`); got != "name-not-resolved" {
		t.Errorf("database → web by name: failure %q, want name-not-resolved", got)
	}

	// The matrix holds the same story, by IP | by name.
	mustDo(t, b, "open the matrix", chromedp.Click(chromedp.CSS(`[data-testid=matrix-toggle]`)))
	waitJS(t, b, `!document.querySelector('[data-testid=matrix]').hidden`, waitTimeout)
	for _, tc := range []struct{ from, to, by, want string }{
		{newWebID, dbID, "name", "ok"},
		{dbID, newWebID, "name", "fail"},
	} {
		waitJS(t, b, fmt.Sprintf(`document.querySelector('[data-testid=matrix-cell][data-from=%q][data-to=%q][data-by=%q]')?.dataset.state === %q`,
			tc.from, tc.to, tc.by, tc.want), waitTimeout)
	}
}

// checkStepsDone fails the test unless the dialog's plan lists steps (rows
// data-testid=testid) and the job's step frames ticked every one of them
// done (or skipped).
func checkStepsDone(t testing.TB, b *browser, testid string) {
	t.Helper()
	states := mustEval[[]string](t, b, fmt.Sprintf(`[...document.querySelectorAll('[data-testid=%s]')].map((e) => e.dataset.step + '=' + e.dataset.state)`, testid))
	if len(states) == 0 {
		t.Errorf("the dialog lists no %s", testid)
	}
	for _, s := range states {
		if !strings.HasSuffix(s, "=done") && !strings.HasSuffix(s, "=skipped") {
			t.Errorf("%s %s, want every step done; all: %v", testid, s, states)
		}
	}
}

// pollJS reports whether expr becomes truthy within timeout.
func pollJS(b *browser, expr string, timeout time.Duration) bool {
	check := fmt.Sprintf(`(() => { try { return !!(%s); } catch (e) { return false; } })()`, expr)
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ok, err := evalAs[bool](b, check); err == nil && ok {
			return true
		}
	}
	return false
}

// runFromPage runs a container of image named name from the Run dialog,
// on the default bridge, and returns its ID once the graph has it. It is
// removed when the test ends.
func runFromPage(t testing.TB, b *browser, c *docker.Client, baseURL, image, name string) string {
	t.Helper()
	const dlg = `document.querySelector('[data-testid=run-dialog]')`
	mustDo(t, b, "open the Run dialog", chromedp.Click(chromedp.CSS(`[data-testid=run-open]`)))
	waitJS(t, b, dlg+`.open`, waitTimeout)
	waitJS(t, b, fmt.Sprintf(`[...document.querySelectorAll('[data-testid=run-image] option')].some((o) => o.value === %s)`, jsString(image)), waitTimeout)
	if got := mustEval[string](t, b, `document.querySelector('[data-testid=run-network]').selectedOptions[0].textContent`); got != "bridge (default)" {
		t.Errorf("run-network default = %q, want \"bridge (default)\"", got)
	}
	clearInput(t, b, `[data-testid=run-name]`)
	mustDo(t, b, "fill the Run dialog",
		chromedp.SetValue(chromedp.CSS(`[data-testid=run-image]`), image),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=run-name]`), name),
		chromedp.Click(chromedp.CSS(`[data-testid=run-submit]`)),
	)
	id := waitRun(t, b, c, baseURL, name)
	waitJS(t, b, nodeExists("c:"+id), waitTimeout)
	return id
}

// waitRun waits until the container name the Run dialog was sent for is
// on the map (or says what the dialog's error is), tracks it for removal,
// waits for the dialog to close, and returns its ID.
func waitRun(t testing.TB, b *browser, c *docker.Client, baseURL, name string) string {
	t.Helper()
	var id string
	dockertest.WaitFor(t, waitTimeout, func() (bool, string) {
		var ok bool
		id, ok = graphContainerID(t, baseURL, name)
		if ok {
			return true, ""
		}
		msg, _ := evalAs[string](b, `document.querySelector('[data-testid=run-error]').textContent`)
		return false, fmt.Sprintf("%s not in /api/graph; run-error %q", name, msg)
	})
	dockertest.TrackContainer(t, c, id)
	waitJS(t, b, `!document.querySelector('[data-testid=run-dialog]').open`, waitTimeout)
	return id
}

// recreatedID waits until the container named name on the map has another
// ID than old (a re-create made it anew), tracks it for removal, and
// returns it.
func recreatedID(t testing.TB, c *docker.Client, baseURL, name, old string) string {
	t.Helper()
	var id string
	dockertest.WaitFor(t, waitTimeout, func() (bool, string) {
		got, ok := graphContainerID(t, baseURL, name)
		id = got
		return ok && got != old, fmt.Sprintf("%s is %q (was %s)", name, got, old)
	})
	dockertest.TrackContainer(t, c, id)
	return id
}

// graphContainerID finds the container named name in GET /api/graph.
func graphContainerID(t testing.TB, baseURL, name string) (string, bool) {
	t.Helper()
	req, err := http.NewRequest("GET", baseURL+"/api/graph", nil)
	if err != nil {
		t.Fatal(err)
	}
	// For a dockmap with access control on (the operator's token); one
	// without ignores it.
	req.Header.Set("Authorization", "Bearer "+opToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /api/graph: %v", err)
	}
	defer resp.Body.Close()
	var g struct {
		Nodes []struct {
			Kind      string `json:"kind"`
			Container *struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"container"`
		} `json:"nodes"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&g); err != nil {
		t.Fatalf("decode /api/graph: %v", err)
	}
	for _, n := range g.Nodes {
		if n.Container != nil && n.Container.Name == name {
			return n.Container.ID, true
		}
	}
	return "", false
}

// resultRow is a JS expression: the panel's latest ping result to the
// container with full ID to, by by ("ip" or "name"), or undefined.
func resultRow(to, by string) string {
	return fmt.Sprintf(`document.querySelector('#panel [data-testid=ping-result][data-to=%q][data-by=%q]')`, to, by)
}

// pingFromPanel pings the container with full ID to from the container in
// the panel, by "ip" or "name", with the panel's controls, and waits for a
// new result. A click that lands while the panel is being refreshed is
// lost, so it clicks again if no result comes.
func pingFromPanel(t testing.TB, b *browser, to, by string) {
	t.Helper()
	before := mustEval[string](t, b, `(`+resultRow(to, by)+`?.dataset.at || '')`)
	fresh := fmt.Sprintf(`(() => { const r = %s; return !!r && (%s === '' || r.dataset.at !== %[2]s); })()`, resultRow(to, by), jsString(before))
	for attempt := 1; ; attempt++ {
		// The panel may be swapped (the container changed) between finding a
		// control and clicking it: that is a lost click, not a failure.
		ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
		err := chromedp.Do(ctx,
			chromedp.SetValue(chromedp.CSS(`#panel [data-testid=ping-target]`), to),
			chromedp.Click(chromedp.CSS(fmt.Sprintf(`#panel [data-testid=ping-by-%s] + span`, by))),
			chromedp.Click(chromedp.CSS(`#panel [data-testid=ping-now]`)),
		)
		cancel()
		if err == nil && pollJS(b, fresh, waitTimeout) {
			return
		}
		if attempt == 3 {
			t.Fatalf("no new %s result to %s after 3 clicks (last error %v); ping-error %q", by, to, err,
				mustEval[string](t, b, `document.querySelector('#panel [data-testid=ping-error]')?.textContent || ''`))
		}
	}
}

// clearInput empties the input matched by the CSS selector sel
// (chromedp.Clear only resets the value attribute, not what was typed).
func clearInput(t testing.TB, b *browser, sel string) {
	t.Helper()
	mustEval[bool](t, b, fmt.Sprintf(`(() => { const e = document.querySelector(%s); e.value = ''; return true; })()`, jsString(sel)))
}
