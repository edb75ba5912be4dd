package docker_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/topology"
)

// mustExec runs argv in a container and returns its result.
func mustExec(t *testing.T, c *docker.Client, id string, argv ...string) docker.ExecResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	res, err := c.Exec(ctx, id, argv, "0")
	if err != nil {
		t.Fatalf("exec %q in %s: %v", argv, id[:12], err)
	}
	return res
}

// runWithVolume runs a container that mounts a fresh named volume at /data
// and returns the container's ID and name and the volume's name.
func runWithVolume(t *testing.T, c *docker.Client, base string) (id, name, vol string) {
	t.Helper()
	vol = dockertest.CreateVolume(t, c, "")
	name = dockertest.UniqueName(t, base)
	id = dockertest.RunContainer(t, c, dockertest.WithName(name),
		dockertest.WithMount(docker.MountSpec{Type: "volume", Source: vol, Target: "/data"}))
	return id, name, vol
}

func TestVolumesFromEdge(t *testing.T) {
	c := dockertest.Client(t)
	web, webName, vol := runWithVolume(t, c, "web")
	if res := mustExec(t, c, web, "touch", "/data/from-web"); res.ExitCode != 0 {
		t.Fatalf("touch in web: %+v", res)
	}
	rw := dockertest.RunContainer(t, c, dockertest.WithVolumesFrom(webName))
	ro := dockertest.RunContainer(t, c, dockertest.WithVolumesFrom(web+":ro"))

	g := topology.Build(mustList(t, c))
	tests := []struct {
		name     string
		id       string
		readOnly bool
	}{
		{"by name, read-write", rw, false},
		{"by ID, read-only", ro, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := topology.EdgeID("vf:" + tt.id + ">" + web)
			e, ok := findEdge(g, id)
			if !ok {
				t.Fatalf("no edge %s; edges from it: %+v", id, edgesFrom(g, tt.id))
			}
			if e.Kind != topology.EdgeVolumesFrom || e.From != topology.ContainerNodeID(tt.id) || e.To != topology.ContainerNodeID(web) {
				t.Errorf("edge = %+v, want volumes-from %s → web", e, tt.id[:12])
			}
			if e.VolumesFrom == nil || e.VolumesFrom.ReadOnly != tt.readOnly {
				t.Errorf("VolumesFrom = %+v, want ReadOnly %v", e.VolumesFrom, tt.readOnly)
			}
			// The copied mount shows as a mount edge of its own, ro or not.
			m, ok := findEdge(g, topology.EdgeID("mt:"+tt.id+">"+string(topology.VolumeNodeID(vol))+":/data"))
			if !ok || m.Mount.ReadOnly != tt.readOnly {
				t.Errorf("mount edge of the copied volume = %+v (found %v), want ReadOnly %v", m.Mount, ok, tt.readOnly)
			}
			if res := mustExec(t, c, tt.id, "ls", "/data/from-web"); res.ExitCode != 0 {
				t.Errorf("ls /data/from-web: %+v, want web's file", res)
			}
		})
	}
	if res := mustExec(t, c, ro, "touch", "/data/from-ro"); res.ExitCode == 0 {
		t.Errorf("touch through volumes-from :ro succeeded, want refused")
	}
}

var inspectPath = regexp.MustCompile(`^GET /v[0-9.]+/containers/([^/]+)/json$`)

// inspected returns the container IDs inspected in paths, in order.
func inspected(paths []string) []string {
	var ids []string
	for _, p := range paths {
		if m := inspectPath.FindStringSubmatch(p); m != nil {
			ids = append(ids, m[1])
		}
	}
	return ids
}

// endpointKey is what decides whether a container's aliases are read again.
func endpointKey(ct topology.Container) string {
	var ks []string
	for _, ep := range ct.Endpoints {
		ks = append(ks, ep.NetworkID+"="+ep.EndpointID)
	}
	slices.Sort(ks)
	return strings.Join(ks, ",")
}

