package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockmap/dockmap/internal/auth"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/reach"
	"github.com/dockmap/dockmap/internal/server"
	"github.com/dockmap/dockmap/internal/topology"
)

type prediction struct {
	ByIP, ByName struct {
		OK      bool
		Via     string
		Reasons []struct{ Code, Text, Fix string }
	}
}

func predict(t *testing.T, base, from, to string) prediction {
	t.Helper()
	resp, err := http.Get(base + "/api/reach?from=" + url.QueryEscape(from) + "&to=" + url.QueryEscape(to))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/reach = %d", resp.StatusCode)
	}
	var p prediction
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

func hasCode(reasons []struct{ Code, Text, Fix string }, code string) bool {
	for _, r := range reasons {
		if r.Code == code {
			return true
		}
	}
	return false
}

// An internal network and a network with inter-container communication
// off: the explainer says why, and a real probe measures the same.
func TestPredictionsAgreeWithProbes(t *testing.T) {
	ts, c := startSynced(t)
	internal := dockertest.UniqueName(t, "vault")
	noICC := dockertest.UniqueName(t, "quiet")
	dockertest.CreateNetwork(t, c, internal, dockertest.WithInternal())
	dockertest.CreateNetwork(t, c, noICC, dockertest.WithoutICC())
	a := dockertest.RunContainer(t, c, dockertest.WithNetwork(internal))
	b := dockertest.RunContainer(t, c, dockertest.WithNetwork(internal))
	x := dockertest.RunContainer(t, c, dockertest.WithNetwork(noICC))
	y := dockertest.RunContainer(t, c, dockertest.WithNetwork(noICC))
	dockertest.WaitFor(t, 15*time.Second, func() (bool, string) {
		g := ts.Live.Snapshot().Graph
		for _, id := range []string{a, b, x, y} {
			ok := false
			for _, e := range g.EdgesOf(topology.ContainerNodeID(id)) {
				ok = ok || (e.Kind == topology.EdgeMember && e.Member.IP != "")
			}
			if !ok {
				return false, id[:12] + " has no IP in the graph yet"
			}
		}
		return true, ""
	})

	cases := []struct {
		name     string
		from, to string
		wantOK   bool
		wantCode string
	}{
		{"internal network members reach each other", a, b, true, "internal"},
		{"inter-container communication off", x, y, false, "icc-off"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := predict(t, ts.URL, tc.from, tc.to)
			for by, o := range map[string]struct {
				ok      bool
				reasons []struct{ Code, Text, Fix string }
			}{"ip": {p.ByIP.OK, p.ByIP.Reasons}, "name": {p.ByName.OK, p.ByName.Reasons}} {
				if o.ok != tc.wantOK || !hasCode(o.reasons, tc.wantCode) {
					t.Errorf("predicted by %s: ok=%v reasons=%+v, want ok=%v with %s", by, o.ok, o.reasons, tc.wantOK, tc.wantCode)
				}
				status, got := probeAPI(t, ts.URL, map[string]any{"from": tc.from, "to": tc.to, "by": by})
				if status != http.StatusOK || len(got.Results) != 1 {
					t.Fatalf("probe by %s = %d %+v", by, status, got)
				}
				if got.Results[0].OK != o.ok {
					t.Errorf("measured by %s: %+v, predicted ok=%v: they disagree", by, got.Results[0], o.ok)
				}
			}
		})
	}
}

// memberIP is the address the live graph gives container id on the network
// named name, or "" when it has none there yet.
func memberIP(g topology.Graph, id, name string) string {
	for _, e := range g.EdgesOf(topology.ContainerNodeID(id)) {
		if e.Kind == topology.EdgeMember && e.From == topology.ContainerNodeID(id) && e.Member.NetworkName == name {
			return e.Member.IP
		}
	}
	return ""
}

