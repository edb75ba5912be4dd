package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/probe"
	"github.com/dockmap/dockmap/internal/topology"
)

// TestMatrixThroughTheAPI asks for the matrix as the page does (POST
// /api/probes {matrix, by: "both"}), where each source's probes run in one
// helper call. On the default bridge: every probe by IP answers, by name
// only the link's alias resolves, and every other name fails with the
// helper's own reason, decided from the source's /etc/hosts and
// resolv.conf, not by a lookup on the host's resolvers (which costs a
// round trip per name, or a timeout when they drop the burst). On a
// user-defined network every name resolves. The predictions agree.
func TestMatrixThroughTheAPI(t *testing.T) {
	ts, c := startSynced(t)
	dbName := dockertest.UniqueName(t, "database")
	db := dockertest.RunContainer(t, c, dockertest.WithName(dbName))
	web := dockertest.RunContainer(t, c)
	linked := dockertest.RunContainer(t, c, dockertest.WithLink(db, dbName))
	net := dockertest.CreateNetwork(t, c, "")
	a := dockertest.RunContainer(t, c, dockertest.WithNetwork(net))
	b := dockertest.RunContainer(t, c, dockertest.WithNetwork(net))
	d := dockertest.RunContainer(t, c, dockertest.WithNetwork(net))
	dockertest.WaitFor(t, 30*time.Second, func() (bool, string) {
		g := ts.Live.Snapshot().Graph
		for _, id := range []string{db, web, linked, a, b, d} {
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

	t.Run("default bridge", func(t *testing.T) {
		status, got := probeAPI(t, ts.URL, map[string]any{"matrix": []string{db, web, linked}, "by": "both"})
		if status != http.StatusOK || len(got.Results) != 12 {
			t.Fatalf("matrix = %d, %d results %+v, want 200 and 12", status, len(got.Results), got)
		}
		for _, r := range got.Results {
			what := r.From[:12] + " → " + r.Target + " by " + r.By
			switch {
			case r.By == probe.ByIP && !r.OK:
				t.Errorf("%s: %s %s, want an answer", what, r.Failure, r.Detail)
			case r.By == probe.ByName && r.From == linked && r.To == db:
				if !r.OK || r.Target != dbName {
					t.Errorf("%s: ok %v %s %s, want the link's alias to resolve", what, r.OK, r.Failure, r.Detail)
				}
			case r.By == probe.ByName:
				if r.OK || r.Failure != probe.FailName || !strings.Contains(r.Detail, probe.NoContainerDNS) {
					t.Errorf("%s: ok %v %s %q, want %s with %q", what, r.OK, r.Failure, r.Detail, probe.FailName, probe.NoContainerDNS)
				}
			}
			if p := predict(t, ts.URL, r.From, r.To); r.By == probe.ByName && p.ByName.OK != r.OK {
				t.Errorf("%s: measured ok %v, predicted %v (%+v)", what, r.OK, p.ByName.OK, p.ByName.Reasons)
			}
		}
	})

	t.Run("user network", func(t *testing.T) {
		status, got := probeAPI(t, ts.URL, map[string]any{"matrix": []string{a, b, d}, "by": "both"})
		if status != http.StatusOK || len(got.Results) != 12 {
			t.Fatalf("matrix = %d, %d results %+v, want 200 and 12", status, len(got.Results), got)
		}
		for _, r := range got.Results {
			if !r.OK {
				t.Errorf("%s → %s by %s: %s %s, want an answer", r.From[:12], r.Target, r.By, r.Failure, r.Detail)
			}
		}
	})
}
