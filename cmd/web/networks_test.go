package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
)

// TestBrowserNetworks is the tutorial's second chapter (issue 4), driven
// from the page on the real engine: create a user-defined bridge from the
// header's "Network…" dialog; run web on it from the Run dialog and
// database on the default bridge; attach database from the network panel;
// "Ping members" shows both names answering both ways; detach database
// from its own panel: now web → database by name is red and the page says
// why ("no network in common"); attach it again from its panel with the
// alias db: the member edge carries db and the name answers again. The
// feed says who joined and left.
func TestBrowserNetworks(t *testing.T) {
	c := dockertest.Client(t)
	image := dockertest.FixtureImage(t)
	base := startDockmap(t, nil)
	b := newBrowser(t)
	openMap(t, b, base)

	// Create the network from the page.
	netName := dockertest.UniqueName(t, "appnet")
	const netDlg = `document.querySelector('[data-testid=network-dialog]')`
	mustDo(t, b, "open the Network dialog", chromedp.Click(chromedp.CSS(`[data-testid=network-open]`)))
	waitJS(t, b, netDlg+`.open`, waitTimeout)
	mustDo(t, b, "fill the Network dialog",
		chromedp.SendKeys(chromedp.CSS(`[data-testid=network-name-input]`), netName),
		chromedp.Click(chromedp.CSS(`[data-testid=network-create]`)),
	)
	var netID string
	dockertest.WaitFor(t, waitTimeout, func() (bool, string) {
		var ok bool
		netID, ok = graphNetworkID(t, base, netName)
		msg, _ := evalAs[string](b, `document.querySelector('[data-testid=network-dialog-error]').textContent`)
		return ok, fmt.Sprintf("%s not in /api/graph; dialog error %q", netName, msg)
	})
	dockertest.TrackNetwork(t, c, netID)
	waitJS(t, b, `!`+netDlg+`.open`, waitTimeout)
	netNode := "n:" + netID
	// The new network opens in the panel.
	waitJS(t, b, networkPanelShows(netNode), waitTimeout)
	if got := mustEval[string](t, b, `document.querySelector('#panel [data-testid=network-icc]').dataset.value`); got != "yes" {
		t.Errorf("new network's ICC = %q, want yes (the dialog's default)", got)
	}
	screenshot(t, b, "network-created")

	// web on the new network, database on the default bridge.
	webName := dockertest.UniqueName(t, "web")
	dbName := dockertest.UniqueName(t, "database")
	// database first: the Run dialog keeps the last network chosen.
	dbID := runFromPage(t, b, c, base, image, dbName)
	webID := runOnNetworkFromPage(t, b, c, base, image, webName, netName)
	web, db := "c:"+webID, "c:"+dbID
	dbEdge := fmt.Sprintf(`window.cy.getElementById(%s)`, jsString("m:"+dbID+"@"+netID))

	// Attach database from the network panel.
	clickNode(t, b, netNode)
	waitJS(t, b, networkPanelShows(netNode), waitTimeout)
	waitJS(t, b, fmt.Sprintf(`[...document.querySelectorAll('#panel [data-testid=attach-container] option')].some((o) => o.value === %s)`, jsString(dbID)), waitTimeout)
	mustDo(t, b, "attach database from the network panel",
		chromedp.SetValue(chromedp.CSS(`#panel [data-testid=attach-container]`), dbID),
		chromedp.Click(chromedp.CSS(`#panel [data-testid=attach-submit]`)),
	)
	waitJS(t, b, dbEdge+`.length === 1`, waitTimeout)
	// The panel follows: two members, and the feed says it in words.
	waitJS(t, b, `document.querySelector('#panel [data-testid=network-panel]')?.dataset.members === '2'`, waitTimeout)
	waitJS(t, b, fmt.Sprintf(`[...document.querySelectorAll('[data-testid=event-sentence]')].some((e) => e.textContent === %s)`,
		jsString(dbName+" joined "+netName)), waitTimeout)

	// Ping members: both names answer, both ways.
	mustDo(t, b, "ping the members", chromedp.Click(chromedp.CSS(`#panel [data-testid=ping-members]`)))
	waitJS(t, b, `!document.querySelector('[data-testid=matrix]').hidden`, waitTimeout)
	for _, p := range [][2]string{{webID, dbID}, {dbID, webID}} {
		waitJS(t, b, fmt.Sprintf(`document.querySelector('[data-testid=matrix-cell][data-from=%q][data-to=%q][data-by=name]')?.dataset.state === 'ok'`,
			p[0], p[1]), 2*waitTimeout)
	}
	screenshot(t, b, "members-pinged")

	// Detach database from its own panel (it keeps the default bridge).
	clickNode(t, b, db)
	waitJS(t, b, panelShows(db), waitTimeout)
	mustDo(t, b, "detach database",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#panel [data-testid=network][data-network=%q] [data-testid=network-detach]`, netNode))))
	const confirm = `document.querySelector('[data-testid=confirm-dialog]')`
	waitJS(t, b, confirm+`.open`, waitTimeout)
	mustDo(t, b, "confirm the detach", chromedp.Click(chromedp.CSS(`[data-testid=confirm-ok]`)))
	waitJS(t, b, `!`+confirm+`.open`, waitTimeout)
	waitJS(t, b, dbEdge+`.length === 0`, waitTimeout)
	waitJS(t, b, fmt.Sprintf(`[...document.querySelectorAll('[data-testid=event-sentence]')].some((e) => e.textContent === %s)`,
		jsString(dbName+" left "+netName)), waitTimeout)

	// web → database by name: predicted and measured red, with the reason.
	clickNode(t, b, web)
	waitJS(t, b, panelShows(web), waitTimeout)
	mustDo(t, b, "aim the ping form at database", chromedp.SetValue(chromedp.CSS(`#panel [data-testid=ping-target]`), dbID))
	mustEval[bool](t, b, `(() => { const s = document.querySelector('#panel [data-testid=ping-target]'); s.dispatchEvent(new Event('change', { bubbles: true })); return true; })()`)
	waitJS(t, b, `document.querySelector('#panel [data-testid=reach-prediction][data-by=name]')?.dataset.ok === 'false'`, waitTimeout)
	t.Logf("prediction: %s", mustEval[string](t, b, `document.querySelector('#panel [data-testid=reach-prediction][data-by=name]').textContent`))
	pingFromPanel(t, b, dbID, "name")
	waitJS(t, b, resultRow(dbID, "name")+`?.dataset.ok === 'false'`, waitTimeout)
	reasons := resultRow(dbID, "name") + `.querySelector('[data-testid=reach-reasons]')`
	waitJS(t, b, reasons+` !== null`, waitTimeout)
	why := mustEval[string](t, b, `[...`+resultRow(dbID, "name")+`.querySelectorAll('[data-testid=reach-reason]')].map((r) => r.dataset.code + ': ' + r.textContent).join(' | ')`)
	t.Logf("why: %s", why)
	if l := strings.ToLower(why); !strings.Contains(l, "no-common-network") || !strings.Contains(l, "no network in common") {
		t.Errorf("web → database by name reasons = %q, want \"no network in common\"", why)
	}
	if n := mustEval[int](t, b, resultRow(dbID, "name")+`.querySelectorAll('[data-testid=reach-fix]').length`); n == 0 {
		t.Errorf("no reach-fix beside the red probe")
	}
	if got := mustEval[string](t, b, resultRow(dbID, "name")+`.dataset.mismatch`); got != "false" {
		t.Errorf("mismatch = %s, want false: the prediction and the probe agree", got)
	}
	screenshot(t, b, "why-not")

	// Attach database again from its panel, with the alias db.
	clickNode(t, b, db)
	waitJS(t, b, panelShows(db), waitTimeout)
	waitJS(t, b, fmt.Sprintf(`[...document.querySelectorAll('#panel [data-testid=attach-network] option')].some((o) => o.value === %s)`, jsString(netID)), waitTimeout)
	mustDo(t, b, "attach database with alias db",
		chromedp.SetValue(chromedp.CSS(`#panel [data-testid=attach-network]`), netID),
		chromedp.SendKeys(chromedp.CSS(`#panel [data-testid=attach-aliases]`), "db"),
		chromedp.Click(chromedp.CSS(`#panel [data-testid=attach-submit]`)),
	)
	waitJS(t, b, dbEdge+`.length === 1 && (`+dbEdge+`.data('member').aliases || []).includes('db')`, waitTimeout)

	// From web, database answers by name again.
	clickNode(t, b, web)
	waitJS(t, b, panelShows(web), waitTimeout)
	pingFromPanel(t, b, dbID, "name")
	waitJS(t, b, resultRow(dbID, "name")+`?.dataset.ok === 'true'`, waitTimeout)
	screenshot(t, b, "reattached")

	// The alias itself resolves from web: probe the name "db".
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	defer cancel()
	res, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](fmt.Sprintf(`fetch('/api/probes', {method: 'POST',
		headers: {'Content-Type': 'application/json'},
		body: JSON.stringify({from: %s, to: %s, name: 'db'})}).then((r) => r.json())`, jsString(webID), jsString(dbID)), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("probe the alias: %v", err)
	}
	rs, _ := res["results"].([]any)
	if len(rs) != 1 || rs[0].(map[string]any)["ok"] != true {
		t.Errorf("web → db (alias) = %v, want one ok result", res)
	}
}