// A probe by IP aims at the address the prediction is about: x and y share
// a network that drops their traffic (ICC off) and the default bridge that
// carries it, and z lives in y's network namespace with no address of its
// own. Every probe must take the bridge, and agree with the prediction.
func TestProbeByIPTakesThePredictedPath(t *testing.T) {
	ts, c := startSynced(t)
	noICC := dockertest.UniqueName(t, "quiet")
	dockertest.CreateNetwork(t, c, noICC, dockertest.WithoutICC())
	x := dockertest.RunContainer(t, c, dockertest.WithNetwork(noICC))
	y := dockertest.RunContainer(t, c, dockertest.WithNetwork(noICC))
	for _, id := range []string{x, y} {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		if err := c.ConnectNetwork(ctx, "bridge", id, nil); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	z := dockertest.RunContainer(t, c, dockertest.WithNetworkMode("container:"+y))
	var yBridge string
	dockertest.WaitFor(t, 15*time.Second, func() (bool, string) {
		g := ts.Live.Snapshot().Graph
		yBridge = memberIP(g, y, "bridge")
		if yBridge == "" || memberIP(g, x, "bridge") == "" || memberIP(g, y, noICC) == "" {
			return false, "x and y are not on both networks in the graph yet"
		}
		if _, ok := g.Node(topology.ContainerNodeID(z)); !ok {
			return false, "z is not in the graph yet"
		}
		return true, ""
	})

	for _, to := range []string{y, z} {
		p := predict(t, ts.URL, x, to)
		if !p.ByIP.OK || p.ByIP.Via != "bridge" {
			t.Fatalf("predicted x → %s by IP = %+v, want ok via bridge", to[:12], p.ByIP)
		}
		status, got := probeAPI(t, ts.URL, map[string]any{"from": x, "to": to, "by": "ip"})
		if status != http.StatusOK || len(got.Results) != 1 {
			t.Fatalf("probe x → %s = %d %+v", to[:12], status, got)
		}
		if r := got.Results[0]; r.Target != yBridge || !r.OK {
			t.Errorf("probe x → %s by IP = %+v, want %s (y's bridge address) and ok, as predicted", to[:12], r, yBridge)
		}
	}
	// An address the user names is the one probed, even one on the network
	// that drops the ping (the failure is then the measured truth).
	yQuiet := memberIP(ts.Live.Snapshot().Graph, y, noICC)
	status, got := probeAPI(t, ts.URL, map[string]any{"from": x, "to": yQuiet, "by": "ip"})
	if status != http.StatusOK || len(got.Results) != 1 || got.Results[0].Target != yQuiet || got.Results[0].OK {
		t.Errorf("probe x → %s = %d %+v, want that address probed and failing (ICC off)", yQuiet, status, got)
	}
}

// getReach GETs path with hdr and decodes a 200's body into v; it returns
// the status and, for an error, its detail.
func getReach(t *testing.T, base, path string, hdr map[string]string, v any) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, val := range hdr {
		req.Header.Set(k, val)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error, Detail string }
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return resp.StatusCode, e.Detail
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, ""
}

