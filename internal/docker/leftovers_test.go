package docker_test

import (
	"errors"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/topology"
)

// crashAfter does by hand what an interrupted recreate of s leaves: the
// old container stopped, renamed and off its networks, and, if create, a
// new container under the original name on the same networks (started if
// start). It returns the new container's ID.
func crashAfter(t *testing.T, c *docker.Client, api *client.Client, s svc, create, start bool) string {
	t.Helper()
	ctx := t.Context()
	zero := 0
	if err := api.ContainerStop(ctx, s.id, container.StopOptions{Timeout: &zero}); err != nil {
		t.Fatal(err)
	}
	if err := api.ContainerRename(ctx, s.id, s.name+"-dockmap-old-"+s.id[:12]); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{s.netA, s.netB} {
		if err := api.NetworkDisconnect(ctx, n, s.id, false); err != nil {
			t.Fatal(err)
		}
	}
	if !create {
		return ""
	}
	old := rcInspect(t, api, s.id)
	hc := *old.HostConfig
	return rcRun(t, c, api, rcSpec{
		name: s.name, cfg: *old.Config, hc: hc, stopped: !start,
		net: s.netA, ep: &network.EndpointSettings{
			IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: s.ip}, Aliases: []string{"svc-a"},
			Links: []string{s.peer + ":pp"},
		},
		extra: map[string]*network.EndpointSettings{s.netB: {Aliases: []string{"svc-b"}}},
	})
}

// TestLeftovers finds the leftovers of interrupted recreates and rolls
// them back or finishes them (FLT-09).
func TestLeftovers(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	api := rcAPI(t)

	// These leftovers have no journal (made by hand, as a dockmap from
	// before journals left them): found by the old container's name.
	find := func(t *testing.T, oldID string) (docker.LeftoverContainer, bool) {
		t.Helper()
		los, err := c.Leftovers(t.Context())
		if err != nil {
			t.Fatalf("Leftovers: %v", err)
		}
		for _, lo := range los {
			if lo.ID == oldID && len(lo.Containers) == 1 && lo.Containers[0].OldID == oldID && lo.Job == "" {
				return lo.Containers[0], true
			}
		}
		return docker.LeftoverContainer{}, false
	}

	t.Run("rollback", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := newSvc(t, c, api, "")
		before := rcInspect(t, api, s.id)
		newID := crashAfter(t, c, api, s, true, false)
		want := docker.LeftoverContainer{OldID: s.id, OldName: s.name + "-dockmap-old-" + s.id[:12], OriginalName: s.name, NewID: newID}
		if lo, ok := find(t, s.id); !ok || lo != want {
			t.Fatalf("Leftovers has %+v (found %v), want %+v", lo, ok, want)
		}
		if err := c.FinishLeftover(ctx, s.id); !errors.Is(err, topology.ErrConflict) {
			t.Errorf("FinishLeftover with the new container stopped = %v, want ErrConflict", err)
		}
		if err := c.RollbackLeftover(ctx, s.id); err != nil {
			t.Fatalf("RollbackLeftover: %v", err)
		}
		s.check(t, api, s.id, before)
		if _, err := api.ContainerInspect(ctx, newID); !cerrdefs.IsNotFound(err) {
			t.Errorf("new container still exists (inspect: %v)", err)
		}
		if lo, ok := find(t, s.id); ok {
			t.Errorf("Leftovers still has %+v", lo)
		}
		if err := c.RollbackLeftover(ctx, s.id); !errors.Is(err, topology.ErrNotFound) {
			t.Errorf("RollbackLeftover of a container that is no leftover = %v, want ErrNotFound", err)
		}
	})

	t.Run("rollback without a new container", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		name := dockertest.UniqueName(t, "solo")
		id := rcRun(t, c, api, rcSpec{name: name})
		zero := 0
		if err := api.ContainerStop(ctx, id, container.StopOptions{Timeout: &zero}); err != nil {
			t.Fatal(err)
		}
		if err := api.ContainerRename(ctx, id, name+"-dockmap-old-"+id[:12]); err != nil {
			t.Fatal(err)
		}
		if err := api.NetworkDisconnect(ctx, "bridge", id, false); err != nil {
			t.Fatal(err)
		}
		if lo, ok := find(t, id); !ok || lo.NewID != "" || lo.OriginalName != name {
			t.Fatalf("Leftovers has %+v (found %v), want %s with no new container", lo, ok, name)
		}
		if err := c.FinishLeftover(ctx, id); !errors.Is(err, topology.ErrConflict) {
			t.Errorf("FinishLeftover with no new container = %v, want ErrConflict", err)
		}
		if err := c.RollbackLeftover(ctx, id); err != nil {
			t.Fatalf("RollbackLeftover: %v", err)
		}
		got := rcInspect(t, api, name)
		if got.ID != id || !got.State.Running || got.NetworkSettings.Networks["bridge"] == nil || got.NetworkSettings.Networks["bridge"].IPAddress == "" {
			t.Errorf("after rollback: %s %s networks %v; want the original running on the bridge", got.ID[:12], got.State.Status, got.NetworkSettings.Networks)
		}
	})

	t.Run("finish", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := newSvc(t, c, api, "")
		newID := crashAfter(t, c, api, s, true, true)
		if lo, ok := find(t, s.id); !ok || lo.NewID != newID || !lo.NewRunning {
			t.Fatalf("Leftovers has %+v (found %v), want new container %s running", lo, ok, newID[:12])
		}
		if err := c.FinishLeftover(ctx, s.id); err != nil {
			t.Fatalf("FinishLeftover: %v", err)
		}
		if _, err := api.ContainerInspect(ctx, s.id); !cerrdefs.IsNotFound(err) {
			t.Errorf("old container still exists (inspect: %v)", err)
		}
		if got := rcInspect(t, api, s.name); got.ID != newID || !got.State.Running {
			t.Errorf("%s is %s %s, want the new container running", s.name, got.ID[:12], got.State.Status)
		}
		if _, ok := find(t, s.id); ok {
			t.Errorf("Leftovers still lists the finished one")
		}
	})
}
