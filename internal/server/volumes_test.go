package server_test

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/job"
	"github.com/dockmap/dockmap/internal/probe"
	"github.com/dockmap/dockmap/internal/server"
	"github.com/dockmap/dockmap/internal/topology"
	"github.com/dockmap/dockmap/web"
)

// proxiedServerWith is proxiedServer with changed dependencies.
func proxiedServerWith(t *testing.T, opts ...func(*server.Deps)) (*testServer, *dockertest.Proxy, *docker.Client) {
	t.Helper()
	real := dockertest.Client(t)
	p := dockertest.StartProxy(t)
	via, err := docker.New(docker.WithHost(p.Host), docker.WithHelperBinary(dockertest.DockmapBinary(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { via.Close() })
	ts := startServer(t, via, opts...)
	select {
	case <-ts.Live.Synced():
	case <-time.After(30 * time.Second):
		t.Fatal("never synced")
	}
	return ts, p, real
}

// waitGraph waits until cond holds on the live graph.
func waitGraph(t *testing.T, ts *testServer, what string, cond func(g topology.Graph) bool) {
	t.Helper()
	dockertest.WaitFor(t, 20*time.Second, func() (bool, string) {
		return cond(ts.Live.Snapshot().Graph), what
	})
}

// hasMount reports whether g has container id mounting node to at dest.
func hasMount(g topology.Graph, id string, to topology.NodeID, dest string) bool {
	for _, e := range g.EdgesOf(topology.ContainerNodeID(id)) {
		if e.Kind == topology.EdgeMount && e.To == to && e.Mount.Destination == dest {
			return true
		}
	}
	return false
}

// cat reads a file in a running container through exec (argv, no shell).
func cat(t *testing.T, c *docker.Client, id, file string) string {
	t.Helper()
	res, err := c.Exec(t.Context(), id, []string{"cat", file}, "")
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("cat %s in %.12s: %v %+v", file, id, err, res)
	}
	return res.Stdout
}

// dangling lists the volumes no container mounts.
func dangling(t *testing.T, c *docker.Client) map[string]bool {
	t.Helper()
	inv, err := c.ListInventory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, ct := range inv.Containers {
		for _, m := range ct.Mounts {
			if m.Type == "volume" {
				used[m.Name] = true
			}
		}
	}
	out := map[string]bool{}
	for _, v := range inv.Volumes {
		if !used[v.Name] {
			out[v.Name] = true
		}
	}
	return out
}

// The chapter's acceptance on the real engine, through the JSON API:
// create a volume, share it between a writer and a read-only reader and
// prove it, mount it into a running web whose other data survives byte
// for byte, and give a new container web's volumes.
func TestVolumesShareMountAndVolumesFrom(t *testing.T) {
	ts, c := startSynced(t)

	// Create.
	shared := dockertest.UniqueName(t, "shared-data")
	r := call(t, ts.URL, "POST", "/api/volumes", map[string]any{"name": shared, "labels": dockertest.Labels()}, nil)
	if r.Status != http.StatusCreated || r.Body["name"] != shared {
		t.Fatalf("POST /api/volumes = %d %v, want 201 {name}", r.Status, r.Body)
	}
	dockertest.TrackVolume(t, c, shared)
	sharedID := topology.VolumeNodeID(shared)
	waitGraph(t, ts, "no volume node "+shared, func(g topology.Graph) bool { _, ok := g.Node(sharedID); return ok })
	if r := call(t, ts.URL, "POST", "/api/volumes", map[string]any{"name": shared}, nil); r.Status != http.StatusConflict {
		t.Errorf("POST /api/volumes again = %d %v, want 409", r.Status, r.Body)
	}

	// Writer and read-only reader; prove the sharing.
	writerName, readerName := dockertest.UniqueName(t, "writer"), dockertest.UniqueName(t, "reader")
	writer := dockertest.RunContainer(t, c, dockertest.WithName(writerName),
		dockertest.WithMount(docker.MountSpec{Type: "volume", Source: shared, Target: "/data"}))
	reader := dockertest.RunContainer(t, c, dockertest.WithName(readerName),
		dockertest.WithMount(docker.MountSpec{Type: "volume", Source: shared, Target: "/data", ReadOnly: true}))
	waitGraph(t, ts, "writer and reader not both running with their mounts", func(g topology.Graph) bool {
		w, _ := g.Node(topology.ContainerNodeID(writer))
		rd, _ := g.Node(topology.ContainerNodeID(reader))
		return w.Container != nil && w.Container.Running() && rd.Container != nil && rd.Container.Running() &&
			hasMount(g, writer, sharedID, "/data") && hasMount(g, reader, sharedID, "/data")
	})
	detail := call(t, ts.URL, "GET", "/api/volumes/"+shared, nil, nil)
	users, _ := detail.Body["users"].([]any)
	if detail.Status != http.StatusOK || detail.Body["driver"] != "local" || len(users) != 2 {
		t.Fatalf("GET /api/volumes/%s = %d %v, want local with two users", shared, detail.Status, detail.Body)
	}
	for _, u := range users {
		u := u.(map[string]any)
		if u["destination"] != "/data" || u["running"] != true || u["readOnly"] != (u["name"] == readerName) {
			t.Errorf("user %v, want /data, running, read-only only for the reader", u)
		}
	}
	if u := call(t, ts.URL, "GET", "/api/volumes/"+shared+"/usage", nil, nil); u.Status != http.StatusOK || u.Body["size"] == nil || u.Body["refCount"] == nil {
		t.Errorf("GET usage = %d %v, want {size, refCount}", u.Status, u.Body)
	}

	sub := ts.Hub.Subscribe(t.Context())
	var mu sync.Mutex
	var streamed []map[string]any
	go func() {
		for m := range sub.C() {
			if m.Type != "share" {
				continue
			}
			var f map[string]any
			_ = json.Unmarshal(m.Data, &f)
			mu.Lock()
			streamed = append(streamed, f)
			mu.Unlock()
		}
	}()
	st := call(t, ts.URL, "POST", "/api/volumes/"+shared+"/share-test", nil, nil)
	results, _ := st.Body["results"].([]any)
	if st.Status != http.StatusOK {
		t.Fatalf("share-test = %d %v, want 200", st.Status, st.Body)
	}
	// The writer writes; the read-only reader sees the marker, and its own
	// write is refused.
	got := map[string]bool{}
	for _, res := range results {
		m := res.(map[string]any)
		got[m["name"].(string)+" "+m["role"].(string)+" "+m["state"].(string)] = true
	}
	for _, want := range []string{writerName + " writer written", readerName + " reader seen", readerName + " reader read-only"} {
		if !got[want] {
			t.Errorf("share-test results %v lack %q", results, want)
		}
	}
	if len(results) != 3 {
		t.Errorf("share-test gave %d results, want 3: %v", len(results), results)
	}
	dockertest.WaitFor(t, 5*time.Second, func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return len(streamed) >= len(results), "share results not all streamed as share messages"
	})
	mu.Lock()
	for _, f := range streamed {
		if f["type"] != "share" || f["volume"] != shared || f["result"] == nil {
			t.Errorf("share message %v, want {type: share, volume, result}", f)
		}
	}
	mu.Unlock()
	if r := call(t, ts.URL, "DELETE", "/api/volumes/"+shared+"?confirm="+shared, nil, nil); r.Status != http.StatusConflict ||
		!strings.Contains(r.Body["detail"].(string), writerName) {
		t.Errorf("DELETE of a volume in use = %d %v, want 409 naming the users", r.Status, r.Body)
	}

	// web keeps data in another named volume, an anonymous volume and a
	// bind mount. The bind's host directory is a volume's own directory,
	// which exists on the engine's host wherever this test runs.
	webdata := dockertest.CreateVolume(t, c, "")
	bindsrc := dockertest.CreateVolume(t, c, "")
	var hostDir string
	waitGraph(t, ts, "no mountpoint for "+bindsrc, func(g topology.Graph) bool {
		n, ok := g.Node(topology.VolumeNodeID(bindsrc))
		if ok {
			hostDir = n.Volume.Mountpoint
		}
		return hostDir != ""
	})
	webName := dockertest.UniqueName(t, "web")
	web := dockertest.RunContainer(t, c, dockertest.WithName(webName),
		dockertest.WithMount(docker.MountSpec{Type: "volume", Source: webdata, Target: "/named"}),
		dockertest.WithMount(docker.MountSpec{Type: "volume", Target: "/anon"}),
		dockertest.WithMount(docker.MountSpec{Type: "bind", Source: hostDir, Target: "/bind"}))
	files := []string{"/named/f", "/anon/f", "/bind/f"}
	// Test-only: random bytes, so a volume replaced by an empty one (and
	// filled again) could not pass.
	if res, err := c.Exec(t.Context(), web, []string{"sh", "-c",
		"for f in " + strings.Join(files, " ") + "; do head -c 4096 /dev/urandom > $f || exit 1; done"}, ""); err != nil || res.ExitCode != 0 {
		t.Fatalf("write web's files: %v %+v", err, res)
	}
	before := map[string]string{}
	for _, f := range files {
		before[f] = cat(t, c, web, f)
		if len(before[f]) != 4096 {
			t.Fatalf("%s holds %d bytes, want 4096", f, len(before[f]))
		}
	}
	var anon string
	waitGraph(t, ts, "web's anonymous volume not in the graph", func(g topology.Graph) bool {
		for _, e := range g.EdgesOf(topology.ContainerNodeID(web)) {
			if e.Kind == topology.EdgeMount && e.Mount.Destination == "/anon" {
				anon = strings.TrimPrefix(string(e.To), "v:")
			}
		}
		return anon != ""
	})
	waitIn(t, ts, web)
	// After the re-create the new web mounts it by name, so removing web
	// with its volumes no longer takes it: remove it ourselves.
	dockertest.TrackVolume(t, c, anon)
	danglingBefore := dangling(t, c)

	mount := map[string]any{"volume": shared, "target": "/shared"}
	if r := call(t, ts.URL, "POST", "/api/containers/"+webName+"/mounts", mount, nil); r.Status != http.StatusPreconditionRequired {
		t.Fatalf("mount without confirm = %d %v, want 428", r.Status, r.Body)
	}
	if pv := call(t, ts.URL, "GET", "/api/containers/"+webName+"/recreate-preview", nil, nil); pv.Status != http.StatusOK {
		t.Fatalf("recreate-preview = %d %v", pv.Status, pv.Body)
	}
	mount["confirm"] = true
	r = call(t, ts.URL, "POST", "/api/containers/"+webName+"/mounts?wait=1", mount, nil)
	newWeb, _ := jobResult(r)["container"].(string)
	if r.Status != http.StatusOK || !topology.IsFullID(newWeb) || newWeb == web {
		t.Fatalf("mount = %d %v, want 200 with a new container ID", r.Status, r.Body)
	}
	dockertest.TrackContainer(t, c, newWeb)
	waitGraph(t, ts, "new web has no /shared mount", func(g topology.Graph) bool { return hasMount(g, newWeb, sharedID, "/shared") })
	for _, f := range files {
		if got := cat(t, c, newWeb, f); got != before[f] {
			t.Errorf("%s after the mount differs from before (%d bytes, want %d)", f, len(got), len(before[f]))
		}
	}
	if !hasMount(ts.Live.Snapshot().Graph, newWeb, topology.VolumeNodeID(anon), "/anon") {
		t.Errorf("new web does not mount the old anonymous volume %.12s at /anon", anon)
	}
	for name := range dangling(t, c) {
		if !danglingBefore[name] && (name == anon || name == webdata || name == bindsrc) {
			t.Errorf("volume %.12s is dangling after the mount", name)
		}
		if !danglingBefore[name] && topology.LooksAnonymous(name, nil) {
			// An anonymous volume orphaned by this re-create would show
			// up here; other tests' may too, so report it with its name.
			t.Logf("a new dangling anonymous volume %s (from this test or another on the engine)", name)
		}
	}

	// volumes-from: a new container takes web's volumes.
	vfName := dockertest.UniqueName(t, "vf")
	vf := dockertest.RunContainer(t, c, dockertest.WithName(vfName))
	waitIn(t, ts, vf)
	r = call(t, ts.URL, "POST", "/api/containers/"+vfName+"/mounts?wait=1", map[string]any{"volumesFrom": webName, "confirm": true}, nil)
	newVF, _ := jobResult(r)["container"].(string)
	if r.Status != http.StatusOK || !topology.IsFullID(newVF) {
		t.Fatalf("volumes-from = %d %v, want 200 with a new container ID", r.Status, r.Body)
	}
	dockertest.TrackContainer(t, c, newVF)
	edge := topology.EdgeID("vf:" + newVF + ">" + newWeb)
	waitGraph(t, ts, "no edge "+string(edge), func(g topology.Graph) bool {
		for _, e := range g.Edges {
			if e.ID == edge && e.Kind == topology.EdgeVolumesFrom {
				return true
			}
		}
		return false
	})
	for _, f := range files {
		if got := cat(t, c, newVF, f); got != before[f] {
			t.Errorf("%s seen from the volumes-from container differs from web's", f)
		}
	}
	if r := call(t, ts.URL, "POST", "/api/containers/"+vfName+"/mounts", map[string]any{"volumesFrom": webName, "confirm": true}, nil); r.Status != http.StatusConflict {
		t.Errorf("volumes-from web again = %d %v, want 409", r.Status, r.Body)
	}
}

