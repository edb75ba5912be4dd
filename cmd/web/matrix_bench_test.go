package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/probe"
)

// BenchmarkMatrixAPI measures the reachability matrix on the user's path
// (issue 14): dockmap built and run as a user runs it, in its own process,
// and the matrix asked the way the page asks, `POST /api/probes {matrix:
// [ids], by: "both"}` over HTTP, for 10 and 30 running fixture containers,
// on the default bridge (where the tutorial runs and names do not resolve)
// and on a user-defined network (where they do). Each sub-benchmark
// reports its first round (sidecars cold) and the warm rounds after it.
// The helper image is made before the timing, as any earlier run of the
// same dockmap would have left it. Run it with -benchtime 3x.
func BenchmarkMatrixAPI(b *testing.B) {
	c := dockertest.Client(b)
	bin := dockertest.DockmapBinary(b)
	hc, err := docker.New(docker.WithHelperBinary(bin))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = hc.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := hc.HelperImage(ctx); err != nil {
		b.Fatal(err)
	}
	p := startProcess(b)
	for _, where := range []string{"bridge", "network"} {
		for _, n := range []int{10, 30} {
			b.Run(fmt.Sprintf("%s/n=%d", where, n), func(b *testing.B) {
				var opts []dockertest.ContainerOption
				if where == "network" {
					opts = append(opts, dockertest.WithNetwork(dockertest.CreateNetwork(b, c, "")))
				}
				ids := runContainers(b, c, n, opts...)
				waitFor(b, "the containers running on the map", func() bool {
					running := map[string]bool{}
					for _, node := range p.graph(b).Nodes {
						if node.Container != nil && node.Container.Running() {
							running[node.Container.ID] = true
						}
					}
					for _, id := range ids {
						if !running[id] {
							return false
						}
					}
					return true
				})
				body, err := json.Marshal(map[string]any{"matrix": ids, "by": "both"})
				if err != nil {
					b.Fatal(err)
				}
				round := func() time.Duration {
					t0 := time.Now()
					rs := postProbes(b, p.base, body)
					took := time.Since(t0)
					if err := matrixAsExpected(rs, n, where == "network"); err != nil {
						b.Fatal(err)
					}
					return took
				}
				first := round()
				var warm []time.Duration
				for b.Loop() {
					warm = append(warm, round())
				}
				b.ReportMetric(ms(first), "first-ms")
				b.ReportMetric(ms(median(warm)), "p50-warm-ms")
				b.ReportMetric(float64(2*n*(n-1)), "probes")
			})
		}
	}
}

// runContainers runs n fixture containers, four at a time, and returns
// their IDs.
func runContainers(b *testing.B, c *docker.Client, n int, opts ...dockertest.ContainerOption) []string {
	b.Helper()
	ids := make([]string, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i := range ids {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ids[i] = dockertest.RunContainer(b, c, opts...)
		})
	}
	wg.Wait()
	return ids
}

// postProbes posts a probe request as the page does and returns the
// results.
func postProbes(b *testing.B, base string, body []byte) []probe.Result {
	b.Helper()
	req, err := http.NewRequest("POST", base+"/api/probes", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", base)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		b.Fatalf("POST /api/probes: %s %s", resp.Status, msg)
	}
	var out struct {
		Results []probe.Result `json:"results"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		b.Fatal(err)
	}
	return out.Results
}

// matrixAsExpected checks a matrix's results: every probe by IP answered,
// and by name answered on a user network, not resolved on the default
// bridge.
func matrixAsExpected(rs []probe.Result, n int, userNetwork bool) error {
	if len(rs) != 2*n*(n-1) {
		return fmt.Errorf("%d results, want %d", len(rs), 2*n*(n-1))
	}
	for _, r := range rs {
		okWanted := r.By == probe.ByIP || userNetwork
		switch {
		case okWanted && !r.OK, !okWanted && r.Failure != probe.FailName:
			return fmt.Errorf("%.12s → %s by %s: ok %v, %s %s", r.From, r.Target, r.By, r.OK, r.Failure, r.Detail)
		}
	}
	return nil
}
