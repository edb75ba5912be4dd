package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/dockmap/dockmap/internal/dockertest"
)

// spyReach records, in the page, every prediction request it sends, every
// re-read of the probe results, and the affects of every delta it gets,
// before the page's own scripts run; it fails the next failNext
// prediction requests.
const spyReach = `window.__spy = { reach: [], latest: [], deltas: [], failNext: 0 };
(() => {
  const F = window.fetch;
  window.fetch = function (u, ...rest) {
    const s = String(u);
    if (s.includes('/api/reach')) window.__spy.reach.push(s);
    // A container removed on the server before the page heard of it
    // makes the answer 404: a race, made here at will.
    if (s.includes('/api/reach/matrix') && window.__spy.failNext > 0) {
      window.__spy.failNext--;
      return Promise.resolve(new Response('{"error": "not found"}', { status: 404, headers: { 'Content-Type': 'application/json' } }));
    }
    if (s.includes('/api/probes/latest')) window.__spy.latest.push(s);
    return F.call(this, u, ...rest);
  };
  const WS = window.WebSocket;
  window.WebSocket = class extends WS {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => {
        try {
          const m = JSON.parse(e.data);
          if (m.type === 'delta') window.__spy.deltas.push({ seq: m.seq, affects: m.affects === undefined ? null : m.affects });
        } catch {}
      });
    }
  };
})();`

// spied is what the page asked and heard since a mark.
type spied struct {
	Reach  []string
	Latest []string
	Deltas []struct {
		Seq     float64
		Affects []string // nil: the delta named none (every pair)
	}
}

func spyMark(t *testing.T, b *browser) [3]int {
	t.Helper()
	n := mustEval[[]float64](t, b, `[window.__spy.reach.length, window.__spy.latest.length, window.__spy.deltas.length]`)
	return [3]int{int(n[0]), int(n[1]), int(n[2])}
}

