package live_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/live"
	"github.com/dockmap/dockmap/internal/topology"
)

// runLive starts a Live on the given client and waits for its first list.
func runLive(t testing.TB, c *docker.Client) (*live.Live, *hub.Hub) {
	t.Helper()
	h := hub.New(4096)
	l := live.New(c, h, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case <-l.Synced():
	case <-time.After(30 * time.Second):
		t.Fatal("live never listed the engine")
	}
	return l, h
}

// proxied returns a client that reaches the engine through a proxy the
// test can cut, and the proxy.
func proxied(t testing.TB) (*docker.Client, *dockertest.Proxy) {
	t.Helper()
	dockertest.Client(t) // the real engine must answer first
	p := dockertest.StartProxy(t)
	via, err := docker.New(docker.WithHost(p.Host))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { via.Close() })
	return via, p
}

// ours keeps the nodes and edges that touch the given containers, so tests
// ignore whatever else runs on the shared engine.
func ours(g topology.Graph, ids map[string]bool) topology.Graph {
	var out topology.Graph
	keep := map[topology.NodeID]bool{}
	for id := range ids {
		keep[topology.ContainerNodeID(id)] = true
	}
	for _, e := range g.Edges {
		if keep[e.From] {
			out.Edges = append(out.Edges, e)
		}
	}
	for _, n := range g.Nodes {
		if keep[n.ID] {
			out.Nodes = append(out.Nodes, n)
		}
	}
	return out
}

func TestSceneAppearsLive(t *testing.T) {
	c := dockertest.Client(t)
	l, _ := runLive(t, c)

	netName := dockertest.UniqueName(t, "net")
	netID := dockertest.CreateNetwork(t, c, netName)
	vol := dockertest.CreateVolume(t, c, dockertest.UniqueName(t, "vol"))
	db := dockertest.RunContainer(t, c, dockertest.WithName(dockertest.UniqueName(t, "database")))
	dbName := nameOf(t, l, db)
	web := dockertest.RunContainer(t, c, dockertest.WithName(dockertest.UniqueName(t, "web")),
		dockertest.WithLink(dbName, "database"),
		dockertest.WithMount(docker.MountSpec{Type: "volume", Source: vol, Target: "/data"}))
	api := dockertest.RunContainer(t, c, dockertest.WithNetwork(netName))

	wantEdges := []topology.EdgeID{
		topology.EdgeID("l:" + web + ">" + db + ":database"),
		topology.EdgeID("mt:" + web + ">v:" + vol + ":/data"),
		topology.EdgeID("m:" + api + "@" + netID),
	}
	dockertest.WaitFor(t, 10*time.Second, func() (bool, string) {
		g := l.Snapshot().Graph
		var missing []topology.EdgeID
		for _, id := range wantEdges {
			if !slices.ContainsFunc(g.Edges, func(e topology.Edge) bool { return e.ID == id }) {
				missing = append(missing, id)
			}
		}
		return len(missing) == 0, fmt.Sprintf("edges missing from the live graph: %v", missing)
	})
	g := l.Snapshot().Graph
	if n, ok := g.Node(topology.NetworkNodeID(netID)); !ok || n.Label != netName {
		t.Errorf("network node = %+v (found %v), want label %q", n, ok, netName)
	}
	if n, ok := g.Node(topology.VolumeNodeID(vol)); !ok || n.Volume.Anonymous {
		t.Errorf("volume node = %+v (found %v), want a named volume", n, ok)
	}
}

func nameOf(t *testing.T, l *live.Live, id string) string {
	t.Helper()
	var name string
	dockertest.WaitFor(t, 10*time.Second, func() (bool, string) {
		n, ok := l.Snapshot().Graph.Node(topology.ContainerNodeID(id))
		if ok {
			name = n.Label
		}
		return ok, "container " + id + " not in the live graph"
	})
	return name
}

