package docker_test

import (
	"testing"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
)

// dockmap's probe helpers are plumbing: they must never appear on the map.
func TestHelpersAreNotListed(t *testing.T) {
	c := dockertest.Client(t)
	helper := dockertest.RunContainer(t, c, dockertest.WithLabel(docker.HelperLabel, "1"))
	plain := dockertest.RunContainer(t, c)
	inv, err := c.ListInventory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var sawHelper, sawPlain bool
	for _, ct := range inv.Containers {
		sawHelper = sawHelper || ct.ID == helper
		sawPlain = sawPlain || ct.ID == plain
	}
	if sawHelper || !sawPlain {
		t.Errorf("listed helper %v (want false), plain container %v (want true)", sawHelper, sawPlain)
	}
}
