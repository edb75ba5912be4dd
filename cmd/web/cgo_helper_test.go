package main

import (
	"fmt"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/probe"
)

// TestCgoBuildUsesHelper: dockmap built as a plain `go build` gives it
// (cgo on, dynamically linked) makes its helper image from itself, with
// its loader and libraries, and probes from a container that has no ping
// through that helper, by IP and by name on a user network, instead of
// finding no way to probe at all.
func TestCgoBuildUsesHelper(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	bin := dockertest.CgoDockmapBinary(t)
	if dynamic, err := dockertest.IsDynamic(bin); err != nil || !dynamic {
		t.Fatalf("the cgo build is not dynamically linked (%v): nothing to test", err)
	}
	net := dockertest.CreateNetwork(t, c, "")
	target := dockertest.UniqueName(t, "target")
	dockertest.RunContainer(t, c, dockertest.WithNetwork(net), dockertest.WithName(target))
	source := runNoPing(t, c, net)

	p := startBinary(t, bin)
	t.Cleanup(func() { p.stop(t) }) // before the containers go: it removes its sidecars
	p.waitForContainers(t, source, target)

	var pr struct{ Results []probe.Result }
	if st := p.api(t, "POST", "/api/probes", map[string]any{"from": source, "to": target, "by": "both"}, &pr); st != http.StatusOK {
		t.Fatalf("POST /api/probes: status %d", st)
	}
	if len(pr.Results) != 2 {
		t.Fatalf("results = %+v, want one by IP and one by name", pr.Results)
	}
	for _, r := range pr.Results {
		if !r.OK || r.Method != probe.MethodHelper {
			t.Errorf("probe by %s from a container with no ping: ok=%v method=%q failure=%q detail=%q; want ok through the helper",
				r.By, r.OK, r.Method, r.Failure, r.Detail)
		}
	}
}

// runNoPing runs a container with no ping (no shell, no tools: busybox
// as sleep only) on network net and returns its name.
func runNoPing(t testing.TB, c *docker.Client, net string) string {
	t.Helper()
	name := dockertest.UniqueName(t, "noping")
	id, err := c.CreateContainer(t.Context(), docker.ContainerSpec{Name: name, Image: dockertest.NoShellImage(t, c),
		Cmd: []string{"/bin/sleep", "3600"}, Labels: dockertest.Labels(), Network: net})
	if err != nil {
		t.Fatalf("create a container with no ping: %v", err)
	}
	dockertest.TrackContainer(t, c, id)
	if err := c.StartContainer(t.Context(), id); err != nil {
		t.Fatalf("start a container with no ping: %v", err)
	}
	return name
}

// waitForContainers waits until the process's map has these containers
// (by name): the API names containers from the map.
func (p *proc) waitForContainers(t testing.TB, names ...string) {
	t.Helper()
	dockertest.WaitFor(t, waitTimeout, func() (bool, string) {
		var g struct{ Nodes []struct{ Label string } }
		if st := p.api(t, "GET", "/api/graph", nil, &g); st != http.StatusOK {
			return false, fmt.Sprintf("GET /api/graph: status %d", st)
		}
		have := map[string]bool{}
		for _, n := range g.Nodes {
			have[n.Label] = true
		}
		for _, n := range names {
			if !have[n] {
				return false, n + " is not on the map"
			}
		}
		return true, ""
	})
}

// stop ends the process as an operator would (SIGTERM), so that it
// removes its sidecars, and kills it if it takes too long.
func (p *proc) stop(t testing.TB) {
	if p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(waitTimeout):
		t.Errorf("dockmap did not stop within %v of SIGTERM", waitTimeout)
		p.kill()
	}
}

// BenchmarkCgoMatrix10 is the warm 10×10 ping matrix, by IP and by name on
// a user network, asked through POST /api/probes of a dockmap built with
// cgo on (dynamically linked, as `go build` gives it). The binary is
// DOCKMAP_BENCH_BIN when set (e.g. a cgo build of an older dockmap, which
// falls back to one exec per probe), else this tree's cgo build.
func BenchmarkCgoMatrix10(b *testing.B) {
	c := dockertest.Client(b)
	bin := os.Getenv("DOCKMAP_BENCH_BIN")
	if bin == "" {
		bin = dockertest.CgoDockmapBinary(b)
	}
	net := dockertest.CreateNetwork(b, c, "")
	ids := make([]string, 10)
	for i := range ids {
		ids[i] = dockertest.UniqueName(b, fmt.Sprintf("m%d", i))
		dockertest.RunContainer(b, c, dockertest.WithNetwork(net), dockertest.WithName(ids[i]))
	}
	p := startBinary(b, bin)
	b.Cleanup(func() { p.stop(b) })
	p.waitForContainers(b, ids...)
	body := map[string]any{"matrix": ids, "by": "both"}
	matrix := func() (helper, failed int) {
		var pr struct{ Results []probe.Result }
		if st := p.api(b, "POST", "/api/probes", body, &pr); st != http.StatusOK {
			b.Fatalf("POST /api/probes: status %d", st)
		}
		if len(pr.Results) != 10*9*2 {
			b.Fatalf("%d results, want %d", len(pr.Results), 10*9*2)
		}
		for _, r := range pr.Results {
			if r.Method == probe.MethodHelper {
				helper++
			}
			if !r.OK {
				failed++
			}
		}
		return helper, failed
	}
	matrix() // warm: the helper image and the sidecars
	var helper, failed int
	for b.Loop() {
		helper, failed = matrix()
	}
	if failed > 0 {
		b.Errorf("%d of %d probes failed", failed, 10*9*2)
	}
	b.ReportMetric(float64(helper)/float64(10*9*2), "helper-share")
}
