package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/live"
	"github.com/dockmap/dockmap/internal/probe"
	"github.com/dockmap/dockmap/internal/server"
	"github.com/dockmap/dockmap/internal/topology"
)

// The tests whose point is the server's own behaviour (who may call what,
// the WebSocket's limits, the route table, what is audited, input refused
// before any engine call) run on fakeEngine instead of the real engine:
// they need no engine, and on an engine that other work keeps busy each
// full list takes seconds, which made them slow and, past their
// deadlines, flaky. The tests whose point is what the engine does stay on
// it (startSynced, proxiedServerWith).

// fakeEngine is the engine that is not there. It stands in at the two
// seams the server has on the engine side: live.Source, under the real
// live.Live and hub (so the live protocol's order and seq are the real
// code's), and the server's engine dependencies (Engine, Recreator,
// Networks, Volumes, Prober).
//
// It lists a fixed inventory (fakeInventory, or what setInventory gives)
// and sends no events. Every engine call a request makes is recorded;
// reads answer empty, and anything that would change the engine or exec
// into a container answers errNoEngine and fails the test at cleanup (a
// test on the fake must not need the engine), unless the test accepted
// that change beforehand.
type fakeEngine struct {
	mu       sync.Mutex // protects the fields below
	inv      topology.Inventory
	calls    []string
	accepted []string // changes answered with success (accept)
}

// errNoEngine is what the fake answers an engine change with.
var errNoEngine = errors.New("fake engine: a change reached the engine")

// fakeReads are the engine calls that change nothing; every other
// recorded call would.
var fakeReads = []string{"ListImages", "InspectNetwork", "PreviewRecreate", "Leftovers", "VolumeUsage"}

var (
	_ live.Source      = (*fakeEngine)(nil)
	_ server.Engine    = (*fakeEngine)(nil)
	_ server.Recreator = (*fakeEngine)(nil)
	_ server.Networker = (*fakeEngine)(nil)
	_ server.Volumes   = (*fakeEngine)(nil)
	_ server.Prober    = (*fakeEngine)(nil)
)

// IDs of the objects in fakeInventory: full 64-character IDs, as the
// engine gives them.
var (
	fakeWebID    = strings.Repeat("1", 64)
	fakeDBID     = strings.Repeat("2", 64)
	fakeBridgeID = strings.Repeat("b", 64)
	fakeAppnetID = strings.Repeat("a", 64)
)

// Names in fakeInventory.
const (
	fakeWebName    = "web"      // running on the default bridge, mounts fakeVolume
	fakeDBName     = "db"       // running on the default bridge
	fakeHostName   = "hosty"    // network mode host
	fakeNoneName   = "lonely"   // network mode none
	fakeSharedName = "shared"   // network mode container:web
	fakeAppnet     = "appnet"   // a user network on 10.42.0.0/24, nobody on it
	fakeVolume     = "data"     // a local volume
	fakeAppnetNet  = "10.42.0." // fakeAppnet's addresses
)

// fakeInventory is a small engine with a container in each network mode
// the rules treat apart, a user network with a subnet and a volume: enough
// for every refusal the bad-input tables ask about.
func fakeInventory() topology.Inventory {
	hostID, noneID := strings.Repeat("c", 64), strings.Repeat("d", 64)
	ctr := func(id, name, mode string, eps ...topology.Endpoint) topology.Container {
		return topology.Container{ID: id, Name: name, Names: []string{name}, Image: "busybox", State: "running", Status: "Up 1 minute",
			NetworkMode: mode, Endpoints: eps}
	}
	bridge := func(ip string) topology.Endpoint {
		return topology.Endpoint{NetworkID: fakeBridgeID, NetworkName: "bridge", IP: ip, PrefixLen: 16, Gateway: "172.17.0.1"}
	}
	web := ctr(fakeWebID, fakeWebName, "bridge", bridge("172.17.0.2"))
	web.Mounts = []topology.Mount{{Type: "volume", Name: fakeVolume, Destination: "/data", Driver: "local", RW: true}}
	return topology.Inventory{
		Networks: []topology.Network{
			{ID: fakeBridgeID, Name: "bridge", Driver: "bridge", Scope: "local", Default: true, ICC: true,
				Subnets: []topology.Subnet{{Subnet: "172.17.0.0/16", Gateway: "172.17.0.1"}}},
			{ID: hostID, Name: "host", Driver: "host", Scope: "local"},
			{ID: noneID, Name: "none", Driver: "null", Scope: "local"},
			{ID: fakeAppnetID, Name: fakeAppnet, Driver: "bridge", Scope: "local", ICC: true,
				Subnets: []topology.Subnet{{Subnet: fakeAppnetNet + "0/24", Gateway: fakeAppnetNet + "1"}}},
		},
		Containers: []topology.Container{
			web,
			ctr(fakeDBID, fakeDBName, "bridge", bridge("172.17.0.3")),
			ctr(strings.Repeat("3", 64), fakeHostName, "host", topology.Endpoint{NetworkID: hostID, NetworkName: "host"}),
			ctr(strings.Repeat("4", 64), fakeNoneName, "none", topology.Endpoint{NetworkID: noneID, NetworkName: "none"}),
			ctr(strings.Repeat("5", 64), fakeSharedName, "container:"+fakeWebID),
		},
		Volumes: []topology.Volume{{Name: fakeVolume, Driver: "local"}},
	}
}

