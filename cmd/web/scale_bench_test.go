package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/engines"
	"github.com/dockmap/dockmap/internal/topology"
)

// scalePerEngineEnv sets how many containers BenchmarkEngines5000 makes
// on each of its 5 lab engines (1,000 unless set), for a machine where
// 5,000 do not fit.
const scalePerEngineEnv = "DOCKMAP_BENCH_PER_ENGINE"

// labContainersParallel makes n stopped containers on each lab engine,
// several creates at a time on each: one at a time, 5,000 creates take
// longer than the lab's engines need to answer them.
func labContainersParallel(b *testing.B, lab *dockertest.LabEngines, image string, n, workers int) [][]string {
	b.Helper()
	ids := make([][]string, len(lab.Hosts))
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for i, host := range lab.Hosts {
		dc, err := docker.New(docker.WithHost(host))
		if err != nil {
			b.Fatal(err)
		}
		defer dc.Close()
		ids[i] = make([]string, n)
		var next atomic.Int64
		for range workers {
			wg.Go(func() {
				for j := int(next.Add(1) - 1); j < n; j = int(next.Add(1) - 1) {
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
					id, err := dc.CreateContainer(ctx, docker.ContainerSpec{Name: fmt.Sprintf("scale%d-%04d", i+1, j), Image: image,
						Cmd: []string{"sleep", "3600"}, Labels: dockertest.Labels()})
					cancel()
					if err != nil {
						mu.Lock()
						firstErr = firstOf(firstErr, fmt.Errorf("lab%d: create %d: %w", i+1, j, err))
						mu.Unlock()
						return
					}
					ids[i][j] = id
				}
			})
		}
	}
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	return ids
}

func firstOf(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// metricSum is the sum of the values of the Prometheus samples on
// dockmap's /metrics whose line starts with prefix (a metric name and,
// optionally, the start of its labels).
func (p *dockmapProcess) metricSum(tb testing.TB, prefix string) float64 {
	tb.Helper()
	resp, err := http.Get(p.base + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("/metrics: HTTP %d", resp.StatusCode)
	}
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			tb.Fatalf("/metrics line %q: %v", line, err)
		}
		sum += v
	}
	return sum
}

// countingConn counts the bytes read from a connection: what the
// snapshot costs on the wire, compressed or not.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// snapshotOnce dials /live (offering permessage-deflate when compress)
// and returns the time from the dial to the snapshot decoded, the bytes
// read off the socket by then, the snapshot's own (uncompressed) length,
// its node count, and whether the server agreed to compress.
func snapshotOnce(tb testing.TB, base string, compress bool) (time.Duration, int64, int, int, bool) {
	tb.Helper()
	var wire atomic.Int64
	d := websocket.Dialer{EnableCompression: compress, HandshakeTimeout: time.Minute,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return countingConn{c, &wire}, nil
		}}
	t0 := time.Now()
	ws, resp, err := d.Dial("ws"+strings.TrimPrefix(base, "http")+"/live", http.Header{"Origin": {base}})
	if err != nil {
		tb.Fatalf("dial /live: %v", err)
	}
	defer ws.Close()
	ws.SetReadLimit(-1)
	_, data, err := ws.ReadMessage()
	if err != nil {
		tb.Fatalf("read the snapshot: %v", err)
	}
	var f struct {
		Type string `json:"type"`
		topology.Snapshot
	}
	if err := json.Unmarshal(data, &f); err != nil || f.Type != "snapshot" {
		tb.Fatalf("first frame: type %q, %v", f.Type, err)
	}
	took := time.Since(t0)
	deflate := strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate")
	return took, wire.Load(), len(data), len(f.Nodes), deflate
}

