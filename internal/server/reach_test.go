package server_test

import (
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