// setInventory changes what the fake lists; live.Refresh (or Sync) makes
// the map take it.
func (f *fakeEngine) setInventory(inv topology.Inventory) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inv = inv
}

func (f *fakeEngine) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

// change records a call that would change the engine and answers
// errNoEngine, unless the test accepted it.
func (f *fakeEngine) change(call string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	if slices.Contains(f.accepted, call) {
		return nil
	}
	return errNoEngine
}

// accept makes the named changes succeed (doing nothing) and keeps them
// out of changes: for a test whose point is what the server does once
// the engine has done as asked, such as recording it.
func (f *fakeEngine) accept(calls ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accepted = append(f.accepted, calls...)
}

// mark is how many calls were recorded so far, for callsSince.
func (f *fakeEngine) mark() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// callsSince returns the engine calls recorded after mark.
func (f *fakeEngine) callsSince(mark int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls[mark:]...)
}

// changes returns the recorded calls that would have changed the engine,
// but those the test accepted.
func (f *fakeEngine) changes() []string {
	f.mu.Lock()
	accepted := f.accepted
	f.mu.Unlock()
	var out []string
	for _, c := range f.callsSince(0) {
		if !slices.Contains(fakeReads, c) && !slices.Contains(accepted, c) {
			out = append(out, c)
		}
	}
	return out
}

// live.Source: what the map lists.

func (f *fakeEngine) ListInventory(context.Context) (topology.Inventory, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.inv, nil
}

// WatchEvents sends nothing: the tests change the map with setInventory
// and Refresh, or publish on the hub themselves.
func (f *fakeEngine) WatchEvents(ctx context.Context, _ time.Time, _ func(docker.Event)) error {
	<-ctx.Done()
	return ctx.Err()
}

func (f *fakeEngine) Version(context.Context) (string, string, error) { return "fake", "1.41", nil }

// Reads answer empty.

func (f *fakeEngine) ListImages(context.Context) ([]docker.Image, error) {
	f.record("ListImages")
	return nil, nil
}

func (f *fakeEngine) InspectNetwork(context.Context, string) (docker.NetworkDetail, error) {
	f.record("InspectNetwork")
	return docker.NetworkDetail{}, nil
}

func (f *fakeEngine) PreviewRecreate(context.Context, string) (docker.RecreatePreview, error) {
	f.record("PreviewRecreate")
	return docker.RecreatePreview{}, nil
}

func (f *fakeEngine) Leftovers(context.Context) ([]docker.Leftover, error) {
	f.record("Leftovers")
	return nil, nil
}

func (f *fakeEngine) VolumeUsage(context.Context, string) (docker.VolumeUsage, error) {
	f.record("VolumeUsage")
	return docker.VolumeUsage{}, nil
}

// Busy is the adapter's in-process lock, not an engine call: no
// re-create ever runs on the fake.
func (f *fakeEngine) Busy(string) bool { return false }

// Changes are refused and recorded.

func (f *fakeEngine) RunContainer(context.Context, docker.RunSpec) (string, error) {
	return "", f.change("RunContainer")
}

