package server_test

// Names that parse as IP addresses: a container named 172.17.0.1 would turn
// a probe "by name" into a probe of that address (the default bridge's
// gateway, the host). dockmap refuses to make one, and never probes such a
// name as a name.

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/topology"
)

// Creating a container named like an address is refused (400, saying why)
// before any engine call, and nothing is created: on the fake engine,
// which records every call (fakeserver_test.go).
func TestRunRefusesAddressNames(t *testing.T) {
	ts, f := startFaked(t)
	for _, name := range []string{"172.17.0.1", "2130706433", "127.1", "0x7f.1"} {
		r := call(t, ts.URL, "POST", "/api/containers", map[string]any{"name": name, "image": "busybox:latest"}, nil)
		if detail, _ := r.Body["detail"].(string); r.Status != http.StatusBadRequest || !strings.Contains(detail, "IP address") {
			t.Errorf("POST /api/containers named %q = %d %v, want 400 saying it reads as an IP address", name, r.Status, r.Body)
		}
	}
	if calls := f.callsSince(0); len(calls) != 0 {
		t.Errorf("engine calls for refused names: %v", calls)
	}
}

// probeResult is one result with how it was run.
type probeResult struct {
	From, To, By, Target, Failure, Detail, Resolved, Method string
	OK                                                      bool
}

func probeRun(t *testing.T, base string, body map[string]any) (int, []probeResult, string) {
	t.Helper()
	res := call(t, base, "POST", "/api/probes", body, nil)
	var out struct{ Results []probeResult }
	data, _ := json.Marshal(res.Body)
	_ = json.Unmarshal(data, &out)
	detail, _ := res.Body["detail"].(string)
	return res.Status, out.Results, detail
}

// A container that the CLI or the SDK named like an address (here the
// default bridge's own gateway, which every container reaches) is never
// probed by that name: the probe is "impossible" and nothing runs, alone
// or in a matrix; naming it explicitly is refused. When it has a real
// name too (an alias on a network it shares with the prober), that name
// is probed instead.
func TestAddressNamedContainerIsNotProbedByName(t *testing.T) {
	ts, p, c := proxiedServerWith(t)
	srcName := dockertest.UniqueName(t, "src")
	src := dockertest.RunContainer(t, c, dockertest.WithName(srcName))
	var gateway string
	dockertest.WaitFor(t, 15*time.Second, func() (bool, string) {
		for _, e := range ts.Live.Snapshot().Graph.EdgesOf(topology.ContainerNodeID(src)) {
			if e.Kind == topology.EdgeMember && e.Member.Gateway != "" {
				gateway = e.Member.Gateway
				return true, ""
			}
		}
		return false, "the source has no gateway in the map yet"
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, _, err := c.ContainerStarted(ctx, gateway); err == nil {
		t.Fatalf("a container named %s exists already (left by a crashed run?): remove it first", gateway)
	}
	odd := dockertest.RunContainer(t, c, dockertest.WithName(gateway))
	dockertest.WaitFor(t, 15*time.Second, func() (bool, string) {
		n, ok := ts.Live.Snapshot().Graph.Node(topology.ContainerNodeID(odd))
		return ok && n.Container.Running(), "the container named " + gateway + " is not running in the map yet"
	})

	before := len(p.Paths())
	status, got, _ := probeRun(t, ts.URL, map[string]any{"from": srcName, "to": odd, "by": "name"})
	if status != http.StatusOK || len(got) != 1 {
		t.Fatalf("POST /api/probes by name = %d %+v, want one result", status, got)
	}
	if r := got[0]; r.OK || r.Failure != "probe-impossible" || !strings.Contains(r.Detail, "that name is an address") || r.Method != "" || r.Resolved != "" {
		t.Errorf("probe of %s by name = %+v, want probe-impossible (that name is an address) with nothing run", gateway, r)
	}
	status, got, _ = probeRun(t, ts.URL, map[string]any{"matrix": []string{src, odd}, "by": "name"})
	if status != http.StatusOK || len(got) != 2 {
		t.Fatalf("matrix by name = %d %+v, want two results", status, got)
	}
	for _, r := range got {
		if r.To == odd && (r.OK || r.Failure != "probe-impossible" || r.Method != "") {
			t.Errorf("matrix: probe of %s by name = %+v, want probe-impossible with nothing run", gateway, r)
		}
	}
	for _, call := range p.Paths()[before:] {
		if strings.HasPrefix(call, "POST ") && strings.Contains(call, "/containers/"+odd) {
			continue // the matrix's probe from it, by name of src: allowed
		}
		if strings.HasPrefix(call, "POST ") && strings.Contains(call, "/containers/"+src) && strings.Contains(call, "/exec") {
			t.Errorf("the engine was asked to exec in the source for a probe by an address-like name: %s", call)
		}
	}
	// Naming it explicitly is refused before anything runs.
	if status, _, detail := probeRun(t, ts.URL, map[string]any{"from": srcName, "to": odd, "name": gateway}); status != http.StatusBadRequest || !strings.Contains(detail, "is an address") {
		t.Errorf("probe with name %q = %d %q, want 400 saying it is an address", gateway, status, detail)
	}

	// On a network both share, an alias of its is a name that works.
	netID := dockertest.CreateNetwork(t, c, dockertest.UniqueName(t, "net"))
	if err := c.Attach(ctx, netID, src, nil, ""); err != nil {
		t.Fatal(err)
	}
	if err := c.Attach(ctx, netID, odd, []string{"oddly-named"}, ""); err != nil {
		t.Fatal(err)
	}
	dockertest.WaitFor(t, 15*time.Second, func() (bool, string) {
		for _, e := range ts.Live.Snapshot().Graph.EdgesOf(topology.ContainerNodeID(odd)) {
			if e.Kind == topology.EdgeMember && e.To == topology.NetworkNodeID(netID) && len(e.Member.Aliases) > 0 {
				return true, ""
			}
		}
		return false, "the alias is not in the map yet"
	})
	status, got, _ = probeRun(t, ts.URL, map[string]any{"from": srcName, "to": odd, "by": "name"})
	if status != http.StatusOK || len(got) != 1 || got[0].Target != "oddly-named" || !got[0].OK {
		t.Errorf("probe by name with an alias on a shared network = %d %+v, want oddly-named probed, and reached", status, got)
	}
}
