package docker_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/volume"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/topology"
)

// noOldNames fails the test if a container named like a re-create's old
// one is left of any of names.
func noOldNames(t *testing.T, c *docker.Client, names ...string) {
	t.Helper()
	for _, ct := range mustList(t, c).Containers {
		for _, n := range names {
			if strings.HasPrefix(ct.Name, n+topology.LeftoverMarker) {
				t.Errorf("%s is left over", ct.Name)
			}
		}
	}
}

// TestRecreateAllTakesTheLinkerAlong is chapter 3 after chapter 1: a
// mount added to database, which web links to, with web re-created too
// (following the new database). Afterwards web reaches database by the
// link's name, and no container points at an old one.
func TestRecreateAllTakesTheLinkerAlong(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	api := rcAPI(t)
	ctx, cancel := context.WithTimeout(t.Context(), rcTimeout)
	defer cancel()
	dbName := dockertest.UniqueName(t, "database")
	db := rcRun(t, c, api, rcSpec{name: dbName})
	webName := dockertest.UniqueName(t, "web")
	web := rcRun(t, c, api, rcSpec{name: webName, hc: container.HostConfig{Links: []string{dbName + ":db"}}})
	vol := dockertest.CreateVolume(t, c, "")

	var steps rcSteps
	orders := []docker.RecreateOrder{
		{ID: db, Expect: docker.Expectation{Name: dbName, NetworkMode: "default", Networks: []string{"bridge"}, Running: true},
			Change: docker.RecreateChange{AddMounts: []docker.MountSpec{{Type: "volume", Source: vol, Target: "/data"}}}},
		{ID: web, Expect: docker.Expectation{Name: webName, NetworkMode: "default", Networks: []string{"bridge"}, Running: true},
			Follow: []string{db}},
	}
	ids, err := c.RecreateAll(ctx, orders, docker.RecreateOptions{Job: "t" + dockertest.RunID()}, steps.add)
	for _, id := range ids {
		dockertest.TrackContainer(t, c, id)
	}
	if err != nil {
		t.Fatalf("RecreateAll: %v (steps %v)", err, steps.ended())
	}
	want := []string{"stop=done", "rename=done", "disconnect=done", "create=done", "start=done", "verify=done",
		"stop=done", "rename=done", "disconnect=done", "create=done", "start=done", "verify=done", "remove old=done", "remove old=done"}
	if got := steps.ended(); !slices.Equal(got, want) {
		t.Errorf("steps = %v, want %v", got, want)
	}
	newDB, newWeb := rcInspect(t, api, dbName), rcInspect(t, api, webName)
	if newDB.ID != ids[0] || newWeb.ID != ids[1] || ids[0] == db || ids[1] == web {
		t.Fatalf("new containers %s %s, RecreateAll said %v", newDB.ID[:12], newWeb.ID[:12], ids)
	}
	if want := []string{"/" + dbName + ":/" + webName + "/db"}; !slices.Equal(newWeb.HostConfig.Links, want) {
		t.Errorf("web links = %v, want %v (the new database)", newWeb.HostConfig.Links, want)
	}
	if out, code := rcExec(t, api, newWeb.ID, "ping", "-c", "1", "-W", "2", "db"); code != 0 {
		t.Errorf("ping db from the new web: exit %d: %s", code, out)
	}
	noOldNames(t, c, dbName, webName)
	rcNoLeftover(t, c, dbName)
}

// TestRecreateAllIsOneTransaction: when the dependent's re-create fails,
// the subject's is undone too, so nothing points at an old container.
func TestRecreateAllIsOneTransaction(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	api := rcAPI(t)
	ctx, cancel := context.WithTimeout(t.Context(), rcTimeout)
	defer cancel()
	dbName := dockertest.UniqueName(t, "database")
	db := rcRun(t, c, api, rcSpec{name: dbName})
	webName := dockertest.UniqueName(t, "web")
	web := rcRun(t, c, api, rcSpec{name: webName, hc: container.HostConfig{Links: []string{dbName + ":db"}}})
	// The second create (web's) fails.
	var creates int
	var mu sync.Mutex
	docker.SetRecreateHook(c, func(step string) error {
		mu.Lock()
		defer mu.Unlock()
		if step == "create" {
			if creates++; creates == 2 {
				return errors.New("injected fault")
			}
		}
		return nil
	})
	orders := []docker.RecreateOrder{{ID: db}, {ID: web, Follow: []string{db}}}
	var steps rcSteps
	ids, err := c.RecreateAll(ctx, orders, docker.RecreateOptions{}, steps.add)
	if err == nil || !errors.Is(err, topology.ErrRolledBack) || len(ids) != 0 {
		t.Fatalf("RecreateAll = %v, %v; want a rollback (steps %v)", ids, err, steps.ended())
	}
	t.Logf("%v\nsteps: %v", err, steps.ended())
	for name, id := range map[string]string{dbName: db, webName: web} {
		got := rcInspect(t, api, name)
		if got.ID != id || !got.State.Running {
			t.Errorf("%s is %s %s after the rollback, want the original running", name, got.ID[:12], got.State.Status)
		}
	}
	if out, code := rcExec(t, api, web, "ping", "-c", "1", "-W", "2", "db"); code != 0 {
		t.Errorf("ping db from web after the rollback: exit %d: %s", code, out)
	}
	noOldNames(t, c, dbName, webName)
	rcNoLeftover(t, c, dbName)
	rcNoLeftover(t, c, webName)
}

