package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/dockertest"
)

// BenchmarkReachMatrix40 measures what the page waits for to show the
// predictions of a 40-container matrix (issue 14), the user's path:
// dockmap built as a user builds it, in its own process, on the local
// engine with 40 running containers on 4 networks, asked over HTTP. The
// old way is the page's: one GET /api/reach per ordered pair (1,560), six
// at a time as Chromium sends them to one host; the new one is one GET
// /api/reach/matrix. Run it with -benchtime=10x.
func BenchmarkReachMatrix40(b *testing.B) {
	c := dockertest.Client(b)
	const containers, networks = 40, 4
	nets := make([]string, networks)
	for i := range nets {
		nets[i] = dockertest.UniqueName(b, fmt.Sprintf("rm%d", i))
		dockertest.CreateNetwork(b, c, nets[i])
	}
	ids := make([]string, containers)
	for i := range ids {
		ids[i] = dockertest.RunContainer(b, c, dockertest.WithNetwork(nets[i%networks]))
	}
	p := startProcess(b)
	waitFor(b, "40 containers on the map", func() bool {
		have := map[string]bool{}
		for _, n := range p.graph(b).Nodes {
			have[string(n.ID)] = true
		}
		for _, id := range ids {
			if !have["c:"+id] {
				return false
			}
		}
		return true
	})

	// Bytes as they cross the wire: gzip'd where the server compresses, as
	// for a browser (the transport then leaves the body as it came).
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 6, MaxIdleConnsPerHost: 6}}
	get := func(path string) int {
		req, err := http.NewRequest("GET", p.base+path, nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		n, err := io.Copy(io.Discard, resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
		}
		return int(n)
	}
	var pairs []string
	for _, from := range ids {
		for _, to := range ids {
			if from != to {
				pairs = append(pairs, "/api/reach?from="+from+"&to="+to)
			}
		}
	}
	perPair := func() int {
		var wg sync.WaitGroup
		work := make(chan string)
		sizes := make([]int, 6)
		for w := range 6 {
			wg.Go(func() {
				for path := range work {
					sizes[w] += get(path)
				}
			})
		}
		for _, path := range pairs {
			work <- path
		}
		close(work)
		wg.Wait()
		total := 0
		for _, s := range sizes {
			total += s
		}
		return total
	}
	batch := "/api/reach/matrix?" + url.Values{"ids": {strings.Join(ids, ",")}}.Encode()

	var old, one []time.Duration
	var oldBytes, oneBytes int
	for b.Loop() {
		t0 := time.Now()
		oldBytes = perPair()
		old = append(old, time.Since(t0))
		t0 = time.Now()
		oneBytes = get(batch)
		one = append(one, time.Since(t0))
	}
	slices.Sort(old)
	slices.Sort(one)
	b.ReportMetric(float64(old[len(old)/2].Microseconds())/1000, "per-pair-p50-ms")
	b.ReportMetric(float64(old[len(old)-1].Microseconds())/1000, "per-pair-max-ms")
	b.ReportMetric(float64(one[len(one)/2].Microseconds())/1000, "batch-p50-ms")
	b.ReportMetric(float64(one[len(one)-1].Microseconds())/1000, "batch-max-ms")
	b.ReportMetric(float64(oldBytes), "per-pair-bytes")
	b.ReportMetric(float64(oneBytes), "batch-bytes")
}
