package docker_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/google/go-cmp/cmp"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/topology"
)

// sdkInspect asks the engine through the SDK itself, not through the code
// under test: it is the ground truth the listing is checked against. Only
// this package may import the SDK, so only its tests can do this.
func sdkInspect(t *testing.T, ids ...string) map[string]container.InspectResponse {
	t.Helper()
	api, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatalf("sdk client: %v", err)
	}
	defer api.Close()
	out := make(map[string]container.InspectResponse, len(ids))
	for _, id := range ids {
		info, err := api.ContainerInspect(t.Context(), id)
		if err != nil {
			t.Fatalf("sdk inspect %s: %v", id, err)
		}
		out[id] = info
	}
	return out
}

func mustList(t testing.TB, c *docker.Client) topology.Inventory {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	inv, err := c.ListInventory(ctx)
	if err != nil {
		t.Fatalf("ListInventory: %v", err)
	}
	return inv
}

// edgesFrom returns the graph's edges that start at one of ids, in ID order.
func edgesFrom(g topology.Graph, ids ...string) []topology.Edge {
	var out []topology.Edge
	for _, e := range g.Edges {
		for _, id := range ids {
			if e.From == topology.ContainerNodeID(id) {
				out = append(out, e)
				break
			}
		}
	}
	return out
}

func mustNode(t *testing.T, g topology.Graph, id topology.NodeID) topology.Node {
	t.Helper()
	n, ok := g.Node(id)
	if !ok {
		t.Fatalf("graph has no node %s", id)
	}
	return n
}

// scene is what TestListInventory builds: the three chapters of the
// tutorial in one engine.
type scene struct {
	userNet, userNetName string
	volume, bindDir      string

	database, web, webName string // web --link database:db, default bridge
	multi                  string // default bridge, then the user network with an alias
	onUser                 string // created on the user network, no alias
	nsByID, nsByName       string // --network container:<database id>, container:<web name>
	writer, reader         string // share volume (reader read-only); writer has a bind and an anonymous volume
	created, exited        string // never started; ran `true`
}

func (s scene) containers() []string {
	return []string{s.database, s.web, s.multi, s.onUser, s.nsByID, s.nsByName, s.writer, s.reader, s.created, s.exited}
}

const multiAlias = "api"

func buildScene(t *testing.T, c *docker.Client) scene {
	t.Helper()
	ctx := t.Context()
	var s scene
	s.userNetName = dockertest.UniqueName(t, "net")
	s.userNet = dockertest.CreateNetwork(t, c, s.userNetName)
	s.volume = dockertest.CreateVolume(t, c, "")
	s.bindDir = t.TempDir()

	// Chapter 1: a legacy link on the default bridge.
	dbName := dockertest.UniqueName(t, "database")
	s.database = dockertest.RunContainer(t, c, dockertest.WithName(dbName))
	s.webName = dockertest.UniqueName(t, "web")
	s.web = dockertest.RunContainer(t, c, dockertest.WithName(s.webName), dockertest.WithLink(dbName, "db"))

	// Chapter 2: a user-defined network, joined at create and after start.
	s.multi = dockertest.RunContainer(t, c)
	if err := c.ConnectNetwork(ctx, s.userNet, s.multi, []string{multiAlias}); err != nil {
		t.Fatalf("ConnectNetwork: %v", err)
	}
	s.onUser = dockertest.RunContainer(t, c, dockertest.WithNetwork(s.userNetName))
	s.nsByID = dockertest.RunContainer(t, c, dockertest.WithNetworkMode("container:"+s.database))
	s.nsByName = dockertest.RunContainer(t, c, dockertest.WithNetworkMode("container:"+s.webName))

	// Chapter 3: a shared named volume, a read-only bind and an anonymous volume.
	s.writer = dockertest.RunContainer(t, c,
		dockertest.WithMount(docker.MountSpec{Type: "volume", Source: s.volume, Target: "/data"}),
		dockertest.WithMount(docker.MountSpec{Type: "bind", Source: s.bindDir, Target: "/host", ReadOnly: true}),
		dockertest.WithMount(docker.MountSpec{Type: "volume", Target: "/scratch"}),
	)
	s.reader = dockertest.RunContainer(t, c,
		dockertest.WithMount(docker.MountSpec{Type: "volume", Source: s.volume, Target: "/data", ReadOnly: true}))

	s.created = dockertest.RunContainer(t, c, dockertest.Stopped())
	s.exited = dockertest.RunContainer(t, c, dockertest.WithCmd("true"))
	dockertest.WaitFor(t, 30*time.Second, func() (bool, string) {
		for _, ct := range mustList(t, c).Containers {
			if ct.ID == s.exited {
				return ct.State == "exited", "state " + ct.State
			}
		}
		return false, "not listed"
	})
	return s
}

