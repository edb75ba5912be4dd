package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/engines"
	"github.com/dockmap/dockmap/internal/topology"
)

// dockmapProcess is dockmap run as a user runs it: the built binary, in a
// process of its own, so that its memory is its own.
type dockmapProcess struct {
	cmd  *exec.Cmd
	base string
	// started is when the process was started.
	started time.Time
}

// startProcess runs the dockmap binary with args on a free port and waits
// until it serves.
func startProcess(tb testing.TB, args ...string) *dockmapProcess {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(dockertest.DockmapBinary(tb), append([]string{"--addr", addr}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	p := &dockmapProcess{cmd: cmd, base: "http://" + addr, started: time.Now()}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	serving := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		once := sync.OnceFunc(func() { close(serving) })
		for sc.Scan() {
			if strings.Contains(sc.Text(), "serving http://") {
				once()
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case <-serving:
	case <-time.After(waitTimeout):
		tb.Fatalf("dockmap %v did not start serving", args)
	}
	return p
}

// watchDeltas dials the process's /live and returns the deltas it sends
// (the snapshot and other frames are skipped), closed when the connection
// ends; the connection closes when tb ends.
func (p *dockmapProcess) watchDeltas(tb testing.TB) <-chan topology.Delta {
	tb.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(p.base, "http")+"/live", http.Header{"Origin": {p.base}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ws.Close() })
	ws.SetReadLimit(-1)
	deltas := make(chan topology.Delta, 1024)
	go func() {
		defer close(deltas)
		for {
			var f struct {
				Type string `json:"type"`
				topology.Delta
			}
			if err := ws.ReadJSON(&f); err != nil {
				return
			}
			if f.Type == "delta" {
				deltas <- f.Delta
			}
		}
	}()
	return deltas
}

// rss is the process's resident memory, in bytes.
func (p *dockmapProcess) rss(tb testing.TB) int64 {
	tb.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	tb.Fatal("no VmRSS")
	return 0
}

// graph is the process's /api/graph.
func (p *dockmapProcess) graph(tb testing.TB) topology.Snapshot {
	tb.Helper()
	var s topology.Snapshot
	getJSONInto(tb, p.base+"/api/graph", &s)
	return s
}

// labContainers makes n stopped containers on each lab engine, the
// engines side by side, and returns each engine's IDs.
func labContainers(b *testing.B, lab *dockertest.LabEngines, image string, n int) [][]string {
	b.Helper()
	ids := make([][]string, len(lab.Hosts))
	errs := make([]error, len(lab.Hosts))
	var wg sync.WaitGroup
	for i, host := range lab.Hosts {
		wg.Go(func() {
			dc, err := docker.New(docker.WithHost(host))
			if err != nil {
				errs[i] = err
				return
			}
			defer dc.Close()
			for j := range n {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				id, err := dc.CreateContainer(ctx, docker.ContainerSpec{Name: fmt.Sprintf("bench%d-%03d", i+1, j), Image: image,
					Cmd: []string{"sleep", "3600"}, Labels: dockertest.Labels()})
				cancel()
				if err != nil {
					errs[i] = err
					return
				}
				ids[i] = append(ids[i], id)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			b.Fatalf("lab%d: %v", i+1, err)
		}
	}
	return ids
}

// BenchmarkEnginesAtScale measures dockmap with 5 lab engines of 200
// containers each (created, not started) beside the local one, built and
// run as a user does: the time from start to a map holding all 1,000
// (in total, and per engine to its first list), the memory each engine
// adds, and the time from a container's start on one engine to its delta
// on /live (per engine), also while another engine is stopped. Run it
// with -benchtime 3x; the lab takes minutes to fill.
func BenchmarkEnginesAtScale(b *testing.B) {
	const nEngines, perEngine = 5, 200
	image := dockertest.FixtureImage(b)
	lab := dockertest.Lab(b, nEngines, false)
	lab.Load(b, image)
	ids := labContainers(b, lab, image, perEngine)
	var args []string
	for i, h := range lab.Hosts {
		args = append(args, "--engine", fmt.Sprintf("lab%d=%s", i+1, h))
	}

	// The local engine alone, for the memory an engine adds.
	alone := startProcess(b)
	waitFor(b, "the local map", func() bool { return alone.graph(b).Seq > 0 || len(alone.graph(b).Nodes) > 0 })
	base := alone.rss(b)
	_ = alone.cmd.Process.Signal(os.Interrupt)

	var total []time.Duration
	perEngineStart := map[string][]time.Duration{}
	var p *dockmapProcess
	for b.Loop() {
		if p != nil {
			_ = p.cmd.Process.Signal(os.Interrupt)
			_ = p.cmd.Wait()
		}
		p = startProcess(b, args...)
		waitFor(b, "all 1,000 lab containers on the map", func() bool {
			n := 0
			for _, node := range p.graph(b).Nodes {
				if node.Container != nil && node.Engine != engines.Local {
					n++
				}
			}
			return n >= nEngines*perEngine
		})
		total = append(total, time.Since(p.started))
		var list []engines.State
		getJSONInto(b, p.base+"/api/engines", &list)
		for _, s := range list {
			if s.Name != engines.Local {
				perEngineStart[s.Name] = append(perEngineStart[s.Name], s.Since.Sub(p.started))
			}
		}
	}
	b.ReportMetric(ms(median(total)), "p50-ms-cold-start-1000")
	var firsts []time.Duration
	for _, l := range perEngineStart {
		firsts = append(firsts, median(l))
	}
	b.ReportMetric(ms(median(firsts)), "p50-ms-engine-first-list")
	b.ReportMetric(ms(slices.Max(firsts)), "max-ms-engine-first-list")
	time.Sleep(2 * time.Second) // settle: the first lists' garbage
	b.ReportMetric(float64(p.rss(b)-base)/nEngines/(1<<20), "MiB-rss-per-engine")
	b.ReportMetric(float64(p.rss(b))/(1<<20), "MiB-rss-total")

	// Event → /live, per engine: start one container at a time.
	deltas := p.watchDeltas(b)
	clients := make([]*docker.Client, nEngines)
	for i, h := range lab.Hosts {
		clients[i] = labClient(b, h)
	}
	// latency is the time from the start call to the delta, and from the
	// call's answer (the container runs, the engine's event is out) to
	// the delta: the first includes the lab engine's own container start,
	// slow on two cores shared by six engines.
	var afterStart []time.Duration
	latency := func(i, j int) time.Duration {
		id := topology.ContainerNodeID(ids[i][j] + "@" + fmt.Sprintf("lab%d", i+1))
		t0 := time.Now()
		if err := clients[i].StartContainer(context.Background(), ids[i][j]); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		defer func() { afterStart = append(afterStart, time.Since(t1)) }()
		timeout := time.After(waitTimeout)
		for {
			select {
			case d, ok := <-deltas:
				if !ok {
					b.Fatal("/live closed")
				}
				for _, n := range d.ChangedNodes {
					if n.ID == id && n.Container.Running() {
						return time.Since(t0)
					}
				}
			case <-timeout:
				b.Fatalf("no delta with %s running", id)
			}
		}
	}
	const rounds = 10
	var all []time.Duration
	lab1 := make([]time.Duration, 0, rounds)
	for r := range rounds {
		for i := range nEngines {
			d := latency(i, r)
			all = append(all, d)
			if i == 0 {
				lab1 = append(lab1, d)
			}
		}
	}
	b.ReportMetric(ms(median(afterStart)), "p50-ms-started-to-live")
	b.ReportMetric(ms(median(all)), "p50-ms-event-to-live")
	b.ReportMetric(ms(slices.Max(all)), "max-ms-event-to-live")
	b.ReportMetric(ms(median(lab1)), "p50-ms-event-to-live-lab1")
	lab.Stop(b, 2)
	defer lab.Start(b, 2)
	var stopped []time.Duration
	for r := range rounds {
		stopped = append(stopped, latency(0, rounds+r))
	}
	b.ReportMetric(ms(median(stopped)), "p50-ms-event-to-live-lab1-lab2-stopped")
}

// BenchmarkSwarmScaleToMap measures, on the lab's Swarm of 3 nodes with
// 20 services of 10 tasks (200 tasks), the time from a scale of one
// service from 10 to 20 through dockmap's API to the map showing its 20
// tasks running. Run it with -benchtime 3x.
func BenchmarkSwarmScaleToMap(b *testing.B) {
	image := dockertest.FixtureImage(b)
	lab := dockertest.Lab(b, 3, true)
	lab.Load(b, image)
	manager, err := docker.New(docker.WithHost(lab.Hosts[0]))
	if err != nil {
		b.Fatal(err)
	}
	defer manager.Close()
	ctx := context.Background()
	ovID, err := manager.CreateBridgeNetwork(ctx, docker.NetworkCreate{Name: "benchov", Driver: "overlay", Attachable: true, Labels: dockertest.Labels()})
	if err != nil {
		b.Fatal(err)
	}
	var svcs []string
	for i := range 20 {
		id, err := manager.CreateTestService(ctx, docker.TestService{Name: fmt.Sprintf("bsvc%02d", i), Image: image, Cmd: []string{"sleep", "3600"},
			Network: ovID, Replicas: 10, Labels: dockertest.Labels()})
		if err != nil {
			b.Fatal(err)
		}
		svcs = append(svcs, id)
	}
	var args []string
	for i, h := range lab.Hosts {
		args = append(args, "--engine", fmt.Sprintf("lab%d=%s", i+1, h))
	}
	p := startProcess(b, args...)
	running := func(svc string) int {
		n := 0
		for _, node := range p.graph(b).Nodes {
			if node.Task != nil && node.Task.ServiceID == svc && node.Task.State == "running" && node.Task.DesiredState == "running" {
				n++
			}
		}
		return n
	}
	waitForLong(b, "200 tasks running on the map", 10*time.Minute, func() bool {
		n := 0
		for _, s := range svcs {
			n += running(s)
		}
		return n == 200
	})
	// The manager's own word, polled beside the map: the Swarm's part
	// (scheduling, the engines' starts) against dockmap's (its readings).
	managerRunning := func(svc string) int {
		st, err := manager.Swarm(ctx)
		if err != nil {
			return -1
		}
		n := 0
		for _, t := range st.Tasks {
			if t.ServiceID == svc && t.State == "running" && t.DesiredState == "running" {
				n++
			}
		}
		return n
	}
	var samples, lags []time.Duration
	k := 0
	for b.Loop() {
		svc := svcs[k%len(svcs)]
		k++
		t0 := time.Now()
		if st := postJSON(b, p.base+"/api/services/"+svc+"/scale", `{"replicas":20}`); st != http.StatusOK {
			b.Fatalf("scale: HTTP %d", st)
		}
		var atManager time.Duration
		done := make(chan struct{})
		go func() {
			defer close(done)
			for managerRunning(svc) != 20 && time.Since(t0) < 5*time.Minute {
				time.Sleep(20 * time.Millisecond)
			}
			atManager = time.Since(t0)
		}()
		waitForLong(b, "20 tasks of the scaled service on the map", 5*time.Minute, func() bool { return running(svc) == 20 })
		onMap := time.Since(t0)
		<-done
		samples = append(samples, onMap)
		lags = append(lags, max(onMap-atManager, 0))
	}
	b.ReportMetric(ms(median(samples)), "p50-ms-scale-10-to-20-on-map")
	b.ReportMetric(ms(slices.Max(samples)), "max-ms-scale-10-to-20-on-map")
	b.ReportMetric(ms(median(lags)), "p50-ms-map-behind-manager")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func waitFor(b *testing.B, what string, cond func() bool) { waitForLong(b, what, 5*time.Minute, cond) }

func waitForLong(b *testing.B, what string, d time.Duration, cond func() bool) {
	b.Helper()
	waitWithin(b, d, what, func() (bool, string) { return cond(), "" })
}

// postJSON posts body to url with the same origin, as the page does.
func postJSON(b *testing.B, url, body string) int {
	b.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", strings.Join(strings.SplitN(url, "/", 4)[:3], "/"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}
