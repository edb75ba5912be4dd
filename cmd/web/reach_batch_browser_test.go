package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/dockmap/dockmap/internal/dockertest"
)

// reachRequests is how many prediction requests dockmap has served, one
// pair (GET /api/reach) or many (GET /api/reach/matrix), whatever their
// status, by its own metrics.
func reachRequests(t *testing.T, base string) int {
	t.Helper()
	st, text := scrape(t, base, "")
	if st != http.StatusOK {
		t.Fatalf("GET /metrics: HTTP %d", st)
	}
	n := 0.0
	for _, s := range parsedSeries(t, text) {
		if strings.HasPrefix(s.name, "dockmap_http_requests_total{") &&
			(strings.Contains(s.name, `route="/api/reach"`) || strings.Contains(s.name, `route="/api/reach/matrix"`)) {
			n += s.value
		}
	}
	return int(n)
}

// Issue 14: the matrix of 8 containers shows the prediction beside each
// measure, and the page asks for them in one request per refresh, not one
// per pair (56 here). Other tests change the shared engine meanwhile, and
// every change the page sees may ask once: the bound allows one request
// per change, far below one per pair.
func TestBrowserMatrixPredictionsBatched(t *testing.T) {
	c := dockertest.Client(t)
	net := dockertest.UniqueName(t, "batch")
	dockertest.CreateNetwork(t, c, net)
	const n = 8
	ids := make([]string, n)
	for i := range ids {
		ids[i] = dockertest.RunContainer(t, c, dockertest.WithNetwork(net))
	}
	pairs := n * (n - 1)

	base := startDockmap(t, nil)
	waitUntil(t, "the containers on the map", func() (bool, string) {
		var g struct{ Nodes []struct{ ID string } }
		apiAs(t, base, "GET", "/api/graph", nil, &g)
		have := map[string]bool{}
		for _, node := range g.Nodes {
			have[node.ID] = true
		}
		for _, id := range ids {
			if !have["c:"+id] {
				return false, id[:12] + " missing"
			}
		}
		return true, ""
	})
	// Every pair measured by IP: the matrix's members.
	if st := apiAs(t, base, "POST", "/api/probes", map[string]any{"matrix": ids, "by": "ip"}, &struct{}{}); st != http.StatusOK {
		t.Fatalf("probe the matrix: HTTP %d", st)
	}

	b := newBrowser(t)
	openMap(t, b, base)
	// This test's pairs only: other tests' containers come and go on the
	// shared engine, and the matrix shows them too.
	ours, _ := json.Marshal(append(slices.Clone(ids), prefixed(ids)...))
	cells := fmt.Sprintf(`[...document.querySelectorAll('[data-testid=matrix-cell][data-by=ip]')].filter((c) => { const s = new Set(%s); return s.has(c.dataset.from) && s.has(c.dataset.to); })`, ours)
	predicted := fmt.Sprintf(`%s.length === %d && %s.every((c) => c.dataset.state === 'ok' && c.dataset.predicted === 'true')`, cells, pairs, cells)
	before := reachRequests(t, base)
	seq0 := mustEval[float64](t, b, `window.dockmap.lastSeq`)
	mustEval[bool](t, b, `(document.getElementById('matrix-toggle').click(), true)`)
	if !pollJS(b, predicted, waitTimeout) {
		t.Fatalf("the matrix's cells: %s", mustEval[string](t, b, `JSON.stringify(`+cells+`.map((c) => [c.dataset.from.slice(0, 6), c.dataset.to.slice(0, 6), c.dataset.state, c.dataset.failure, c.title]).concat([document.querySelectorAll('[data-testid=matrix-cell]').length]))`))
	}
	// The metrics count a request once it is answered, which may be just
	// after the page has it.
	asked := 0
	waitUntil(t, "the metrics to count the page's requests", func() (bool, string) {
		asked = reachRequests(t, base) - before
		return asked >= 1, fmt.Sprintf("%d requests", asked)
	})
	changes := int(mustEval[float64](t, b, `window.dockmap.lastSeq`) - seq0)
	t.Logf("%d pairs shown with their predictions: %d prediction requests (%d graph changes meanwhile)", pairs, asked, changes)
	if asked < 1 || asked > 1+changes || asked > pairs/4 {
		t.Errorf("%d prediction requests for %d pairs and %d graph changes, want 1 (and at most one more per change)", asked, pairs, changes)
	}
	// What a change asks again: TestBrowserReachScopedToChange.
}

// prefixed is ids as node IDs ("c:<id>").
func prefixed(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = "c:" + id
	}
	return out
}