// wantEdges derives the edges of the scene's containers from the engine's
// inspect answers, plus what the test itself set up (aliases, links,
// netns, mounts).
func wantEdges(s scene, info map[string]container.InspectResponse, aliases map[string]map[string][]string) []topology.Edge {
	var want []topology.Edge
	// A container never started names its networks but has no network ID
	// yet (engine 20.10); Build places it by the network's name.
	netIDs := map[string]string{}
	for _, id := range s.containers() {
		for name, ep := range info[id].NetworkSettings.Networks {
			if ep.NetworkID != "" {
				netIDs[name] = ep.NetworkID
			}
		}
	}
	for _, id := range s.containers() {
		from := topology.ContainerNodeID(id)
		for name, ep := range info[id].NetworkSettings.Networks {
			if ep.NetworkID == "" {
				ep.NetworkID = netIDs[name]
			}
			want = append(want, topology.Edge{
				ID: topology.EdgeID("m:" + id + "@" + ep.NetworkID), Kind: topology.EdgeMember,
				From: from, To: topology.NetworkNodeID(ep.NetworkID),
				Member: &topology.MemberInfo{
					NetworkName: name, NetworkID: ep.NetworkID, EndpointID: ep.EndpointID,
					IP: ep.IPAddress, PrefixLen: ep.IPPrefixLen, Gateway: ep.Gateway,
					IPv6: ep.GlobalIPv6Address, MAC: ep.MacAddress, Aliases: aliases[id][name],
				},
			})
		}
		for _, m := range info[id].Mounts {
			to := topology.VolumeNodeID(m.Name)
			if m.Type == "bind" {
				to = topology.BindNodeID(m.Source)
			}
			want = append(want, topology.Edge{
				ID: topology.EdgeID("mt:" + id + ">" + string(to) + ":" + m.Destination), Kind: topology.EdgeMount,
				From: from, To: to,
				Mount: &topology.MountInfo{Type: string(m.Type), Destination: m.Destination, ReadOnly: !m.RW, Mode: m.Mode},
			})
		}
	}
	want = append(want,
		topology.Edge{
			ID: topology.EdgeID("l:" + s.web + ">" + s.database + ":db"), Kind: topology.EdgeLink,
			From: topology.ContainerNodeID(s.web), To: topology.ContainerNodeID(s.database),
			Link: &topology.LinkInfo{Alias: "db"},
		},
		topology.Edge{
			ID: topology.EdgeID("ns:" + s.nsByID + ">" + s.database), Kind: topology.EdgeNetNS,
			From: topology.ContainerNodeID(s.nsByID), To: topology.ContainerNodeID(s.database),
		},
		topology.Edge{
			ID: topology.EdgeID("ns:" + s.nsByName + ">" + s.web), Kind: topology.EdgeNetNS,
			From: topology.ContainerNodeID(s.nsByName), To: topology.ContainerNodeID(s.web),
		},
	)
	slices.SortFunc(want, func(a, b topology.Edge) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return want
}

func TestListInventory(t *testing.T) {
	c := dockertest.Client(t)
	s := buildScene(t, c)
	info := sdkInspect(t, s.containers()...)
	g := topology.Build(mustList(t, c))

	t.Run("edges", func(t *testing.T) {
		// Only the user alias: API < 1.45 engines also report the short ID
		// (and hostname) in Aliases, which must not reach the graph.
		aliases := map[string]map[string][]string{s.multi: {s.userNetName: {multiAlias}}}
		want := wantEdges(s, info, aliases)
		if diff := cmp.Diff(want, edgesFrom(g, s.containers()...)); diff != "" {
			t.Errorf("edges of the scene's containers (-want +got):\n%s", diff)
		}
		t.Logf("engine aliases of %s on %s: %q (hostname %q)", s.multi[:12], s.userNetName,
			info[s.multi].NetworkSettings.Networks[s.userNetName].Aliases, info[s.multi].Config.Hostname)
	})

	t.Run("running endpoints are filled in", func(t *testing.T) {
		// wantEdges copies whatever inspect says; this checks inspect said
		// something, so an empty mapping cannot pass as equal.
		for _, id := range []string{s.database, s.web, s.multi, s.onUser} {
			for _, e := range g.EdgesOf(topology.ContainerNodeID(id)) {
				if e.Kind != topology.EdgeMember {
					continue
				}
				m := e.Member
				if m.IP == "" || m.MAC == "" || len(m.EndpointID) != 64 || m.PrefixLen == 0 || m.Gateway == "" {
					t.Errorf("member edge %s = %+v, want IP, MAC, EndpointID, PrefixLen and Gateway", e.ID, *m)
				}
			}
		}
		if n := len(edgesOfKind(g, s.multi, topology.EdgeMember)); n != 2 {
			t.Errorf("%s has %d member edges, want 2 (bridge and %s)", s.multi, n, s.userNetName)
		}
	})

	t.Run("container nodes", func(t *testing.T) {
		type view struct{ Name, State, Image, NetworkMode string }
		want := map[string]view{}
		got := map[string]view{}
		for _, id := range s.containers() {
			in := info[id]
			want[id] = view{strings.TrimPrefix(in.Name, "/"), wantState(id, s), dockertest.FixtureImage(t), string(in.HostConfig.NetworkMode)}
			ci := mustNode(t, g, topology.ContainerNodeID(id)).Container
			got[id] = view{ci.Name, ci.State, ci.Image, ci.NetworkMode}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("container nodes (-want +got):\n%s", diff)
		}
		t.Logf("NetworkMode as listed: by ID %q, by name %q", got[s.nsByID].NetworkMode, got[s.nsByName].NetworkMode)
	})

	t.Run("network nodes", func(t *testing.T) {
		user := mustNode(t, g, topology.NetworkNodeID(s.userNet)).Network
		if user.Name != s.userNetName || user.Driver != "bridge" || user.Default || !user.ICC || user.Labels[dockertest.Label] != "1" {
			t.Errorf("user network = %+v, want %s, bridge driver, not default, ICC on, test label", *user, s.userNetName)
		}
		var bridge *topology.NetworkInfo
		for _, n := range g.Nodes {
			if n.Kind == topology.KindNetwork && n.Network.Default {
				if bridge != nil {
					t.Errorf("two default networks: %s and %s", bridge.Name, n.Network.Name)
				}
				bridge = n.Network
			}
		}
		if bridge == nil || bridge.Name != "bridge" {
			t.Fatalf("default network = %+v, want the one named bridge", bridge)
		}
		if got := info[s.database].NetworkSettings.Networks["bridge"].NetworkID; bridge.ID != got {
			t.Errorf("default bridge ID = %s, want %s (database's network)", bridge.ID, got)
		}
	})

	t.Run("volume and bind nodes", func(t *testing.T) {
		var anon string
		for _, m := range info[s.writer].Mounts {
			if m.Destination == "/scratch" {
				anon = m.Name
			}
		}
		tests := []struct {
			id   topology.NodeID
			want topology.Node
		}{
			{topology.VolumeNodeID(s.volume), topology.Node{
				ID: topology.VolumeNodeID(s.volume), Kind: topology.KindVolume, Label: s.volume,
				Volume: &topology.VolumeInfo{Name: s.volume, Driver: "local", Anonymous: false, Labels: dockertest.Labels()},
			}},
			{topology.VolumeNodeID(anon), topology.Node{
				ID: topology.VolumeNodeID(anon), Kind: topology.KindVolume, Label: anon[:min(12, len(anon))],
				Volume: &topology.VolumeInfo{Name: anon, Driver: "local", Anonymous: true},
			}},
			{topology.BindNodeID(s.bindDir), topology.Node{
				ID: topology.BindNodeID(s.bindDir), Kind: topology.KindBind, Label: s.bindDir,
				Bind: &topology.BindInfo{Path: s.bindDir},
			}},
		}
		for _, tt := range tests {
			got := mustNode(t, g, tt.id)
			if got.Volume != nil {
				got.Volume.Mountpoint = "" // the engine's storage path
				if len(got.Volume.Labels) == 0 {
					got.Volume.Labels = nil
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("node %s (-want +got):\n%s", tt.id, diff)
			}
		}
	})

	// The alias cache is keyed by endpoint IDs: a reconnect with a new
	// alias must show the new alias, not the cached one.
	t.Run("aliases follow a reconnect", func(t *testing.T) {
		ctx := t.Context()
		if err := c.DisconnectNetwork(ctx, s.userNet, s.multi); err != nil {
			t.Fatalf("DisconnectNetwork: %v", err)
		}
		if n := len(edgesOfKind(topology.Build(mustList(t, c)), s.multi, topology.EdgeMember)); n != 1 {
			t.Errorf("after disconnect %s has %d member edges, want 1", s.multi, n)
		}
		if err := c.ConnectNetwork(ctx, s.userNet, s.multi, []string{"api2", "web-api"}); err != nil {
			t.Fatalf("ConnectNetwork: %v", err)
		}
		g := topology.Build(mustList(t, c))
		e, ok := findEdge(g, topology.EdgeID("m:"+s.multi+"@"+s.userNet))
		if !ok {
			t.Fatalf("no member edge for %s on %s after reconnect", s.multi, s.userNetName)
		}
		if want := []string{"api2", "web-api"}; !slices.Equal(e.Member.Aliases, want) {
			t.Errorf("Aliases after reconnect = %q, want %q", e.Member.Aliases, want)
		}
		if old := info[s.multi].NetworkSettings.Networks[s.userNetName].EndpointID; e.Member.EndpointID == old {
			t.Errorf("EndpointID after reconnect = old %s, want a new endpoint", old)
		}
	})
}

func wantState(id string, s scene) string {
	switch id {
	case s.created:
		return "created"
	case s.exited:
		return "exited"
	}
	return "running"
}

func edgesOfKind(g topology.Graph, id string, kind topology.EdgeKind) []topology.Edge {
	var out []topology.Edge
	for _, e := range g.EdgesOf(topology.ContainerNodeID(id)) {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func findEdge(g topology.Graph, id topology.EdgeID) (topology.Edge, bool) {
	for _, e := range g.Edges {
		if e.ID == id {
			return e, true
		}
	}
	return topology.Edge{}, false
}

// recorder collects the events a watch delivers.
type recorder struct {
	mu     sync.Mutex // protects events
	events []docker.Event
}

func (r *recorder) add(e docker.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

func (r *recorder) find(typ, action, id string) (docker.Event, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.Type == typ && e.Action == action && e.ID == id {
			return e, true
		}
	}
	return docker.Event{}, false
}

// watch runs WatchEvents in a goroutine until stop is called (or the test
// ends) and returns what it records; stop returns WatchEvents' error.
func watch(t *testing.T, c *docker.Client, since time.Time) (rec *recorder, stop func() error) {
	t.Helper()
	rec = &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.WatchEvents(ctx, since, rec.add) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-errc:
			case <-time.After(10 * time.Second):
				err = errors.New("WatchEvents did not return 10 s after cancel")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return rec, stop
}

func TestWatchEvents(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	dockertest.FixtureImage(t)

	t.Run("live", func(t *testing.T) {
		rec, stop := watch(t, c, time.Time{})
		// Without since, only events after the subscription arrive, and
		// WatchEvents says nothing when that happens: make volume events
		// until one arrives, then the stream is live.
		live := false
		for i := 0; i < 20 && !live; i++ {
			dockertest.CreateVolume(t, c, "")
			deadline := time.Now().Add(time.Second)
			for time.Now().Before(deadline) && !live {
				live = rec.len() > 0
				time.Sleep(20 * time.Millisecond)
			}
		}
		if !live {
			t.Fatal("no event within 20 volume creations; the watch never became live")
		}

		name := dockertest.UniqueName(t, "watched")
		id := dockertest.RunContainer(t, c, dockertest.WithName(name))
		dockertest.WaitFor(t, 10*time.Second, func() (bool, string) {
			_, ok := rec.find("container", "start", id)
			return ok, "no container start event for " + id
		})
		e, _ := rec.find("container", "start", id)
		if e.Name != name || e.Time.IsZero() || !e.ChangesTopology() {
			t.Errorf("start event = %+v, want Name %q, a time, ChangesTopology", e, name)
		}
		if err := stop(); !errors.Is(err, context.Canceled) {
			t.Errorf("WatchEvents after cancel = %v, want context.Canceled", err)
		}
	})

	t.Run("since replays", func(t *testing.T) {
		// The engine keeps only its last 256 events, of every kind and for
		// every client: on a shared, busy engine other tests can push the
		// create out of them before the watch asks. Each try makes a new
		// container; a since that replays nothing fails every try.
		const tries = 3
		for try := 1; ; try++ {
			// A second of slack for an engine clock a little behind ours;
			// the events are told apart by ID anyway.
			t0 := time.Now().Add(-time.Second)
			id := dockertest.RunContainer(t, c, dockertest.Stopped())
			rec, stop := watch(t, c, t0)
			e, ok := rec.find("container", "create", id)
			for deadline := time.Now().Add(10 * time.Second); !ok && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
				e, ok = rec.find("container", "create", id)
			}
			if !ok {
				if try == tries {
					t.Fatalf("no replayed container create event in %d tries (the last for %s)", tries, id)
				}
				t.Logf("try %d: no replayed create event for %s; the engine's event buffer may have been flooded", try, id)
				_ = stop()
				continue
			}
			if e.Time.Before(t0) {
				t.Errorf("replayed event time %v is before since %v", e.Time, t0)
			}
			if err := stop(); !errors.Is(err, context.Canceled) {
				t.Errorf("WatchEvents after cancel = %v, want context.Canceled", err)
			}
			return
		}
	})
}

func TestErrorTranslation(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	image := dockertest.FixtureImage(t)
	existing := dockertest.UniqueName(t, "existing")
	dockertest.RunContainer(t, c, dockertest.WithName(existing), dockertest.Stopped())
	// Running: the engine accepts connecting a stopped container to any
	// network name and only resolves it at start.
	runningID := dockertest.RunContainer(t, c)
	netName := dockertest.UniqueName(t, "net")
	dockertest.CreateNetwork(t, c, netName)
	onNet := dockertest.RunContainer(t, c, dockertest.WithNetwork(netName))
	vol := dockertest.CreateVolume(t, c, "")
	dockertest.RunContainer(t, c, dockertest.Stopped(),
		dockertest.WithMount(docker.MountSpec{Type: "volume", Source: vol, Target: "/data"}))
	missing := dockertest.UniqueName(t, "missing")

	// create makes a container through the code under test and, should the
	// engine accept it after all, removes it when the test ends.
	create := func(ctx context.Context, spec docker.ContainerSpec) error {
		spec.Labels = dockertest.Labels()
		id, err := c.CreateContainer(ctx, spec)
		if err == nil {
			dockertest.TrackContainer(t, c, id)
		}
		return err
	}
	tests := []struct {
		name string
		call func(ctx context.Context) error
		want error
	}{
		{"start missing container", func(ctx context.Context) error { return c.StartContainer(ctx, missing) }, topology.ErrNotFound},
		{"stop missing container", func(ctx context.Context) error { return c.StopContainer(ctx, missing, 0) }, topology.ErrNotFound},
		{"remove missing container", func(ctx context.Context) error { return c.RemoveContainer(ctx, missing, true) }, topology.ErrNotFound},
		{"remove missing network", func(ctx context.Context) error { return c.RemoveNetwork(ctx, missing) }, topology.ErrNotFound},
		{"remove missing volume", func(ctx context.Context) error { return c.RemoveVolume(ctx, missing) }, topology.ErrNotFound},
		{"connect to missing network", func(ctx context.Context) error { return c.ConnectNetwork(ctx, missing, runningID, nil) }, topology.ErrNotFound},
		{"create from missing image", func(ctx context.Context) error {
			return create(ctx, docker.ContainerSpec{Name: dockertest.UniqueName(t, "c"), Image: "dockmap-missing:" + missing})
		}, topology.ErrNotFound},
		{"duplicate container name", func(ctx context.Context) error {
			return create(ctx, docker.ContainerSpec{Name: existing, Image: image, Cmd: []string{"true"}})
		}, topology.ErrConflict},
		{"duplicate network name", func(ctx context.Context) error {
			id, err := c.CreateNetwork(ctx, docker.NetworkSpec{Name: netName, Labels: dockertest.Labels(), ICC: true})
			if err == nil {
				dockertest.TrackNetwork(t, c, id)
			}
			return err
		}, topology.ErrConflict},
		{"alias on the default bridge", func(ctx context.Context) error {
			return c.ConnectNetwork(ctx, "bridge", onNet, []string{"x"})
		}, topology.ErrInvalid},
		{"remove volume in use", func(ctx context.Context) error { return c.RemoveVolume(ctx, vol) }, topology.ErrConflict},
		{"invalid container name", func(ctx context.Context) error {
			return create(ctx, docker.ContainerSpec{Name: "bad name!", Image: image, Cmd: []string{"true"}})
		}, topology.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(t.Context())
			if !errors.Is(err, tt.want) {
				t.Errorf("error = %v, want one wrapping %q", err, tt.want)
			}
		})
	}

	t.Run("dead socket", func(t *testing.T) {
		dead, err := docker.New(docker.WithHost("unix:///nonexistent.sock"))
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		t.Cleanup(func() { _ = dead.Close() })
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		calls := []struct {
			name string
			call func() error
		}{
			{"Version", func() error { _, _, err := dead.Version(ctx); return err }},
			{"ListInventory", func() error { _, err := dead.ListInventory(ctx); return err }},
			{"WatchEvents", func() error { return dead.WatchEvents(ctx, time.Time{}, func(docker.Event) {}) }},
		}
		for _, tc := range calls {
			if err := tc.call(); !errors.Is(err, topology.ErrEngineUnreachable) {
				t.Errorf("%s on a dead socket = %v, want one wrapping %q", tc.name, err, topology.ErrEngineUnreachable)
			}
		}
		if ctx.Err() != nil {
			t.Errorf("calls on a dead socket took the whole timeout: %v", ctx.Err())
		}
	})
}

func TestEventChangesTopology(t *testing.T) {
	tests := []struct {
		typ, action string
		want        bool
	}{
		// The engine appends the command to exec actions (API 1.41).
		{"container", "exec_create: ping -c1 x", false},
		{"container", "exec_start: ping -c1 x", false},
		{"container", "exec_die", false},
		{"container", "attach", false},
		{"container", "resize", false},
		{"container", "create", true},
		{"container", "start", true},
		{"container", "die", true},
		{"container", "destroy", true},
		{"container", "rename", true},
		{"container", "health_status: healthy", true},
		{"network", "connect", true},
		{"network", "disconnect", true},
		{"volume", "mount", true},
		{"volume", "destroy", true},
	}
	for _, tt := range tests {
		e := docker.Event{Type: tt.typ, Action: tt.action}
		if got := e.ChangesTopology(); got != tt.want {
			t.Errorf("Event{%s %q}.ChangesTopology() = %v, want %v", tt.typ, tt.action, got, tt.want)
		}
		if got, want := e.IsExec(), strings.HasPrefix(tt.action, "exec_"); got != want {
			t.Errorf("Event{%s %q}.IsExec() = %v, want %v", tt.typ, tt.action, got, want)
		}
	}
}

// BenchmarkListInventory lists an engine holding 50 of our containers, a
// few of them on a user-defined network so that the alias cache is used.
// Run it with -benchtime=50x or so: each op is three real API calls.
func BenchmarkListInventory(b *testing.B) {
	c := dockertest.Client(b)
	net := dockertest.CreateNetwork(b, c, "")
	for i := range 50 {
		var opts []dockertest.ContainerOption
		if i%10 == 0 {
			opts = append(opts, dockertest.WithNetwork(net))
		}
		dockertest.RunContainer(b, c, opts...)
	}
	n := len(mustList(b, c).Containers) // fills the alias cache
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.ListInventory(b.Context()); err != nil {
			b.Fatalf("ListInventory: %v", err)
		}
	}
	b.ReportMetric(float64(n), "containers")
}