// GET /api/reach/matrix answers every ordered pair of the containers it
// names in one request, each exactly as GET /api/reach answers it alone;
// a viewer may ask (a prediction is a read), a stranger may not; bad and
// unknown names are refused with a clear 400 or 404 naming them.
func TestReachMatrix(t *testing.T) {
	c := dockertest.Client(t)
	viewerToken := auth.NewToken()
	a, err := auth.New(auth.Tokens{Operator: auth.NewToken(), Viewer: viewerToken})
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, c, func(d *server.Deps) { d.Auth = a })
	viewer := map[string]string{"Authorization": "Bearer " + viewerToken}

	// Pairs with different answers: a user-defined network (names both
	// ways), a legacy link on the default bridge (one way), and no
	// network in common.
	appnet := dockertest.UniqueName(t, "appnet")
	dockertest.CreateNetwork(t, c, appnet)
	web, db, old := dockertest.UniqueName(t, "web"), dockertest.UniqueName(t, "db"), dockertest.UniqueName(t, "old")
	webID := dockertest.RunContainer(t, c, dockertest.WithName(web), dockertest.WithNetwork(appnet))
	dbID := dockertest.RunContainer(t, c, dockertest.WithName(db), dockertest.WithNetwork(appnet))
	oldTarget := dockertest.RunContainer(t, c)
	oldID := dockertest.RunContainer(t, c, dockertest.WithName(old), dockertest.WithLink(oldTarget, "target"))
	ids := []string{webID, dbID, oldTarget, oldID}
	dockertest.WaitFor(t, 30*time.Second, func() (bool, string) {
		g := ts.Live.Snapshot().Graph
		for _, id := range ids {
			ip := false
			for _, e := range g.EdgesOf(topology.ContainerNodeID(id)) {
				ip = ip || (e.Kind == topology.EdgeMember && e.Member.IP != "")
			}
			if !ip {
				return false, id[:12] + " has no IP in the graph yet"
			}
		}
		return true, ""
	})

	// By name, by ID and by node ID, and one container twice: one row each.
	var got struct {
		Seq         uint64
		Predictions []reach.Prediction
	}
	q := "/api/reach/matrix?ids=" + url.QueryEscape(strings.Join([]string{web, dbID, "c:" + oldTarget, old, webID}, ","))
	if st, detail := getReach(t, ts.URL, q, viewer, &got); st != http.StatusOK {
		t.Fatalf("GET %s as a viewer = %d %s, want 200", q, st, detail)
	}
	if got.Seq == 0 {
		t.Errorf("seq = 0, want the graph's seq")
	}
	if len(got.Predictions) != len(ids)*(len(ids)-1) {
		t.Fatalf("%d predictions, want %d (every ordered pair of %d containers, once)", len(got.Predictions), len(ids)*(len(ids)-1), len(ids))
	}
	seen := map[string]bool{}
	for _, p := range got.Predictions {
		seen[p.From+">"+p.To] = true
		var one reach.Prediction
		path := "/api/reach?from=" + p.From + "&to=" + p.To
		if st, detail := getReach(t, ts.URL, path, viewer, &one); st != http.StatusOK {
			t.Fatalf("GET %s = %d %s", path, st, detail)
		}
		if diff := cmp.Diff(one, p); diff != "" {
			t.Errorf("%s → %s: the batch differs from the single answer (-single +batch):\n%s", p.From[:12], p.To[:12], diff)
		}
	}
	for _, f := range ids {
		for _, to := range ids {
			if f != to && !seen[f+">"+to] {
				t.Errorf("no prediction %s → %s", f[:12], to[:12])
			}
		}
	}
	// The answers differ by pair: the test would catch a mixed-up pair.
	byName := map[string]bool{}
	for _, p := range got.Predictions {
		byName[p.From+">"+p.To] = p.ByName.OK
	}
	if !byName[webID+">"+dbID] || !byName[oldID+">"+oldTarget] || byName[oldTarget+">"+oldID] || byName[webID+">"+oldID] {
		t.Errorf("by name: web→db %v, old→target %v, target→old %v, web→old %v; want true, true, false, false",
			byName[webID+">"+dbID], byName[oldID+">"+oldTarget], byName[oldTarget+">"+oldID], byName[webID+">"+oldID])
	}

	// from: one container's row only, the same predictions.
	var row struct{ Predictions []reach.Prediction }
	rq := "/api/reach/matrix?ids=" + strings.Join(ids, ",") + "&from=" + old
	if st, detail := getReach(t, ts.URL, rq, viewer, &row); st != http.StatusOK {
		t.Fatalf("GET %s = %d %s", rq, st, detail)
	}
	if len(row.Predictions) != len(ids)-1 {
		t.Errorf("from=old: %d predictions, want %d", len(row.Predictions), len(ids)-1)
	}
	for _, p := range row.Predictions {
		if p.From != oldID {
			t.Errorf("from=old gave a prediction from %s", p.From[:12])
			continue
		}
		for _, q := range got.Predictions {
			if q.From == p.From && q.To == p.To {
				if diff := cmp.Diff(q, p); diff != "" {
					t.Errorf("old → %s with from= differs (-square +row):\n%s", p.To[:12], diff)
				}
			}
		}
	}

	// touch: only the pairs with an end there (what a delta affected).
	var touched struct{ Predictions []reach.Prediction }
	tq := "/api/reach/matrix?ids=" + strings.Join(ids, ",") + "&touch=" + db
	if st, detail := getReach(t, ts.URL, tq, viewer, &touched); st != http.StatusOK {
		t.Fatalf("GET %s = %d %s", tq, st, detail)
	}
	if len(touched.Predictions) != 2*(len(ids)-1) {
		t.Errorf("touch=db: %d predictions, want %d", len(touched.Predictions), 2*(len(ids)-1))
	}
	for _, p := range touched.Predictions {
		if p.From != dbID && p.To != dbID {
			t.Errorf("touch=db gave %s → %s", p.From[:12], p.To[:12])
		}
	}

	// Large answers cross the wire gzip'd for a client that takes it (a
	// browser): 12 predictions are well over the 4 KB threshold.
	zipped := send(t, http.DefaultClient, "GET", ts.URL+q, map[string]string{"Authorization": viewer["Authorization"], "Accept-Encoding": "gzip"}, "")
	if zipped.StatusCode != http.StatusOK || zipped.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("GET %s accepting gzip = %d, Content-Encoding %q, want 200 gzip", q, zipped.StatusCode, zipped.Header.Get("Content-Encoding"))
	}

	tooMany := make([]string, 201)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("c%d", i)
	}
	unknown1, unknown2 := dockertest.UniqueName(t, "nobody"), strings.Repeat("e", 64)
	for _, tc := range []struct {
		name, query string
		hdr         map[string]string
		want        int
		detail      []string
	}{
		{"no ids", "", viewer, 400, []string{"ids"}},
		{"empty ids", "?ids=", viewer, 400, []string{"ids"}},
		{"an empty name", "?ids=" + web + ",," + db, viewer, 400, []string{"empty name at position 2"}},
		{"a malformed name", "?ids=" + web + "," + url.QueryEscape("no such/name"), viewer, 400, []string{"container name"}},
		{"more than 200", "?ids=" + strings.Join(tooMany, ","), viewer, 400, []string{"201 containers", "at most 200"}},
		{"unknown containers", "?ids=" + web + "," + unknown1 + "," + unknown2, viewer, 404, []string{unknown1, unknown2}},
		{"a network is no container", "?ids=" + web + "," + appnet, viewer, 404, []string{appnet}},
		{"an empty from", "?ids=" + web + "," + db + "&from=", viewer, 400, []string{"from"}},
		{"an unknown from", "?ids=" + web + "," + db + "&from=" + unknown1, viewer, 404, []string{unknown1}},
		{"no credential", "?ids=" + web + "," + db, nil, 401, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v any
			st, detail := getReach(t, ts.URL, "/api/reach/matrix"+tc.query, tc.hdr, &v)
			if st != tc.want {
				t.Fatalf("status %d (%s), want %d", st, detail, tc.want)
			}
			for _, w := range tc.detail {
				if !strings.Contains(detail, w) {
					t.Errorf("detail %q, want it to say %q", detail, w)
				}
			}
		})
	}
}
