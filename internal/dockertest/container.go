package dockertest

import (
	"testing"

	"github.com/dockmap/dockmap/internal/docker"
)

// ContainerOption changes the container RunContainer makes.
type ContainerOption func(*containerConfig)

type containerConfig struct {
	spec    docker.ContainerSpec
	stopped bool
	cmdSet  bool
}

// WithName names the container (default: UniqueName(t, "c")).
func WithName(name string) ContainerOption {
	return func(c *containerConfig) { c.spec.Name = name }
}

// WithNetwork starts the container on a network (name or ID) instead of
// the default bridge.
func WithNetwork(network string) ContainerOption {
	return func(c *containerConfig) { c.spec.Network = network }
}

// WithNetworkMode sets the network mode, e.g. "container:<id or name>" to
// share another container's network namespace, or "none".
func WithNetworkMode(mode string) ContainerOption {
	return func(c *containerConfig) { c.spec.NetworkMode = mode }
}

// WithLink adds a legacy link (`--link target:alias`) to target, a
// container name or ID on the default bridge.
func WithLink(target, alias string) ContainerOption {
	return func(c *containerConfig) { c.spec.Links = append(c.spec.Links, target+":"+alias) }
}

// WithMount adds a mount. A volume mount with an empty Source makes an
// anonymous volume, removed with the container.
func WithMount(m docker.MountSpec) ContainerOption {
	return func(c *containerConfig) { c.spec.Mounts = append(c.spec.Mounts, m) }
}

// WithLabel adds a label; the test labels are always set.
func WithLabel(key, value string) ContainerOption {
	return func(c *containerConfig) { c.spec.Labels[key] = value }
}

// WithCmd replaces the command (default: sleep 3600).
func WithCmd(cmd ...string) ContainerOption {
	return func(c *containerConfig) { c.spec.Cmd, c.cmdSet = cmd, true }
}

// Interactive gives the container a TTY and an open stdin, like
// `docker run -dit`, and makes its default command sh, which then waits
// for input instead of exiting.
func Interactive() ContainerOption {
	return func(c *containerConfig) { c.spec.Interactive = true }
}

// Stopped creates the container without starting it (state "created").
func Stopped() ContainerOption {
	return func(c *containerConfig) { c.stopped = true }
}

// RunContainer creates a container from FixtureImage, starts it unless
// Stopped is given, and returns its ID. It is removed (force, with its
// anonymous volumes) when the test ends. Without WithCmd it runs
// `sleep 3600`, or sh when Interactive.
func RunContainer(t testing.TB, c *docker.Client, opts ...ContainerOption) (id string) {
	t.Helper()
	cfg := containerConfig{spec: docker.ContainerSpec{Labels: Labels()}}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.spec.Name == "" {
		cfg.spec.Name = UniqueName(t, "c")
	}
	if !cfg.cmdSet {
		cfg.spec.Cmd = []string{"sleep", "3600"}
		if cfg.spec.Interactive {
			cfg.spec.Cmd = []string{"sh"}
		}
	}
	cfg.spec.Image = fixtureImage(t, c)

	ctx, cancel := callCtx()
	defer cancel()
	id, err := c.CreateContainer(ctx, cfg.spec)
	if err != nil {
		t.Fatalf("run container: %v", err)
	}
	TrackContainer(t, c, id)
	if !cfg.stopped {
		if err := c.StartContainer(ctx, id); err != nil {
			t.Fatalf("run container: %v", err)
		}
	}
	return id
}

// NetworkOption changes the network CreateNetwork makes.
type NetworkOption func(*docker.NetworkSpec)

// WithoutICC turns inter-container communication off on the network.
func WithoutICC() NetworkOption { return func(s *docker.NetworkSpec) { s.ICC = false } }

// WithInternal makes the network internal (no route outside).
func WithInternal() NetworkOption { return func(s *docker.NetworkSpec) { s.Internal = true } }

// WithSubnet gives the network a fixed subnet and gateway.
func WithSubnet(subnet, gateway string) NetworkOption {
	return func(s *docker.NetworkSpec) { s.Subnet, s.Gateway = subnet, gateway }
}

// CreateNetwork creates a user-defined bridge network (ICC on unless
// WithoutICC) and returns its ID; an empty name means UniqueName(t, "net").
// The network is removed when the test ends, after its containers.
func CreateNetwork(t testing.TB, c *docker.Client, name string, opts ...NetworkOption) (id string) {
	t.Helper()
	if name == "" {
		name = UniqueName(t, "net")
	}
	spec := docker.NetworkSpec{Name: name, Labels: Labels(), ICC: true}
	for _, o := range opts {
		o(&spec)
	}
	ctx, cancel := callCtx()
	defer cancel()
	id, err := c.CreateNetwork(ctx, spec)
	if err != nil {
		t.Fatalf("create network: %v", err)
	}
	TrackNetwork(t, c, id)
	return id
}

// CreateVolume creates a named local volume and returns its name; an empty
// name means UniqueName(t, "vol"). The volume is removed when the test
// ends, after its containers.
func CreateVolume(t testing.TB, c *docker.Client, name string) string {
	t.Helper()
	if name == "" {
		name = UniqueName(t, "vol")
	}
	ctx, cancel := callCtx()
	defer cancel()
	if err := c.CreateVolume(ctx, name, Labels()); err != nil {
		t.Fatalf("create volume: %v", err)
	}
	TrackVolume(t, c, name)
	return name
}
