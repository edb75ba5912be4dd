package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/dockertest"
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