// TestFiftyConcurrentContainersConverge creates 50 containers at once and
// checks that the live graph ends up exactly as a fresh list says.
func TestFiftyConcurrentContainersConverge(t *testing.T) {
	c := dockertest.Client(t)
	image := dockertest.FixtureImage(t)
	l, _ := runLive(t, c)

	const n = 50
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			ids[i], errs[i] = c.CreateContainer(ctx, docker.ContainerSpec{
				Name: dockertest.UniqueName(t, fmt.Sprint("burst", i)), Image: image,
				Cmd: []string{"sleep", "3600"}, Labels: dockertest.Labels(),
			})
			if errs[i] == nil {
				errs[i] = c.StartContainer(ctx, ids[i])
			}
		}()
	}
	wg.Wait()
	mine := map[string]bool{}
	for i := range n {
		if ids[i] != "" {
			dockertest.TrackContainer(t, c, ids[i])
			mine[ids[i]] = true
		}
		if errs[i] != nil {
			t.Fatalf("container %d: %v", i, errs[i])
		}
	}

	var diff string
	dockertest.WaitFor(t, 20*time.Second, func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		inv, err := c.ListInventory(ctx)
		if err != nil {
			return false, err.Error()
		}
		want := ours(topology.Build(inv), mine)
		got := ours(l.Snapshot().Graph, mine)
		diff = cmp.Diff(want, got)
		running := 0
		for _, nd := range got.Nodes {
			if nd.Container.Running() {
				running++
			}
		}
		return diff == "" && running == n, fmt.Sprintf("%d of %d running in the live graph; live vs engine (-want +got):\n%s", running, n, diff)
	})
}

// TestEngineCutAndRestore puts a proxy between dockmap and the engine, cuts
// it, changes the engine behind dockmap's back, and restores it.
func TestEngineCutAndRestore(t *testing.T) {
	real := dockertest.Client(t)
	via, p := proxied(t)
	l, h := runLive(t, via)
	sub := h.Subscribe(t.Context())
	if !l.Engine().Connected {
		t.Fatalf("engine = %+v, want connected", l.Engine())
	}

	p.Cut()
	dockertest.WaitFor(t, 10*time.Second, func() (bool, string) {
		e := l.Engine()
		return !e.Connected && e.LastError != "", fmt.Sprintf("engine state %+v, want disconnected with a reason", e)
	})
	if !waitEngineFrame(t, sub, false) {
		t.Fatal("no engine message saying disconnected")
	}

	// While dockmap is cut off, the engine changes; events for it are lost
	// to dockmap for good.
	id := dockertest.RunContainer(t, real)

	p.Restore()
	dockertest.WaitFor(t, 15*time.Second, func() (bool, string) {
		_, ok := l.Snapshot().Graph.Node(topology.ContainerNodeID(id))
		return l.Engine().Connected && ok, fmt.Sprintf("connected=%v, container present=%v", l.Engine().Connected, ok)
	})
	if !waitEngineFrame(t, sub, true) {
		t.Fatal("no engine message saying connected again")
	}
}

func waitEngineFrame(t *testing.T, sub *hub.Subscription, connected bool) bool {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case m, ok := <-sub.C():
			if !ok {
				t.Fatalf("subscription ended: %v", sub.Err())
			}
			if m.Type != "engine" {
				continue
			}
			var fr struct {
				Engine topology.EngineState `json:"engine"`
			}
			if err := json.Unmarshal(m.Data, &fr); err != nil {
				t.Fatal(err)
			}
			if fr.Engine.Connected == connected {
				return true
			}
		case <-timeout:
			return false
		}
	}
}

// TestIdleMakesNoCalls checks that a synced dockmap sends the engine nothing
// while nothing happens: the event stream is the only open request.
func TestIdleMakesNoCalls(t *testing.T) {
	via, p := proxied(t)
	runLive(t, via)
	// Other packages' tests share the engine and may cause events (and so
	// honest re-lists); count only calls that are not re-lists of events.
	time.Sleep(500 * time.Millisecond)
	before := p.Paths()
	time.Sleep(3 * time.Second)
	after := p.Paths()[len(before):]
	for _, call := range after {
		if !isRelistCall(call) {
			t.Errorf("idle call to the engine: %s", call)
		}
	}
}

// isRelistCall recognises the calls a re-list makes (after an event).
func isRelistCall(call string) bool {
	for _, suffix := range []string{"/containers/json", "/networks", "/volumes"} {
		if len(call) >= len(suffix) && call[len(call)-len(suffix):] == suffix {
			return true
		}
	}
	return slices.Contains([]string{"GET /containers/json"}, call) || containsInspect(call)
}

func containsInspect(call string) bool {
	return len(call) > 5 && call[len(call)-5:] == "/json"
}

// BenchmarkIdleCalls counts the engine API calls a synced dockmap makes in
// one minute with nothing happening (budget: 0). Each op is one minute; run
// it with -benchtime=1x. Calls caused by other users of the engine (which
// trigger honest re-lists) are not told apart here, so run it on a quiet
// engine.
func BenchmarkIdleCalls(b *testing.B) {
	via, p := proxied(b)
	runLive(b, via)
	time.Sleep(time.Second)
	var calls int64
	for b.Loop() {
		before := p.Calls()
		time.Sleep(time.Minute)
		calls += p.Calls() - before
	}
	b.ReportMetric(float64(calls)/float64(b.N), "calls/idle-minute")
}