// BenchmarkEngines5000 is issue 14's usable size on the user's path: 5
// lab engines of 1,000 created (not started) containers each beside the
// local one, dockmap built and run in its own process. It measures the
// cold start (from the process's start to every engine listed, so the map
// holds all 5,000), the snapshot a browser gets on /live (its size raw
// and on the wire with permessage-deflate, and the time from dial to
// decoded, on loopback), and a re-list: a container started on one
// engine, from the start call to its delta on /live, and what the
// re-list of that engine's 1,000 containers took (dockmap's own
// dockmap_relist_duration_seconds). Making the containers takes minutes;
// run it with -benchtime 2x -timeout 60m.
func BenchmarkEngines5000(b *testing.B) {
	const nEngines = 5
	perEngine := 1000
	if v := os.Getenv(scalePerEngineEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("%s=%q: want a count", scalePerEngineEnv, v)
		}
		perEngine = n
	}
	total := nEngines * perEngine
	image := dockertest.FixtureImage(b)
	lab := dockertest.Lab(b, nEngines, false)
	lab.Load(b, image)
	t0 := time.Now()
	ids := labContainersParallel(b, lab, image, perEngine, 6)
	b.Logf("%d containers made in %s", total, time.Since(t0).Round(time.Second))
	var args []string
	for i, h := range lab.Hosts {
		args = append(args, "--engine", fmt.Sprintf("lab%d=%s", i+1, h))
	}

	// listed is how many lab engines dockmap has listed at least once.
	listed := func(p *dockmapProcess) int {
		n := 0
		for i := range nEngines {
			if p.metricSum(b, fmt.Sprintf(`dockmap_relists_total{engine="lab%d",result="ok"}`, i+1)) > 0 {
				n++
			}
		}
		return n
	}
	labNodes := func(p *dockmapProcess) int {
		n := 0
		for _, node := range p.graph(b).Nodes {
			if node.Container != nil && node.Engine != engines.Local {
				n++
			}
		}
		return n
	}
	var cold []time.Duration
	var p *dockmapProcess
	for b.Loop() {
		if p != nil {
			_ = p.cmd.Process.Signal(os.Interrupt)
			_ = p.cmd.Wait()
		}
		p = startProcess(b, args...)
		// /metrics, not /api/graph, is polled until every engine has been
		// listed: a graph of 5,000 nodes every 50 ms would load the
		// process being measured. The merged map follows its members a
		// moment later (live.Union).
		waitFor(b, "every lab engine listed", func() bool { return listed(p) == nEngines })
		waitFor(b, "all lab containers on the map", func() bool { return labNodes(p) >= total })
		cold = append(cold, time.Since(p.started))
	}
	b.ReportMetric(ms(median(cold)), "p50-ms-cold-start")
	b.ReportMetric(float64(p.rss(b))/(1<<20), "MiB-rss-total")

	// The snapshot, as a browser gets it.
	var raw, deflated []time.Duration
	var rawLen int
	var wireRaw, wireDeflate int64
	for range 3 {
		took, wire, n, nodes, deflate := snapshotOnce(b, p.base, false)
		if deflate || nodes < total {
			b.Fatalf("plain client: deflate %v, %d nodes", deflate, nodes)
		}
		raw, rawLen, wireRaw = append(raw, took), n, wire
		took, wire, _, _, deflate = snapshotOnce(b, p.base, true)
		if deflate {
			deflated, wireDeflate = append(deflated, took), wire
		}
	}
	b.ReportMetric(float64(rawLen)/1024, "KiB-snapshot")
	b.ReportMetric(float64(wireRaw)/1024, "KiB-wire-plain")
	b.ReportMetric(ms(median(raw)), "p50-ms-snapshot-plain")
	if len(deflated) > 0 {
		b.ReportMetric(float64(wireDeflate)/1024, "KiB-wire-deflate")
		b.ReportMetric(ms(median(deflated)), "p50-ms-snapshot-deflate")
	}

	// A re-list: one container started on lab1 at a time, its delta
	// awaited on /live.
	deltas := p.watchDeltas(b)
	dc := labClient(b, lab.Hosts[0])
	relistSum := func() (float64, float64) {
		return p.metricSum(b, `dockmap_relist_duration_seconds_sum{engine="lab1"}`),
			p.metricSum(b, `dockmap_relist_duration_seconds_count{engine="lab1"}`)
	}
	const rounds = 8
	// Killed before the lab goes down: an engine stopping waits out each
	// running container's stop timeout, and `engines down` of 5,000
	// containers has little time to spare (dockertest's 3 minutes).
	b.Cleanup(func() {
		for r := range rounds {
			_ = dc.StopContainer(context.Background(), ids[0][r], 0)
		}
	})
	var toLive []time.Duration
	sum0, count0 := relistSum()
	for r := range rounds {
		id := topology.ContainerNodeID(ids[0][r] + "@lab1")
		t0 := time.Now()
		if err := dc.StartContainer(context.Background(), ids[0][r]); err != nil {
			b.Fatal(err)
		}
		timeout := time.After(waitTimeout)
	wait:
		for {
			select {
			case d, ok := <-deltas:
				if !ok {
					b.Fatal("/live closed")
				}
				for _, n := range d.ChangedNodes {
					if n.ID == id && n.Container.Running() {
						break wait
					}
				}
			case <-timeout:
				b.Fatalf("no delta with %s running", id)
			}
		}
		toLive = append(toLive, time.Since(t0))
	}
	sum1, count1 := relistSum()
	b.ReportMetric(ms(median(toLive)), "p50-ms-start-to-live")
	if count1 > count0 {
		b.ReportMetric((sum1-sum0)/(count1-count0)*1000, "mean-ms-relist-1-engine")
	}
	// The engine's part of a re-list: the same list from this process,
	// its inspections cached after the first, as dockmap's are; what is
	// left of the re-list is dockmap's Build and Diff.
	var lists []time.Duration
	for i := range 6 {
		t0 := time.Now()
		if _, err := dc.ListInventory(context.Background()); err != nil {
			b.Fatal(err)
		}
		if i > 0 {
			lists = append(lists, time.Since(t0))
		}
	}
	b.ReportMetric(ms(median(lists)), "p50-ms-engine-list-1-engine")
}