// networkPanelShows is a JS expression: the side panel shows this network.
func networkPanelShows(nodeID string) string {
	return fmt.Sprintf(`document.querySelector('#panel [data-testid=network-panel]')?.dataset.id === %s`, jsString(nodeID))
}

// runOnNetworkFromPage is runFromPage with the Run dialog's network set to
// network.
func runOnNetworkFromPage(t testing.TB, b *browser, c *docker.Client, baseURL, image, name, network string) string {
	t.Helper()
	const dlg = `document.querySelector('[data-testid=run-dialog]')`
	mustDo(t, b, "open the Run dialog", chromedp.Click(chromedp.CSS(`[data-testid=run-open]`)))
	waitJS(t, b, dlg+`.open`, waitTimeout)
	waitJS(t, b, fmt.Sprintf(`[...document.querySelectorAll('[data-testid=run-image] option')].some((o) => o.value === %s)`, jsString(image)), waitTimeout)
	waitJS(t, b, fmt.Sprintf(`[...document.querySelectorAll('[data-testid=run-network] option')].some((o) => o.value === %s)`, jsString(network)), waitTimeout)
	clearInput(t, b, `[data-testid=run-name]`)
	mustDo(t, b, "fill the Run dialog",
		chromedp.SetValue(chromedp.CSS(`[data-testid=run-image]`), image),
		chromedp.SetValue(chromedp.CSS(`[data-testid=run-network]`), network),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=run-name]`), name),
		chromedp.Click(chromedp.CSS(`[data-testid=run-submit]`)),
	)
	var id string
	dockertest.WaitFor(t, waitTimeout, func() (bool, string) {
		var ok bool
		id, ok = graphContainerID(t, baseURL, name)
		msg, _ := evalAs[string](b, `document.querySelector('[data-testid=run-error]').textContent`)
		return ok, fmt.Sprintf("%s not in /api/graph; run-error %q", name, msg)
	})
	dockertest.TrackContainer(t, c, id)
	waitJS(t, b, `!`+dlg+`.open`, waitTimeout)
	waitJS(t, b, nodeExists("c:"+id), waitTimeout)
	return id
}

// graphNetworkID finds the network named name in GET /api/graph.
func graphNetworkID(t testing.TB, baseURL, name string) (string, bool) {
	t.Helper()
	resp, err := http.Get(baseURL + "/api/graph")
	if err != nil {
		t.Fatalf("GET /api/graph: %v", err)
	}
	defer resp.Body.Close()
	var g struct {
		Nodes []struct {
			Network *struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"network"`
		} `json:"nodes"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&g); err != nil {
		t.Fatalf("decode /api/graph: %v", err)
	}
	for _, n := range g.Nodes {
		if n.Network != nil && n.Network.Name == name {
			return n.Network.ID, true
		}
	}
	return "", false
}

// screenshot saves the page as DOCKMAP_SCREENSHOTS/<name>.png when that
// variable names a directory, for a person to look at.
func screenshot(t testing.TB, b *browser, name string) {
	t.Helper()
	dir := os.Getenv("DOCKMAP_SCREENSHOTS")
	if dir == "" {
		return
	}
	// The picture as the room is left with it: no change still flashing,
	// nothing still moving.
	pollJS(b, `!window.cy || (window.cy.elements('.flash').empty() && !window.cy.animated() && window.cy.nodes().every((n) => !n.animated()))`, waitTimeout)
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Logf("screenshot %s: %v", name, err)
	}
}