func TestRemoveVolumeNeedsTheName(t *testing.T) {
	ts, c := startSynced(t)
	name := dockertest.CreateVolume(t, c, "")
	waitGraph(t, ts, "no volume "+name, func(g topology.Graph) bool { _, ok := g.Node(topology.VolumeNodeID(name)); return ok })
	for _, q := range []string{"", "?confirm=", "?confirm=" + url.QueryEscape(name+"x")} {
		if r := call(t, ts.URL, "DELETE", "/api/volumes/"+name+q, nil, nil); r.Status != http.StatusBadRequest ||
			!strings.Contains(r.Body["detail"].(string), "data") {
			t.Errorf("DELETE%s = %d %v, want 400 warning that the data goes", q, r.Status, r.Body)
		}
	}
	if r := call(t, ts.URL, "DELETE", "/api/volumes/"+name+"?confirm="+name, nil, nil); r.Status != http.StatusNoContent {
		t.Fatalf("DELETE confirmed = %d %v, want 204", r.Status, r.Body)
	}
	waitGraph(t, ts, "volume still in the graph", func(g topology.Graph) bool { _, ok := g.Node(topology.VolumeNodeID(name)); return !ok })
}

// SEC-13 and the chapter's bad input: each is refused with a clear error
// before any engine call.
func TestBadVolumeInputChangesNothing(t *testing.T) {
	ts, p, real := proxiedServerWith(t)
	inUse := dockertest.CreateVolume(t, real, "")
	unused := dockertest.CreateVolume(t, real, "")
	userName := dockertest.UniqueName(t, "user")
	user := dockertest.RunContainer(t, real, dockertest.WithName(userName),
		dockertest.WithMount(docker.MountSpec{Type: "volume", Source: inUse, Target: "/data"}))
	waitGraph(t, ts, "user's mount and the unused volume not in the graph", func(g topology.Graph) bool {
		_, ok := g.Node(topology.VolumeNodeID(unused))
		u, _ := g.Node(topology.ContainerNodeID(user))
		return ok && u.Container != nil && u.Container.Running() && hasMount(g, user, topology.VolumeNodeID(inUse), "/data")
	})
	mounts := "/api/containers/" + userName + "/mounts"
	type tc struct {
		name   string
		method string
		path   string
		body   any
		hdr    map[string]string
		want   int
	}
	tests := []tc{}
	for _, bad := range []string{"/", "/etc", "/var/run/docker.sock", "x:/etc", "x:/t:rw", "..", ".", "a", "a..b", ""} {
		tests = append(tests,
			tc{"create " + bad, "POST", "/api/volumes", map[string]any{"name": bad}, nil, 400},
			tc{"mount " + bad, "POST", mounts, map[string]any{"volume": bad, "target": "/x", "confirm": true}, nil, 400})
	}
	// The engine's rule allows "a..b" for a volume made elsewhere: only
	// creating one is refused, and mounting one that does not exist is 404.
	tests[len(tests)-3].want = 404
	if tests[len(tests)-3].name != "mount a..b" {
		t.Fatal("test table out of order")
	}
	tests = append(tests, []tc{
		{"duplicate", "POST", "/api/volumes", map[string]any{"name": unused}, nil, 409},
		{"label with NUL", "POST", "/api/volumes", map[string]any{"name": "okname", "labels": map[string]string{"a\x00": "b"}}, nil, 400},
		{"unknown field", "POST", "/api/volumes", map[string]any{"name": "okname", "driver": "nfs"}, nil, 400},
		{"cross-site create", "POST", "/api/volumes", map[string]any{"name": "okname"}, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"target not absolute", "POST", mounts, map[string]any{"volume": unused, "target": "data", "confirm": true}, nil, 400},
		{"target root", "POST", mounts, map[string]any{"volume": unused, "target": "/", "confirm": true}, nil, 400},
		{"target not clean", "POST", mounts, map[string]any{"volume": unused, "target": "/a/../b", "confirm": true}, nil, 400},
		{"target with colon", "POST", mounts, map[string]any{"volume": unused, "target": "/t:rw", "confirm": true}, nil, 400},
		{"target clash", "POST", mounts, map[string]any{"volume": unused, "target": "/data", "confirm": true}, nil, 409},
		{"no target", "POST", mounts, map[string]any{"volume": unused, "confirm": true}, nil, 400},
		{"unknown volume", "POST", mounts, map[string]any{"volume": "nosuch-" + dockertest.RunID(), "target": "/x", "confirm": true}, nil, 404},
		{"unknown container", "POST", "/api/containers/nosuch-" + dockertest.RunID() + "/mounts", map[string]any{"volume": unused, "target": "/x", "confirm": true}, nil, 404},
		{"two sources", "POST", mounts, map[string]any{"volume": unused, "bind": "/tmp/x", "target": "/x", "confirm": true}, nil, 400},
		{"no source", "POST", mounts, map[string]any{"target": "/x", "confirm": true}, nil, 400},
		{"bind not allowed", "POST", mounts, map[string]any{"bind": "/tmp/x", "target": "/x", "confirm": true}, nil, 403},
		{"bind root", "POST", mounts, map[string]any{"bind": "/", "target": "/host", "confirm": true}, nil, 403},
		{"bind socket", "POST", mounts, map[string]any{"bind": "/var/run/docker.sock", "target": "/var/run/docker.sock", "confirm": true}, nil, 403},
		{"volumes from itself", "POST", mounts, map[string]any{"volumesFrom": userName, "confirm": true}, nil, 400},
		{"volumes from with target", "POST", mounts, map[string]any{"volumesFrom": userName, "target": "/x", "confirm": true}, nil, 400},
		{"volumes from unknown", "POST", mounts, map[string]any{"volumesFrom": "nosuch-" + dockertest.RunID(), "confirm": true}, nil, 404},
		{"not confirmed", "POST", mounts, map[string]any{"volume": unused, "target": "/x"}, nil, 428},
		{"detail unknown", "GET", "/api/volumes/nosuch-" + dockertest.RunID(), nil, nil, 404},
		{"usage unknown", "GET", "/api/volumes/nosuch-" + dockertest.RunID() + "/usage", nil, nil, 404},
		{"delete unknown", "DELETE", "/api/volumes/nosuch-" + dockertest.RunID() + "?confirm=x", nil, nil, 404},
		{"delete in use", "DELETE", "/api/volumes/" + inUse + "?confirm=" + inUse, nil, nil, 409},
		{"delete without confirm", "DELETE", "/api/volumes/" + unused, nil, nil, 400},
		{"delete wrong confirm", "DELETE", "/api/volumes/" + unused + "?confirm=" + inUse, nil, nil, 400},
		{"share unknown", "POST", "/api/volumes/nosuch-" + dockertest.RunID() + "/share-test", nil, nil, 404},
		{"share with no writer", "POST", "/api/volumes/" + unused + "/share-test", nil, nil, 409},
	}...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(p.Paths())
			res := call(t, ts.URL, tt.method, tt.path, tt.body, tt.hdr)
			if res.Status != tt.want {
				t.Errorf("%s %s = %d %v, want %d", tt.method, tt.path, res.Status, res.Body, tt.want)
			}
			if msg, _ := res.Body["detail"].(string); msg == "" {
				t.Errorf("no detail in the error answer: %v", res.Body)
			}
			if calls := mutatingCalls(p.Paths()[before:]); len(calls) != 0 {
				t.Errorf("engine calls made for bad input: %v", calls)
			}
		})
	}
	// The engine itself, not the map, says nothing changed.
	inv, err := real.ListInventory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	g := topology.Build(inv)
	if n, _ := g.Node(topology.ContainerNodeID(user)); n.Container == nil || !n.Container.Running() {
		t.Error("the user container changed after bad requests")
	}
	for _, v := range []string{inUse, unused} {
		if _, ok := g.Node(topology.VolumeNodeID(v)); !ok {
			t.Errorf("volume %s is gone after bad requests", v)
		}
	}
}

