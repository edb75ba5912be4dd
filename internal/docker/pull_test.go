package docker_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/topology"
)

// TestPullFromAnUnreachableRegistry: a registry that refuses connections
// is the engine's answer to a pull, not the engine being down. The page
// said "engine unreachable" (and the engine badge could not agree) when
// the daemon's own message mentioned "connection refused".
func TestPullFromAnUnreachableRegistry(t *testing.T) {
	c := dockertest.Client(t)
	// Port 1 on loopback: nothing listens there, so the engine's dial to
	// this "registry" is refused at once, with no internet needed.
	err := c.PullImage(t.Context(), "127.0.0.1:1/dockmap-no-such-image:latest", nil)
	if err == nil {
		t.Fatal("pull from 127.0.0.1:1 succeeded")
	}
	if errors.Is(err, topology.ErrEngineUnreachable) {
		t.Errorf("pull error = %v, wraps ErrEngineUnreachable; the engine answered", err)
	}
	if !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("pull error = %v, want the engine's words naming the registry", err)
	}
	if _, _, err := c.Version(t.Context()); err != nil {
		t.Errorf("the engine does not answer after the pull: %v", err)
	}
}