// TestRecreateAllRefusesAStalePlan: a container that is no longer what the
// plan took it for is not touched.
func TestRecreateAllRefusesAStalePlan(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	api := rcAPI(t)
	name := dockertest.UniqueName(t, "web")
	id := rcRun(t, c, api, rcSpec{name: name})
	before := rcInspect(t, api, id)
	for what, e := range map[string]docker.Expectation{
		"stopped":     {Name: name, NetworkMode: "default", Networks: []string{"bridge"}, Running: false},
		"other nets":  {Name: name, NetworkMode: "default", Networks: []string{"appnet", "bridge"}, Running: true},
		"renamed":     {Name: name + "x", NetworkMode: "default", Networks: []string{"bridge"}, Running: true},
		"other mode ": {Name: name, NetworkMode: "appnet", Networks: []string{"bridge"}, Running: true},
	} {
		_, err := c.RecreateAll(t.Context(), []docker.RecreateOrder{{ID: id, Expect: e}}, docker.RecreateOptions{}, nil)
		if !errors.Is(err, docker.ErrStale) || !errors.Is(err, topology.ErrConflict) {
			t.Errorf("%s: RecreateAll = %v, want ErrStale", what, err)
		}
	}
	after := rcInspect(t, api, id)
	if after.State.StartedAt != before.State.StartedAt || after.Name != before.Name {
		t.Errorf("a stale plan touched %s: started %s → %s", name, before.State.StartedAt, after.State.StartedAt)
	}
}

// TestRecreateGuardsTheEffectiveMounts: the adapter itself refuses a
// change whose mounts resolve to the Docker socket or the host's root,
// through another container's volumes or a volume's driver options,
// whatever the caller checked before.
func TestRecreateGuardsTheEffectiveMounts(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	api := rcAPI(t)
	ctx := t.Context()
	sockName := dockertest.UniqueName(t, "sock")
	rcRun(t, c, api, rcSpec{name: sockName, hc: container.HostConfig{Binds: []string{"/var/run/docker.sock:/var/run/docker.sock:ro"}}, stopped: true})
	rootVol := dockertest.UniqueName(t, "hostroot")
	if _, err := api.VolumeCreate(ctx, volumeCreate(rootVol, map[string]string{"type": "none", "o": "bind", "device": "/"})); err != nil {
		t.Fatalf("create a bind-backed volume: %v", err)
	}
	dockertest.TrackVolume(t, c, rootVol)
	name := dockertest.UniqueName(t, "target")
	id := rcRun(t, c, api, rcSpec{name: name})

	for what, ch := range map[string]docker.RecreateChange{
		"volumes-from a socket donor": {AddVolumesFrom: []string{sockName}},
		"a volume bound to /":         {AddMounts: []docker.MountSpec{{Type: "volume", Source: rootVol, Target: "/host"}}},
	} {
		newID, err := c.Recreate(ctx, name, ch, nil)
		if !errors.Is(err, topology.ErrForbidden) || newID != "" {
			t.Errorf("%s: Recreate = %s, %v; want ErrForbidden", what, newID, err)
		}
	}
	if got := rcInspect(t, api, name); got.ID != id || !got.State.Running || len(got.Mounts) != 0 {
		t.Errorf("%s after the refusals: %s %s mounts %v; want it untouched", name, got.ID[:12], got.State.Status, got.Mounts)
	}
}

// volumeCreate asks for a local volume with driver options, labelled as
// the tests' own.
func volumeCreate(name string, opts map[string]string) volume.CreateOptions {
	return volume.CreateOptions{Name: name, Driver: "local", DriverOpts: opts, Labels: dockertest.Labels()}
}