func (f *fakeEngine) StartContainer(context.Context, string) error {
	return f.change("StartContainer")
}

func (f *fakeEngine) StopContainer(context.Context, string, time.Duration) error {
	return f.change("StopContainer")
}

func (f *fakeEngine) RestartContainer(context.Context, string, time.Duration) error {
	return f.change("RestartContainer")
}

func (f *fakeEngine) RemoveContainer(context.Context, string, bool) error {
	return f.change("RemoveContainer")
}

func (f *fakeEngine) PullImage(context.Context, string, func(docker.PullProgress)) error {
	return f.change("PullImage")
}

func (f *fakeEngine) PrepareRecreate(context.Context, []docker.RecreateOrder, docker.RecreateOptions) (*docker.Recreation, error) {
	return nil, f.change("PrepareRecreate")
}

func (f *fakeEngine) SetEndpointLinks(context.Context, string, string, []string, docker.Expectation, string, func(docker.Step)) error {
	return f.change("SetEndpointLinks")
}

func (f *fakeEngine) Unlink(context.Context, string, string) error {
	return f.change("Unlink")
}

func (f *fakeEngine) RollbackLeftover(context.Context, string) error {
	return f.change("RollbackLeftover")
}

func (f *fakeEngine) FinishLeftover(context.Context, string) error {
	return f.change("FinishLeftover")
}

func (f *fakeEngine) CreateBridgeNetwork(context.Context, docker.NetworkCreate) (string, error) {
	return "", f.change("CreateBridgeNetwork")
}

func (f *fakeEngine) Attach(context.Context, string, string, []string, string) error {
	return f.change("Attach")
}

func (f *fakeEngine) Detach(context.Context, string, string) error {
	return f.change("Detach")
}

func (f *fakeEngine) RemoveNetwork(context.Context, string) error {
	return f.change("RemoveNetwork")
}

func (f *fakeEngine) CreateNamedVolume(context.Context, string, map[string]string) error {
	return f.change("CreateNamedVolume")
}

func (f *fakeEngine) RemoveVolume(context.Context, string) error {
	return f.change("RemoveVolume")
}

func (f *fakeEngine) ShareTest(context.Context, string, []docker.ShareMount, func(docker.ShareResult)) ([]docker.ShareResult, error) {
	return nil, f.change("ShareTest")
}

// Run is the prober's: a probe execs into a container.
func (f *fakeEngine) Run(_ context.Context, reqs []probe.Request) []probe.Result {
	err := f.change("Probe")
	out := make([]probe.Result, len(reqs))
	for i, r := range reqs {
		out[i] = probe.Result{From: r.From, To: r.To, By: r.By, Target: r.Target, Port: r.Port, OK: err == nil}
		if err != nil {
			out[i].Failure, out[i].Detail = "error", err.Error()
		}
	}
	return out
}

// startFaked runs the whole server, as startServer does, on a fakeEngine
// listing fakeInventory, and returns once the map shows it. The cleanup
// fails the test if a request asked the fake for a change the test did
// not accept.
func startFaked(t testing.TB, opts ...func(*server.Deps)) (*testServer, *fakeEngine) {
	t.Helper()
	f := &fakeEngine{inv: fakeInventory()}
	ts, _ := serveFaked(t, f, httptest.NewServer, opts...)
	return ts, f
}

// serveFaked is startFaked on f, served by newServer (httptest.NewServer or
// httptest.NewTLSServer).
func serveFaked(t testing.TB, f *fakeEngine, newServer func(http.Handler) *httptest.Server, opts ...func(*server.Deps)) (*testServer, *httptest.Server) {
	t.Helper()
	// Registered before serve's cleanup, so it runs after it: every
	// request has ended by then.
	t.Cleanup(func() {
		if c := f.changes(); len(c) != 0 {
			t.Errorf("requests asked the (fake) engine for %v: a test on the fake engine must change nothing", c)
		}
	})
	ts, srv := serve(t, f, func(*hub.Hub) (server.Prober, func()) { return f, func() {} }, newServer, opts...)
	// The fake lists at once; there is nothing to wait for but the
	// goroutine that asks.
	<-ts.Live.Synced()
	return ts, srv
}
