package probe_test

import (
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/plan"
	"github.com/dockmap/dockmap/internal/probe"
	"github.com/dockmap/dockmap/internal/topology"
)

// A probe sidecar runs in its source's network namespace, like a user's
// `--network container:<source>` container, but it is dockmap's own: the
// plan of a re-create of the source must not list it among the containers
// that lose their network, and the map must not show it.
func TestSidecarIsNoRecreateDependent(t *testing.T) {
	t.Parallel()
	c := engine(t)
	net := dockertest.CreateNetwork(t, c, "")
	a := runBox(t, c, "a", dockertest.WithNetwork(net))
	b := runBox(t, c, "b", dockertest.WithNetwork(net))
	user := runBox(t, c, "user", dockertest.WithNetworkMode("container:"+a.id))
	mark := dockertest.UniqueName(t, "helper")
	p := newProber(t, c, nil, probe.WithBatch(1), probe.WithSidecars(time.Hour),
		probe.WithHelperLabels(dockertest.Labels("dockmap.test.helper", mark)))
	got := p.Run(t.Context(), []probe.Request{req(a, b, probe.ByName, 0)})
	check(t, "a → b", got[0], want{ok: true, resolved: b.ip, method: probe.MethodHelper})
	sidecars := helpersLeft(t, c, mark)
	if len(sidecars) != 1 {
		t.Fatalf("sidecars = %v, want one in a's namespace", sidecars)
	}

	netns := func(c *docker.Client) map[string]bool {
		t.Helper()
		inv, err := c.ListInventory(t.Context())
		if err != nil {
			t.Fatalf("ListInventory: %v", err)
		}
		g := topology.Build(inv)
		n, _ := g.Node(topology.ContainerNodeID(a.id))
		ids := make(map[string]bool)
		for _, d := range plan.Dependents(g, n) {
			if d.Kind == plan.DependsNetNS {
				ids[d.Container.ID] = true
			}
		}
		return ids
	}
	if got := netns(c); !got[user.id] || got[sidecars[0]] || len(got) != 1 {
		t.Errorf("netns dependents = %v, want only the user's container %s, not the sidecar %s", got, user.id[:12], sidecars[0][:12])
	}
	// A client that knows neither the sidecar nor the helper image (its
	// helper binary is another) sees it there: the plan above left it out
	// because it is dockmap's, not because it is absent.
	if got := netns(dockertest.Client(t)); !got[sidecars[0]] {
		t.Errorf("a plain client's netns dependents = %v, want the sidecar %s among them", got, sidecars[0][:12])
	}
	inv, err := c.ListInventory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, ct := range inv.Containers {
		if ct.ID == sidecars[0] {
			t.Errorf("the sidecar is on the map: %+v", ct)
		}
	}
}