// TestStopSaysWhyItWaits: a container whose main process ignores its stop
// signal makes the stop step say so, with the deadline and a kill; the
// kill ends the wait at once.
func TestStopSaysWhyItWaits(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	api := rcAPI(t)
	ctx, cancel := context.WithTimeout(t.Context(), rcTimeout)
	defer cancel()
	name := dockertest.UniqueName(t, "stubborn")
	// A shell that ignores SIGTERM: only the engine's kill at the stop
	// timeout (or "Kill now") ends it.
	id := rcRun(t, c, api, rcSpec{name: name, cfg: container.Config{Cmd: []string{"sh", "-c", "trap '' TERM; while true; do sleep 1; done"}}})
	waiting := make(chan docker.Step, 1)
	var stopAt time.Time // when the stop step began, as reported
	progress := func(s docker.Step) {
		if s.Kind == "stop" && s.State == docker.StepRunning && s.Kill == nil && stopAt.IsZero() {
			stopAt = time.Now()
		}
		if s.Kind == "stop" && s.State == docker.StepRunning && s.Kill != nil {
			select {
			case waiting <- s:
			default:
			}
		}
	}
	type result struct {
		id  string
		err error
	}
	done := make(chan result, 1)
	go func() {
		newID, err := c.Recreate(ctx, name, docker.RecreateChange{}, progress)
		done <- result{newID, err}
	}()
	var s docker.Step
	select {
	case s = <-waiting:
	case r := <-done:
		t.Fatalf("the re-create ended (%v) without saying why the stop waits", r.err)
	}
	// The deadline is the stop timeout after the stop began (the events
	// come from the re-create's goroutine, before and after it asks).
	if in := s.Deadline.Sub(stopAt); !strings.Contains(s.Detail, "ignores the stop signal") || !strings.Contains(s.Detail, "SIGTERM") ||
		in < 9*time.Second || in > 11*time.Second {
		t.Errorf("waiting step = %q, deadline %v after the stop began; want the signal named and the 10 s stop timeout", s.Detail, in)
	}
	if err := s.Kill(); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	r := <-done
	if r.id != "" {
		dockertest.TrackContainer(t, c, r.id)
	}
	if r.err != nil {
		t.Fatalf("Recreate after the kill: %v", r.err)
	}
	if _, err := api.ContainerInspect(ctx, id); !cerrdefs.IsNotFound(err) {
		t.Errorf("old container after the re-create: %v, want gone", err)
	}
	if got := rcInspect(t, api, name); got.ID != r.id || !got.State.Running {
		t.Errorf("%s is %s %s, want the new one running", name, got.ID[:12], got.State.Status)
	}
}

// TestJournalWithoutALease: a dockmap with no helper image (a build with
// cgo whose libraries cannot all be found) cannot run a lease, yet a re-create still writes its
// journal first, on a container that is never started: another dockmap
// sees the re-create as carried out elsewhere while it is young, and the
// journal goes when the re-create ends.
func TestJournalWithoutALease(t *testing.T) {
	t.Parallel()
	// The skip-or-fail check; then a client whose helper binary needs a
	// library that does not exist, so it has no helper image.
	dockertest.Client(t)
	noHelper, _ := dockertest.MissingLibraryBinary(t)
	c, err := docker.New(docker.WithHelperBinary(noHelper))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	other := dockertest.Client(t)
	api := rcAPI(t)
	name := dockertest.UniqueName(t, "web")
	id := rcRun(t, other, api, rcSpec{name: name})
	paused, resume := make(chan struct{}), make(chan struct{})
	docker.SetRecreateHook(c, func(step string) error {
		if step == "rename" {
			close(paused)
			<-resume
		}
		return nil
	})
	done := make(chan error, 1)
	var newID string
	go func() {
		var err error
		newID, err = c.Recreate(t.Context(), name, docker.RecreateChange{}, nil)
		done <- err
	}()
	<-paused
	los, err := other.Leftovers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, lo := range los {
		if len(lo.Containers) > 0 && lo.Containers[0].OldID == id {
			found = true
			if !lo.Elsewhere || lo.Job == "" {
				t.Errorf("the re-create of %s is listed as %+v, want carried out elsewhere", name, lo)
			}
		}
	}
	if !found {
		t.Errorf("no journal of the re-create of %s while it runs", name)
	}
	close(resume)
	if err := <-done; err != nil {
		t.Fatalf("Recreate without a lease: %v", err)
	}
	dockertest.TrackContainer(t, other, newID)
	dockertest.WaitFor(t, 30*time.Second, func() (bool, string) {
		los, err := other.Leftovers(t.Context())
		if err != nil {
			return false, err.Error()
		}
		for _, lo := range los {
			if len(lo.Containers) > 0 && lo.Containers[0].OldID == id {
				return false, "the journal is still there"
			}
		}
		return true, ""
	})
}