// With --allow-bind /tmp, a path under /tmp passes validation (428: only
// the confirmation is missing), while / and the socket stay refused.
func TestAllowBindPolicy(t *testing.T) {
	ts, p, real := proxiedServerWith(t, func(d *server.Deps) { d.AllowBinds = []string{"/tmp"} })
	name := dockertest.UniqueName(t, "binder")
	id := dockertest.RunContainer(t, real, dockertest.WithName(name))
	waitGraph(t, ts, "binder not in the graph", func(g topology.Graph) bool { _, ok := g.Node(topology.ContainerNodeID(id)); return ok })
	tests := []struct {
		bind string
		want int
	}{
		{"/tmp/x", 428},
		{"/tmp", 428},
		{"/var/run/docker.sock", 403},
		{"/run/docker.sock", 403},
		{"/", 403},
		{"/tmp/../etc", 403},
		{"/tmpx", 403},
		{"tmp/x", 400},
	}
	for _, tt := range tests {
		before := len(p.Paths())
		r := call(t, ts.URL, "POST", "/api/containers/"+name+"/mounts", map[string]any{"bind": tt.bind, "target": "/host"}, nil)
		if r.Status != tt.want {
			t.Errorf("bind %s = %d %v, want %d", tt.bind, r.Status, r.Body, tt.want)
		}
		if calls := mutatingCalls(p.Paths()[before:]); len(calls) != 0 {
			t.Errorf("bind %s: engine calls made: %v", tt.bind, calls)
		}
	}
}

