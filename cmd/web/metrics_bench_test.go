package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
)

// BenchmarkMetricsScrape measures what one Prometheus scrape of /metrics
// costs a dockmap watching 1,000 containers (issue 13): the binary as a
// user builds it, in its own process, on the local engine with 1,000
// created containers, scraped over HTTP as Prometheus does; the figures
// are the time per scrape (p50, p95), its size and its series. No series
// is per container (no container IDs as labels), so the size should not
// grow with the map. Run it with -benchtime=200x.
func BenchmarkMetricsScrape(b *testing.B) {
	c := dockertest.Client(b)
	image := dockertest.FixtureImage(b)
	const containers = 1000
	// Four creators: the engine serialises much of a create anyway.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < containers; i += 4 {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				id, err := c.CreateContainer(ctx, docker.ContainerSpec{Name: dockertest.UniqueName(b, fmt.Sprintf("m%04d", i)), Image: image,
					Cmd: []string{"sleep", "3600"}, Labels: dockertest.Labels()})
				cancel()
				if err != nil {
					errs[w] = err
					return
				}
				dockertest.TrackContainer(b, c, id)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	p := startProcess(b, "--metrics-public")
	waitFor(b, "1,000 containers on the map", func() bool {
		n := 0
		for _, node := range p.graph(b).Nodes {
			if node.Container != nil && node.Container.Labels[dockertest.RunLabel] == dockertest.RunID() {
				n++
			}
		}
		return n >= containers
	})

	get := func() string {
		resp, err := http.Get(p.base + "/metrics")
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
		}
		return string(body)
	}
	// What a scraper reads, parsed as Prometheus parses it: outside the
	// timing, which is the scrape's own.
	count := func(body string) (int, int) {
		parser := expfmt.NewTextParser(model.UTF8Validation)
		families, err := parser.TextToMetricFamilies(strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		series := 0
		for _, f := range families {
			series += len(f.GetMetric())
		}
		return len(body), series
	}
	get() // the first one registers the route's own series
	var took []time.Duration
	var body string
	for b.Loop() {
		t0 := time.Now()
		body = get()
		took = append(took, time.Since(t0))
	}
	size, series := count(body)
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs/scrape")
	b.ReportMetric(float64(took[len(took)*95/100].Microseconds()), "p95-µs/scrape")
	b.ReportMetric(float64(size), "bytes/scrape")
	b.ReportMetric(float64(series), "series")
}
