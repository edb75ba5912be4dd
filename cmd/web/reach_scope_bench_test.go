package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/topology"
)

// BenchmarkReachPerDelta40 measures what a page showing the predictions of
// a 40-container matrix (40 running containers on 4 networks, 1,560
// pairs, as BenchmarkReachMatrix40) asks of the server after a change,
// before and after predictions were scoped to the pairs a change affects
// (issue 14). Real dockmap in its own process, real engine changes, the
// deltas as /live sends them; the page's requests are then replayed over
// HTTP, gzip'd as a browser takes them: before, every change asked the
// whole matrix again (one GET /api/reach/matrix of the 40) and re-read
// the probe results; now a change asks only the pairs with an end in its
// affects (touch=), and nothing when none is in the matrix
// (TestBrowserReachScopedToChange checks that the page does so). Each
// round makes two changes: a container created and started on a network
// of its own, and docker network connect of one matrix container to a
// fifth network. Run it with -benchtime=5x.
func BenchmarkReachPerDelta40(b *testing.B) {
	c := dockertest.Client(b)
	const containers, networks = 40, 4
	nets := make([]string, networks)
	for i := range nets {
		nets[i] = dockertest.UniqueName(b, fmt.Sprintf("pd%d", i))
		dockertest.CreateNetwork(b, c, nets[i])
	}
	extraID := dockertest.CreateNetwork(b, c, dockertest.UniqueName(b, "pdx"))
	elsewhere := dockertest.UniqueName(b, "pde")
	dockertest.CreateNetwork(b, c, elsewhere)
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

	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(p.base, "http")+"/live", http.Header{"Origin": {p.base}})
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Close()
	type frame struct {
		Type string `json:"type"`
		topology.Delta
		Affects []string `json:"affects"`
		// every is set when the frame has no affects (every pair).
		every bool
	}
	frames := make(chan frame, 1024)
	go func() {
		defer close(frames)
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			var f frame
			var has map[string]json.RawMessage
			if json.Unmarshal(data, &f) != nil || json.Unmarshal(data, &has) != nil || f.Type != "delta" {
				continue
			}
			_, listed := has["affects"]
			f.every = !listed
			frames <- f
		}
	}()
	// until reads deltas until one holds what the change made (the node or
	// edge id), and returns them all.
	until := func(id string) []frame {
		var got []frame
		deadline := time.After(2 * time.Minute)
		for {
			select {
			case f := <-frames:
				got = append(got, f)
				for _, n := range f.AddedNodes {
					if string(n.ID) == id {
						return got
					}
				}
				for _, e := range f.AddedEdges {
					if string(e.ID) == id {
						return got
					}
				}
			case <-deadline:
				b.Fatalf("no delta with %s", id)
			}
		}
	}

	client := &http.Client{Transport: &http.Transport{}}
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
	square := url.Values{"ids": {strings.Join(ids, ",")}}
	// asked is what the page asks after the deltas of one change: before,
	// the whole square, whatever changed; now the pairs with an end in the
	// matrix's affected containers, nothing when there is none.
	asked := func(fs []frame) (beforeReq, beforeBytes, nowReq, nowBytes int) {
		all := get("/api/reach/matrix?" + square.Encode())
		hit := map[string]bool{}
		every := false
		for _, f := range fs {
			every = every || f.every
			for _, a := range f.Affects {
				if id := strings.TrimPrefix(a, "c:"); slices.Contains(ids, id) {
					hit[id] = true
				}
			}
		}
		switch {
		case every:
			return 1, all, 1, all
		case len(hit) == 0:
			return 1, all, 0, 0
		}
		q := url.Values{"ids": square["ids"], "touch": {strings.Join(slices.Sorted(maps.Keys(hit)), ",")}}
		return 1, all, 1, get("/api/reach/matrix?" + q.Encode())
	}

	var sums [2][4]int // unrelated, connect × before req, bytes, now req, bytes
	var deltas [2]int
	rounds := 0
	for b.Loop() {
		if rounds+1 >= containers {
			b.Fatal("more rounds than matrix containers: run it with -benchtime=5x")
		}
		id := dockertest.RunContainer(b, c, dockertest.WithNetwork(elsewhere))
		fs := until("c:" + id)
		deltas[0] += len(fs)
		br, bb, nr, nb := asked(fs)
		sums[0] = [4]int{sums[0][0] + br, sums[0][1] + bb, sums[0][2] + nr, sums[0][3] + nb}

		target := ids[rounds+1]
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := c.ConnectNetwork(ctx, extraID, target, nil)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		fs = until("m:" + target + "@" + extraID)
		deltas[1] += len(fs)
		br, bb, nr, nb = asked(fs)
		sums[1] = [4]int{sums[1][0] + br, sums[1][1] + bb, sums[1][2] + nr, sums[1][3] + nb}
		rounds++
	}
	n := float64(rounds)
	for i, what := range []string{"unrelated", "connect"} {
		b.ReportMetric(float64(deltas[i])/n, what+"-deltas")
		b.ReportMetric(float64(sums[i][0])/n, what+"-before-req")
		b.ReportMetric(float64(sums[i][1])/n, what+"-before-B")
		b.ReportMetric(float64(sums[i][2])/n, what+"-now-req")
		b.ReportMetric(float64(sums[i][3])/n, what+"-now-B")
	}
}