func spySince(t *testing.T, b *browser, mark [3]int) spied {
	t.Helper()
	js := mustEval[string](t, b, fmt.Sprintf(`JSON.stringify({reach: window.__spy.reach.slice(%d), latest: window.__spy.latest.slice(%d), deltas: window.__spy.deltas.slice(%d)})`, mark[0], mark[1], mark[2]))
	var s spied
	if err := json.Unmarshal([]byte(js), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// askedPairs are the ordered pairs "from>to" one GET /api/reach/matrix (or
// /api/reach) asks for, as the server answers it.
func askedPairs(t *testing.T, raw string) []string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if !strings.HasSuffix(u.Path, "/matrix") {
		return []string{q.Get("from") + ">" + q.Get("to")}
	}
	list := func(k string) []string {
		if !q.Has(k) {
			return nil
		}
		return strings.Split(q.Get(k), ",")
	}
	ids, froms, touch := list("ids"), list("from"), list("touch")
	if froms == nil {
		froms = ids
	}
	var out []string
	for _, f := range froms {
		for _, to := range ids {
			if f != to && (touch == nil || slices.Contains(touch, f) || slices.Contains(touch, to)) {
				out = append(out, f+">"+to)
			}
		}
	}
	return out
}

// ours are the pairs of asked with both ends in ids.
func ours(t *testing.T, s spied, ids []string) []string {
	var out []string
	for _, r := range s.Reach {
		for _, p := range askedPairs(t, r) {
			f, to, _ := strings.Cut(p, ">")
			if slices.Contains(ids, f) && slices.Contains(ids, to) {
				out = append(out, p)
			}
		}
	}
	return out
}

// Issue 14: a change asks again only the predictions and probe results of
// the pairs it can affect. A matrix of six containers on two networks is
// shown with its predictions; a container created and started on a third
// network asks none of its pairs again, nor the probe results; docker
// network connect of one of them asks again only the pairs it is in, in
// one request, its cells show the new prediction, and its results (only
// its) turn stale. When the request for a change's pairs fails, the next
// change, wherever it is, asks them again.
func TestBrowserReachScopedToChange(t *testing.T) {
	c := dockertest.Client(t)
	netA, netB, netC := dockertest.UniqueName(t, "sa"), dockertest.UniqueName(t, "sb"), dockertest.UniqueName(t, "sc")
	dockertest.CreateNetwork(t, c, netA)
	netBID := dockertest.CreateNetwork(t, c, netB)
	dockertest.CreateNetwork(t, c, netC)
	var as, bs []string
	for range 3 {
		as = append(as, dockertest.RunContainer(t, c, dockertest.WithNetwork(netA)))
		bs = append(bs, dockertest.RunContainer(t, c, dockertest.WithNetwork(netB)))
	}
	ids := slices.Concat(as, bs)
	n := len(ids)

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
	// Every pair measured by IP, so the matrix shows them all: across the
	// two networks it fails, as predicted.
	if st := apiAs(t, base, "POST", "/api/probes", map[string]any{"matrix": ids, "by": "ip"}, &struct{}{}); st != http.StatusOK {
		t.Fatalf("probe the matrix: HTTP %d", st)
	}

	b := newBrowser(t)
	cctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	if _, err := chromedp.Call(cctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: spyReach}); err != nil {
		t.Fatalf("inject the spy: %v", err)
	}
	cancel()
	openMap(t, b, base)
	mustEval[bool](t, b, `(document.getElementById('matrix-toggle').click(), true)`)
	cell := func(from, to string) string {
		return fmt.Sprintf(`document.querySelector('[data-testid=matrix-cell][data-by=ip][data-from=%s][data-to=%s]')`, jsString(from), jsString(to))
	}
	var all []string
	for _, f := range ids {
		for _, to := range ids {
			if f != to {
				all = append(all, fmt.Sprintf(`%s?.dataset.predicted`, cell(f, to)))
			}
		}
	}
	waitJS(t, b, strings.Join(all, " && "), waitTimeout)
	// Predicted across the networks: unreachable.
	waitJS(t, b, cell(as[0], bs[0])+`.dataset.predicted === 'false'`, waitTimeout)
	waitJS(t, b, `window.dockmap.predictedSeq >= window.dockmap.lastSeq`, waitTimeout)

	// A container elsewhere comes and starts. The page has caught up with
	// the map once its predictions are as new as the map: a page that asks
	// every pair again has asked by then. Another test's change that names
	// no containers (every pair) would ask again rightly: then the round
	// is tried again with another newcomer.
	for try := 1; ; try++ {
		mark := spyMark(t, b)
		newcomer := dockertest.RunContainer(t, c, dockertest.WithNetwork(netC))
		waitJS(t, b, fmt.Sprintf(`window.cy.getElementById(%s).nonempty()`, jsString("c:"+newcomer)), waitTimeout)
		waitJS(t, b, `window.dockmap.predictedSeq >= window.dockmap.lastSeq`, waitTimeout)
		s := spySince(t, b, mark)
		everyPair := slices.ContainsFunc(s.Deltas, func(d struct {
			Seq     float64
			Affects []string
		}) bool {
			return d.Affects == nil
		})
		again := ours(t, s, ids)
		t.Logf("a container on a third network: %d deltas, %d prediction requests, %d of the matrix's %d pairs asked again, %d re-reads of the results",
			len(s.Deltas), len(s.Reach), len(again), n*(n-1), len(s.Latest))
		if len(again) == 0 && len(s.Latest) == 0 {
			break
		}
		if !everyPair || try == 3 {
			t.Fatalf("a container on a third network asked again %d of the matrix's pairs (%v...) and read the probe results %d times; deltas: %+v",
				len(again), again[:min(4, len(again))], len(s.Latest), s.Deltas)
		}
	}

	// docker network connect: as[0] joins netB. Its pairs change, the
	// others' do not.
	mark := spyMark(t, b)
	seq0 := mustEval[float64](t, b, `window.dockmap.lastSeq`)
	ctx, cancelCall := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancelCall()
	if err := c.ConnectNetwork(ctx, netBID, as[0], nil); err != nil {
		t.Fatal(err)
	}
	// The engine's event reaches dockmap late on a busy machine: the map
	// first, then the page.
	dockertest.WaitFor(t, time.Minute, func() (bool, string) {
		var g struct {
			Edges []struct {
				ID     string
				Member *struct{ IP string }
			}
		}
		apiAs(t, base, "GET", "/api/graph", nil, &g)
		for _, e := range g.Edges {
			if e.ID == "m:"+as[0]+"@"+netBID && e.Member != nil && e.Member.IP != "" {
				return true, ""
			}
		}
		return false, "no endpoint of " + as[0][:12] + " on " + netB + " with an address on the map"
	})
	joined := cell(as[0], bs[0]) + `.dataset.predicted === 'true' && ` + cell(bs[1], as[0]) + `.dataset.predicted === 'true'`
	if !pollJS(b, joined, waitTimeout) {
		s := spySince(t, b, mark)
		t.Fatalf("after %s joined %s, its cells do not predict it reaches %s: %s → %s predicted %q, %s → %s %q\ndeltas %+v\nrequests %v",
			as[0][:12], netB, netB, as[0][:12], bs[0][:12], mustEval[string](t, b, cell(as[0], bs[0])+`.dataset.predicted`),
			bs[1][:12], as[0][:12], mustEval[string](t, b, cell(bs[1], as[0])+`.dataset.predicted`), s.Deltas, s.Reach)
	}
	waitJS(t, b, `window.dockmap.predictedSeq >= window.dockmap.lastSeq`, waitTimeout)
	s := spySince(t, b, mark)
	again := ours(t, s, ids)
	changes := int(mustEval[float64](t, b, `window.dockmap.lastSeq`) - seq0)
	t.Logf("docker network connect: %d deltas (%d graph changes), %d prediction requests, %d of the matrix's pairs asked again", len(s.Deltas), changes, len(s.Reach), len(again))
	var unaffected []string
	for _, p := range again {
		if !strings.Contains(p, as[0]) {
			unaffected = append(unaffected, p)
		}
	}
	everyPair := false
	for _, d := range s.Deltas {
		everyPair = everyPair || d.Affects == nil
	}
	if len(unaffected) > 0 && !everyPair {
		t.Errorf("docker network connect of one container asked again %d pairs it is not in (%v...)", len(unaffected), unaffected[:min(4, len(unaffected))])
	}
	if len(again) < 2*(n-1) {
		t.Errorf("docker network connect asked again %d of the matrix's pairs, want at least its %d", len(again), 2*(n-1))
	}
	if len(s.Reach) > max(1, changes) {
		t.Errorf("%d prediction requests for %d graph changes, want at most one per change", len(s.Reach), changes)
	}
	// Its results turn stale (the server says so, asked again), the
	// others' stay current.
	staleEdge := func(from, to string) string {
		return fmt.Sprintf(`window.cy.getElementById(%s).hasClass('probe-stale')`, jsString("p:"+from+">"+to+":ip"))
	}
	waitJS(t, b, staleEdge(as[0], bs[0]), waitTimeout)
	if mustEval[bool](t, b, staleEdge(as[1], bs[0])) {
		t.Errorf("%s → %s's result turned stale when %s joined %s", as[1][:12], bs[0][:12], as[0][:12], netB)
	}
	// The others stay as they were: across the networks, unreachable.
	if got := mustEval[string](t, b, cell(as[1], bs[0])+`.dataset.predicted`); got != "false" {
		t.Errorf("%s → %s predicted %q after %s joined %s, want false", as[1][:12], bs[0][:12], got, as[0][:12], netB)
	}

	// as[0] leaves netB, and the request for its pairs fails: they stay
	// stale, and the next change, even one elsewhere, asks them again.
	mustEval[bool](t, b, `(window.__spy.failNext = 1, true)`)
	if err := c.DisconnectNetwork(ctx, netBID, as[0]); err != nil {
		t.Fatal(err)
	}
	waitJS(t, b, `window.__spy.failNext === 0`, time.Minute)
	newcomer := dockertest.RunContainer(t, c, dockertest.WithNetwork(netC))
	waitJS(t, b, fmt.Sprintf(`window.cy.getElementById(%s).nonempty()`, jsString("c:"+newcomer)), waitTimeout)
	if !pollJS(b, cell(as[0], bs[0])+`.dataset.predicted === 'false'`, waitTimeout) {
		t.Errorf("after a failed request and another change, %s → %s still predicted %q, want false (it left %s)",
			as[0][:12], bs[0][:12], mustEval[string](t, b, cell(as[0], bs[0])+`.dataset.predicted`), netB)
	}
}