// TestInventoryInspectsOncePerContainer counts, through a proxy, the
// inspects ListInventory sends: one per container on a cold start, none on
// a re-list with nothing new. The engine is shared with other test
// binaries, so a container that appeared (or reconnected) between the two
// lists may be inspected; nothing else may.
func TestInventoryInspectsOncePerContainer(t *testing.T) {
	c := dockertest.Client(t)
	web, webName, _ := runWithVolume(t, c, "web")
	user := dockertest.CreateNetwork(t, c, "")
	vf := dockertest.RunContainer(t, c, dockertest.WithVolumesFrom(webName+":ro"), dockertest.WithNetwork(user))

	p := dockertest.StartProxy(t)
	pc, err := docker.New(docker.WithHost(p.Host))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { pc.Close() })

	inv := mustList(t, pc)
	cold := inspected(p.Paths())
	listed := make(map[string]topology.Container, len(inv.Containers))
	for _, ct := range inv.Containers {
		listed[ct.ID] = ct
	}
	t.Logf("cold start: %d containers listed, %d inspects", len(listed), len(cold))
	count := make(map[string]int)
	for _, id := range cold {
		count[id]++
		if _, ok := listed[id]; !ok {
			t.Errorf("cold start inspected %s, which was not listed", id)
		}
	}
	for id := range listed {
		if count[id] != 1 {
			t.Errorf("cold start inspected %s %d times, want once", id, count[id])
		}
	}
	if got := listed[vf].VolumesFrom; !slices.Equal(got, []string{webName + ":ro"}) {
		t.Errorf("VolumesFrom of the consumer = %q, want [%s:ro]", got, webName)
	}
	if got := listed[web].VolumesFrom; got != nil {
		t.Errorf("VolumesFrom of web = %q, want none", got)
	}

	before := len(p.Paths())
	inv2 := mustList(t, pc)
	for _, id := range inspected(p.Paths()[before:]) {
		ct, old := listed[id]
		now, ok := findContainer(inv2, id)
		if old && ok && endpointKey(ct) == endpointKey(now) {
			t.Errorf("re-list inspected %s again with nothing changed", id)
		}
	}
	// The cached answer still fills the field.
	if got, _ := findContainer(inv2, vf); !slices.Equal(got.VolumesFrom, []string{webName + ":ro"}) {
		t.Errorf("VolumesFrom from the cache = %q, want [%s:ro]", got.VolumesFrom, webName)
	}
}

func findContainer(inv topology.Inventory, id string) (topology.Container, bool) {
	for _, ct := range inv.Containers {
		if ct.ID == id {
			return ct, true
		}
	}
	return topology.Container{}, false
}

func TestRecreateAddVolumesFrom(t *testing.T) {
	c := dockertest.Client(t)
	web, webName, _ := runWithVolume(t, c, "web")
	if res := mustExec(t, c, web, "touch", "/data/from-web"); res.ExitCode != 0 {
		t.Fatalf("touch in web: %+v", res)
	}
	appName := dockertest.UniqueName(t, "app")
	app := dockertest.RunContainer(t, c, dockertest.WithName(appName))
	clash, clashName, _ := runWithVolume(t, c, "clash")

	refusals := []struct {
		name   string
		target string
		ch     docker.RecreateChange
		want   error
	}{
		{"unknown donor", appName, docker.RecreateChange{AddVolumesFrom: []string{"no-such-donor-" + app[:8]}}, topology.ErrNotFound},
		{"itself", appName, docker.RecreateChange{AddVolumesFrom: []string{appName}}, topology.ErrInvalid},
		{"itself by ID", appName, docker.RecreateChange{AddVolumesFrom: []string{app + ":ro"}}, topology.ErrInvalid},
		{"bad mode", appName, docker.RecreateChange{AddVolumesFrom: []string{webName + ":rx"}}, topology.ErrInvalid},
		{"path as donor", appName, docker.RecreateChange{AddVolumesFrom: []string{"../web"}}, topology.ErrInvalid},
		{"donor mount clashes", clashName, docker.RecreateChange{AddVolumesFrom: []string{webName}}, topology.ErrInvalid},
		{"added mount clashes with the donor's", appName, docker.RecreateChange{
			AddVolumesFrom: []string{webName},
			AddMounts:      []docker.MountSpec{{Type: "tmpfs", Target: "/data"}},
		}, topology.ErrInvalid},
		{"added mount clashes with an existing one", clashName, docker.RecreateChange{
			AddMounts: []docker.MountSpec{{Type: "tmpfs", Target: "/data/"}},
		}, topology.ErrInvalid},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Recreate(t.Context(), tt.target, tt.ch, nil)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Recreate = %v, want %v", err, tt.want)
			}
			t.Logf("refused: %v", err)
		})
	}
	// Nothing was changed by the refusals.
	for _, id := range []string{app, clash} {
		if info := sdkInspect(t, id)[id]; !info.State.Running || len(info.HostConfig.VolumesFrom) != 0 {
			t.Errorf("%s after refusals: running %v, VolumesFrom %q", id[:12], info.State.Running, info.HostConfig.VolumesFrom)
		}
	}

	newID, err := c.Recreate(t.Context(), appName, docker.RecreateChange{AddVolumesFrom: []string{web + ":ro"}}, nil)
	if err != nil {
		t.Fatalf("Recreate: %v", err)
	}
	dockertest.TrackContainer(t, c, newID)
	if res := mustExec(t, c, newID, "ls", "/data/from-web"); res.ExitCode != 0 {
		t.Errorf("ls /data/from-web in the recreated app: %+v, want web's file", res)
	}
	if res := mustExec(t, c, newID, "touch", "/data/from-app"); res.ExitCode == 0 {
		t.Errorf("touch through the :ro volumes-from succeeded, want refused")
	}
	if got := sdkInspect(t, newID)[newID].HostConfig.VolumesFrom; !slices.Equal(got, []string{webName + ":ro"}) {
		t.Errorf("HostConfig.VolumesFrom = %q, want [%s:ro] (the donor by name)", got, webName)
	}
	g := topology.Build(mustList(t, c))
	if e, ok := findEdge(g, topology.EdgeID("vf:"+newID+">"+web)); !ok || !e.VolumesFrom.ReadOnly {
		t.Errorf("volumes-from edge of the recreated app = %+v (found %v), want read-only", e, ok)
	}

	// Taking the same donor twice is refused; a plain recreate keeps it.
	if _, err := c.Recreate(t.Context(), newID, docker.RecreateChange{AddVolumesFrom: []string{webName}}, nil); !errors.Is(err, topology.ErrConflict) {
		t.Errorf("Recreate with the same donor again = %v, want ErrConflict", err)
	}
	again, err := c.Recreate(t.Context(), newID, docker.RecreateChange{}, nil)
	if err != nil {
		t.Fatalf("plain Recreate: %v", err)
	}
	dockertest.TrackContainer(t, c, again)
	if got := sdkInspect(t, again)[again].HostConfig.VolumesFrom; !slices.Equal(got, []string{webName + ":ro"}) {
		t.Errorf("HostConfig.VolumesFrom after a plain recreate = %q, want it kept", got)
	}
}