// fakeLive serves a fixed graph: the mount plans below are about what the
// server builds from a graph, which needs no engine.
type fakeLive struct{ g topology.Graph }

func (f fakeLive) Snapshot() topology.Snapshot { return topology.Snapshot{Graph: f.g} }
func (f fakeLive) Subscribe(context.Context) (topology.Snapshot, *hub.Subscription) {
	return f.Snapshot(), nil
}
func (f fakeLive) Refresh()                                        {}
func (f fakeLive) Sync(context.Context) (topology.Snapshot, error) { return f.Snapshot(), nil }

// TestMountPlansAreStructured: what the mount route would re-create with is
// structured mounts only (never a Binds or "-v" string, whose ':' fields a
// name could smuggle a host path into), as the plan it answers with shows.
func TestMountPlansAreStructured(t *testing.T) {
	// RecreateChange must have no field that takes "-v"-style strings.
	rt := reflect.TypeFor[docker.RecreateChange]()
	for i := range rt.NumField() {
		if f := rt.Field(i); strings.Contains(strings.ToLower(f.Name), "bind") {
			t.Errorf("RecreateChange has a field %s: mounts must be structured", f.Name)
		}
	}
	webID, donorID := strings.Repeat("1", 64), strings.Repeat("2", 64)
	g := topology.Build(topology.Inventory{
		Containers: []topology.Container{
			{ID: webID, Name: "web", Names: []string{"web"}, State: "running"},
			{ID: donorID, Name: "donor", Names: []string{"donor"}, State: "running", Mounts: []topology.Mount{
				{Type: "volume", Name: "data", Destination: "/data", RW: true}}},
		},
		Volumes: []topology.Volume{{Name: "data", Driver: "local"}},
	})
	engine, err := docker.New(docker.WithHost("tcp://127.0.0.1:9")) // never called
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { engine.Close() })
	h := hub.New(hub.DefaultBuffer)
	t.Cleanup(h.Close)
	prober := probe.New(engine, server.ProbePublisher(h))
	t.Cleanup(prober.Close)
	static, _ := fs.Sub(web.Static, "static")
	jobs := job.New(h)
	t.Cleanup(jobs.Close)
	srv := httptest.NewServer(server.New(server.Deps{
		Live: fakeLive{g}, Engine: engine, Recreator: engine, Networks: engine, Volumes: engine, Prober: prober,
		Publisher: h, Jobs: jobs, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Static: static, AllowBinds: []string{"/srv/share/"},
	}))
	t.Cleanup(srv.Close)

	cases := []struct {
		body map[string]any
		want map[string]any
	}{
		{map[string]any{"volume": "data", "target": "/mnt/data", "readOnly": true},
			map[string]any{"addMounts": []any{map[string]any{"type": "volume", "source": "data", "target": "/mnt/data", "readOnly": true}}}},
		{map[string]any{"bind": "/srv/share/x/", "target": "/mnt/x"},
			map[string]any{"addMounts": []any{map[string]any{"type": "bind", "source": "/srv/share/x", "target": "/mnt/x", "readOnly": false}}}},
		{map[string]any{"volumesFrom": "donor", "readOnly": true},
			map[string]any{"addVolumesFrom": []any{map[string]any{"donor": map[string]any{"id": donorID, "name": "donor"}, "readOnly": true}}}},
	}
	for _, tc := range cases {
		// Without confirm: 428 with the plan, and nothing done.
		r := call(t, srv.URL, "POST", "/api/containers/web/mounts", tc.body, nil)
		p, _ := r.Body["plan"].(map[string]any)
		if r.Status != http.StatusPreconditionRequired || p == nil {
			t.Fatalf("POST mounts %v = %d %v, want 428 with the plan", tc.body, r.Status, r.Body)
		}
		rec, _ := firstOf(p["recreates"].([]any)).(map[string]any)
		if diff := cmp.Diff(tc.want, rec["change"]); diff != "" {
			t.Errorf("POST mounts %v: change (-want +got):\n%s", tc.body, diff)
		}
		ms, _ := tc.want["addMounts"].([]any)
		for _, m := range ms {
			for _, v := range m.(map[string]any) {
				if s, ok := v.(string); ok && strings.Contains(s, ":") {
					t.Errorf("mount %v carries a ':' field separator", m)
				}
			}
		}
	}
}