func TestShareTest(t *testing.T) {
	c := dockertest.Client(t)
	vol := dockertest.CreateVolume(t, c, "")
	mountAt := func(ro bool) dockertest.ContainerOption {
		return dockertest.WithMount(docker.MountSpec{Type: "volume", Source: vol, Target: "/data", ReadOnly: ro})
	}
	writerName, readerName, stoppedName := dockertest.UniqueName(t, "writer"), dockertest.UniqueName(t, "reader"), dockertest.UniqueName(t, "stopped")
	writer := dockertest.RunContainer(t, c, dockertest.WithName(writerName), mountAt(false))
	reader := dockertest.RunContainer(t, c, dockertest.WithName(readerName), mountAt(true))
	stopped := dockertest.RunContainer(t, c, dockertest.WithName(stoppedName), mountAt(false), dockertest.Stopped())
	mounts := []docker.ShareMount{
		{ContainerID: stopped, Name: stoppedName, Destination: "/data"},
		{ContainerID: reader, Name: readerName, Destination: "/data", ReadOnly: true, Running: true},
		{ContainerID: writer, Name: writerName, Destination: "/data", Running: true},
	}

	var streamed []docker.ShareResult
	got, err := c.ShareTest(t.Context(), vol, mounts, func(r docker.ShareResult) { streamed = append(streamed, r) })
	if err != nil {
		t.Fatalf("ShareTest: %v", err)
	}
	for _, r := range got {
		t.Logf("%s %s: %s (%s)", r.Role, r.Name, r.State, r.Detail)
	}
	if !slices.Equal(streamed, got) {
		t.Errorf("streamed %v, returned %v: want the same results", streamed, got)
	}
	type rs struct{ id, role, state string }
	var short []rs
	for _, r := range got {
		short = append(short, rs{r.ContainerID, r.Role, r.State})
	}
	want := []rs{
		{writer, docker.ShareWriter, docker.ShareWritten},
		{stopped, docker.ShareReader, docker.ShareImpossible},
		{reader, docker.ShareReader, docker.ShareSeen},
		{reader, docker.ShareReader, docker.ShareReadOnly},
	}
	if !slices.Equal(short, want) {
		t.Errorf("results = %v, want %v", short, want)
	}
	// The marker (and any probe) is gone.
	if res := mustExec(t, c, writer, "ls", "-a", "/data"); res.ExitCode != 0 || strings.Contains(res.Stdout, ".dockmap-share-") {
		t.Errorf("ls -a /data after the test: %+v, want no marker", res)
	}
	marker := strings.TrimPrefix(got[0].Detail, "wrote ")
	if res := mustExec(t, c, writer, "ls", marker); res.ExitCode == 0 {
		t.Errorf("ls %s after the test succeeded, want the marker removed", marker)
	}

	t.Run("no writer", func(t *testing.T) {
		_, err := c.ShareTest(t.Context(), vol, mounts[:2], nil)
		if !errors.Is(err, topology.ErrConflict) {
			t.Errorf("ShareTest with no running read-write mounter = %v, want ErrConflict", err)
		}
	})
	t.Run("relative destination", func(t *testing.T) {
		bad := []docker.ShareMount{{ContainerID: writer, Name: writerName, Destination: "data", Running: true}}
		if _, err := c.ShareTest(t.Context(), vol, bad, nil); !errors.Is(err, topology.ErrInvalid) {
			t.Errorf("ShareTest with a relative destination = %v, want ErrInvalid", err)
		}
	})

	t.Run("usage", func(t *testing.T) {
		// 2000 lines of 41 bytes.
		script := `i=0; while [ $i -lt 2000 ]; do echo 0123456789012345678901234567890123456789; i=$((i+1)); done > /data/blob`
		if res := mustExec(t, c, writer, "sh", "-c", script); res.ExitCode != 0 {
			t.Fatalf("write blob: %+v", res)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		u, err := c.VolumeUsage(ctx, vol)
		if err != nil {
			t.Fatalf("VolumeUsage: %v", err)
		}
		t.Logf("usage of %s: %+v", vol, u)
		if u.Size < 2000*41 {
			t.Errorf("Size = %d, want at least %d", u.Size, 2000*41)
		}
		if u.RefCount != 3 {
			t.Errorf("RefCount = %d, want 3 (writer, reader, stopped)", u.RefCount)
		}
	})

	t.Run("remove in use", func(t *testing.T) {
		if err := c.RemoveVolume(t.Context(), vol); !errors.Is(err, topology.ErrConflict) {
			t.Errorf("RemoveVolume of a volume in use = %v, want ErrConflict", err)
		}
	})
}

func TestCreateNamedVolume(t *testing.T) {
	c := dockertest.Client(t)
	ctx := t.Context()
	name := dockertest.UniqueName(t, "vol")
	if err := c.CreateNamedVolume(ctx, name, dockertest.Labels("team", "ops")); err != nil {
		t.Fatalf("CreateNamedVolume: %v", err)
	}
	dockertest.TrackVolume(t, c, name)
	d, err := c.InspectVolume(ctx, name)
	if err != nil {
		t.Fatalf("InspectVolume: %v", err)
	}
	if d.Name != name || d.Driver != "local" || d.Scope != "local" || d.Mountpoint == "" || d.CreatedAt == "" {
		t.Errorf("InspectVolume = %+v, want a local volume named %s", d, name)
	}
	if d.Labels[docker.ManagedLabel] != "1" || d.Labels["team"] != "ops" || d.Labels[dockertest.Label] != "1" {
		t.Errorf("labels = %v, want %s=1, team=ops and the test label", d.Labels, docker.ManagedLabel)
	}
	if err := c.CreateNamedVolume(ctx, name, dockertest.Labels()); !errors.Is(err, topology.ErrConflict) {
		t.Errorf("CreateNamedVolume of an existing name = %v, want ErrConflict", err)
	}
	for _, bad := range []string{"", "a/b", "/etc", "a:b", "a..b", ".."} {
		if err := c.CreateNamedVolume(ctx, bad, dockertest.Labels()); !errors.Is(err, topology.ErrInvalid) {
			t.Errorf("CreateNamedVolume(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	if u, err := c.VolumeUsage(ctx, name); err != nil || u.Size != 0 || u.RefCount != 0 {
		t.Errorf("VolumeUsage of a new volume = %+v, %v; want 0, 0", u, err)
	}
	missing := name + "-missing"
	if _, err := c.InspectVolume(ctx, missing); !errors.Is(err, topology.ErrNotFound) {
		t.Errorf("InspectVolume of a missing volume = %v, want ErrNotFound", err)
	}
	if _, err := c.VolumeUsage(ctx, missing); !errors.Is(err, topology.ErrNotFound) {
		t.Errorf("VolumeUsage of a missing volume = %v, want ErrNotFound", err)
	}

	// In use, even by a stopped container: refused. Free: removed.
	user := dockertest.RunContainer(t, c, dockertest.Stopped(),
		dockertest.WithMount(docker.MountSpec{Type: "volume", Source: name, Target: "/data"}))
	if err := c.RemoveVolume(ctx, name); !errors.Is(err, topology.ErrConflict) {
		t.Errorf("RemoveVolume in use = %v, want ErrConflict", err)
	}
	if err := c.RemoveContainer(ctx, user, true); err != nil {
		t.Fatalf("RemoveContainer: %v", err)
	}
	if err := c.RemoveVolume(ctx, name); err != nil {
		t.Errorf("RemoveVolume of a free volume: %v", err)
	}
}

// TestVolumeUsageConcurrent: engines before 23.0 refuse a disk-usage call
// while another runs, whoever asks; two dockmaps (or dockmap and the CLI)
// measuring at once must still both get an answer. Each client here
// stands for another process: calls of one client share one engine call
// (TestVolumeUsageSharesOneCall), calls of several collide at the engine.
func TestVolumeUsageConcurrent(t *testing.T) {
	c := dockertest.Client(t)
	vol := dockertest.CreateVolume(t, c, "")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	const rounds, n = 5, 4
	clients := make([]*docker.Client, n)
	for i := range clients {
		clients[i] = dockertest.Client(t)
	}
	// Each call is short, so calls sent together do not always overlap:
	// a few rounds make sure some do.
	for round := range rounds {
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				_, errs[i] = clients[i].VolumeUsage(ctx, vol)
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d: VolumeUsage %d of %d at once: %v", round, i, n, err)
			}
		}
	}
}

// TestVolumeUsageSharesOneCall: many panels asking for volume sizes at
// once cost the engine one disk-usage call (it walks every volume), and
// every caller gets the right answer. The shared call is held at its
// start until every caller has joined it, so that they overlap for sure;
// the proxy counts what reaches the engine.
func TestVolumeUsageSharesOneCall(t *testing.T) {
	c := dockertest.Client(t)
	id, _, vol := runWithVolume(t, c, "du")
	// 100 000 bytes: the fixture's busybox has sh and echo, no dd.
	if res := mustExec(t, c, id, "sh", "-c", "i=0; while [ $i -lt 1000 ]; do echo -n 0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789; i=$((i+1)); done > /data/f"); res.ExitCode != 0 {
		t.Fatalf("write 100 000 bytes into the volume: %+v", res)
	}
	p := dockertest.StartProxy(t)
	pc, err := docker.New(docker.WithHost(p.Host))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { pc.Close() })

	var calls, attempts atomic.Int64
	joined := make(chan struct{})
	docker.SetDiskUsageHook(pc, func(attempt int) {
		attempts.Add(1)
		if attempt == 1 {
			calls.Add(1)
			<-joined
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	const n = 8
	got := make([]docker.VolumeUsage, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i], errs[i] = pc.VolumeUsage(ctx, vol) })
	}
	dockertest.WaitFor(t, time.Minute, func() (bool, string) {
		w := docker.DiskUsageWaiting(pc)
		return w == n, fmt.Sprintf("%d of %d callers wait for the shared call", w, n)
	})
	close(joined)
	wg.Wait()

	want := docker.VolumeUsage{Size: 100000, RefCount: 1}
	for i := range n {
		if errs[i] != nil || got[i] != want {
			t.Errorf("VolumeUsage %d of %d = %+v, %v; want %+v", i, n, got[i], errs[i], want)
		}
	}
	if c := calls.Load(); c != 1 {
		t.Errorf("shared disk-usage calls = %d, want 1", c)
	}
	// Another process's disk-usage call (engines before 23.0 run one at
	// a time) makes the shared call ask again: those retries are one
	// call still, and every request to the engine is one of them.
	df := 0
	for _, path := range p.Paths() {
		if strings.HasSuffix(path, "/system/df") {
			df++
		}
	}
	if a := attempts.Load(); int64(df) != a {
		t.Errorf("disk-usage requests through the proxy = %d, want %d (the one call's attempts)", df, a)
	}
	t.Logf("%d callers, %d call, %d engine requests", n, calls.Load(), df)
}
