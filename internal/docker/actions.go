package docker

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/go-connections/nat"
)

// ContainerSpec describes a container to create. Mounts are structured
// (never a "-v" string), so a name can never smuggle in a host path.
type ContainerSpec struct {
	Name   string
	Image  string
	Cmd    []string
	Labels map[string]string
	// Network is the network to start on ("" means the default bridge).
	Network string
	// NetworkMode "container:<id>" shares another container's namespace.
	NetworkMode string
	// Links are legacy links on the default bridge, "target:alias".
	Links  []string
	Mounts []MountSpec
	// VolumesFrom copies other containers' mounts, like `--volumes-from`:
	// "<name or ID>" or "<name or ID>:ro".
	VolumesFrom []string
	// Interactive keeps a shell-like command alive, like `docker run -dit`.
	Interactive bool
	// Env holds "KEY=value" pairs added to the image's environment.
	Env []string
	// User overrides the image's USER ("uid", "uid:gid" or a name the
	// image's /etc/passwd knows); "" keeps the image's.
	User string
	// GroupAdd lists extra groups (names or numeric IDs) for the
	// container's process, like `--group-add`, e.g. the gid that owns the
	// Docker socket so a non-root process can connect to it.
	GroupAdd []string
	// Ports are published on the host, like `-p`.
	Ports []PortSpec
}

// PortSpec publishes one container port on the host, like
// `-p HostIP:HostPort:ContainerPort/Protocol`.
type PortSpec struct {
	// ContainerPort is the port inside the container.
	ContainerPort uint16
	// Protocol is "tcp" (the default when empty), "udp" or "sctp".
	Protocol string
	// HostIP is the host address to bind. Empty means every interface of
	// the host, so say "127.0.0.1" unless the port is meant to be public.
	HostIP string
	// HostPort is the port on the host; 0 lets the engine pick a free one.
	HostPort uint16
}

// MountSpec is one mount of a new container.
type MountSpec struct {
	// Type is "volume", "bind" or "tmpfs".
	Type     string
	Source   string
	Target   string
	ReadOnly bool
}

// CreateContainer creates (but does not start) a container and returns its ID.
func (c *Client) CreateContainer(ctx context.Context, spec ContainerSpec) (string, error) {
	cfg, hc := containerConfig(spec)
	return c.create(ctx, spec.Name, cfg, hc)
}

// create makes a container from the engine's terms.
func (c *Client) create(ctx context.Context, name string, cfg *container.Config, hc *container.HostConfig) (string, error) {
	if err := c.ready(ctx); err != nil {
		return "", err
	}
	resp, err := c.api.ContainerCreate(ctx, cfg, hc, &network.NetworkingConfig{}, nil, name)
	if err != nil {
		return "", translate("create container "+name, err)
	}
	return resp.ID, nil
}

// containerConfig is spec in the engine's terms.
func containerConfig(spec ContainerSpec) (*container.Config, *container.HostConfig) {
	cfg := &container.Config{
		Image: spec.Image, Cmd: spec.Cmd, Labels: spec.Labels, Env: spec.Env, User: spec.User,
		Tty: spec.Interactive, OpenStdin: spec.Interactive,
	}
	hc := &container.HostConfig{Links: spec.Links, GroupAdd: spec.GroupAdd, VolumesFrom: spec.VolumesFrom}
	switch {
	case spec.NetworkMode != "":
		hc.NetworkMode = container.NetworkMode(spec.NetworkMode)
	case spec.Network != "":
		hc.NetworkMode = container.NetworkMode(spec.Network)
	}
	for _, m := range spec.Mounts {
		hc.Mounts = append(hc.Mounts, mount.Mount{
			Type: mount.Type(m.Type), Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly,
		})
	}
	for _, p := range spec.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		port := nat.Port(fmt.Sprintf("%d/%s", p.ContainerPort, proto))
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts, hc.PortBindings = nat.PortSet{}, nat.PortMap{}
		}
		// Expose what is published, as `docker run -p` does, so the
		// binding holds whether or not the image says EXPOSE.
		cfg.ExposedPorts[port] = struct{}{}
		b := nat.PortBinding{HostIP: p.HostIP}
		if p.HostPort != 0 {
			b.HostPort = strconv.Itoa(int(p.HostPort))
		}
		hc.PortBindings[port] = append(hc.PortBindings[port], b)
	}
	return cfg, hc
}

// StartContainer starts a container by ID or name.
func (c *Client) StartContainer(ctx context.Context, id string) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	return translate("start container "+id, c.api.ContainerStart(ctx, id, container.StartOptions{}))
}

// StopContainer stops a container, killing it after timeout.
func (c *Client) StopContainer(ctx context.Context, id string, timeout time.Duration) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	secs := int(timeout / time.Second)
	return translate("stop container "+id, c.api.ContainerStop(ctx, id, container.StopOptions{Timeout: &secs}))
}

// RemoveContainer removes a container; force kills it first if running.
// Its volumes are kept: dockmap never deletes data as a side effect.
func (c *Client) RemoveContainer(ctx context.Context, id string, force bool) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	return translate("remove container "+id, c.api.ContainerRemove(ctx, id, container.RemoveOptions{Force: force}))
}

// NetworkSpec describes a network to create.
type NetworkSpec struct {
	Name     string
	Labels   map[string]string
	Internal bool
	// ICC false turns inter-container communication off.
	ICC     bool
	Subnet  string
	Gateway string
}

// CreateNetwork creates a bridge network and returns its ID.
func (c *Client) CreateNetwork(ctx context.Context, spec NetworkSpec) (string, error) {
	if err := c.ready(ctx); err != nil {
		return "", err
	}
	opts := network.CreateOptions{Driver: "bridge", Labels: spec.Labels, Internal: spec.Internal}
	if !spec.ICC {
		opts.Options = map[string]string{optionICC: "false"}
	}
	if spec.Subnet != "" {
		opts.IPAM = &network.IPAM{Config: []network.IPAMConfig{{Subnet: spec.Subnet, Gateway: spec.Gateway}}}
	}
	resp, err := c.api.NetworkCreate(ctx, spec.Name, opts)
	if err != nil {
		return "", translate("create network "+spec.Name, err)
	}
	return resp.ID, nil
}

// RemoveNetwork removes a network by ID or name; the engine refuses while
// running members remain (ErrConflict).
func (c *Client) RemoveNetwork(ctx context.Context, id string) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	return translateNetwork("remove network "+id, c.api.NetworkRemove(ctx, id))
}

// ConnectNetwork attaches a container to a network with optional aliases.
func (c *Client) ConnectNetwork(ctx context.Context, networkID, containerID string, aliases []string) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	return translate("connect "+containerID+" to "+networkID,
		c.api.NetworkConnect(ctx, networkID, containerID, &network.EndpointSettings{Aliases: aliases}))
}

// DisconnectNetwork detaches a container from a network.
func (c *Client) DisconnectNetwork(ctx context.Context, networkID, containerID string) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	return translate("disconnect "+containerID+" from "+networkID,
		c.api.NetworkDisconnect(ctx, networkID, containerID, false))
}

// CreateVolume creates a named local volume.
func (c *Client) CreateVolume(ctx context.Context, name string, labels map[string]string) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	_, err := c.api.VolumeCreate(ctx, volume.CreateOptions{Name: name, Driver: "local", Labels: labels})
	return translate("create volume "+name, err)
}

// RemoveVolume removes a volume; the engine refuses while it is in use.
func (c *Client) RemoveVolume(ctx context.Context, name string) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	return translate("remove volume "+name, c.api.VolumeRemove(ctx, name, false))
}

// ImportImage makes an image from a root filesystem tar (`docker import`),
// which is how dockmap builds images with no registry to pull from.
// changes are Dockerfile instructions such as `CMD ["sh"]`.
func (c *Client) ImportImage(ctx context.Context, rootfs io.Reader, ref string, changes []string) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	rc, err := c.api.ImageImport(ctx, image.ImportSource{Source: rootfs, SourceName: "-"}, ref, image.ImportOptions{Changes: changes})
	if err != nil {
		return translate("import image "+ref, err)
	}
	defer rc.Close()
	// The engine reports progress and errors in the stream; drain it so the
	// import finishes before we return.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return translate("import image "+ref, err)
	}
	return nil
}

// ImageExists reports whether a local image has this reference.
func (c *Client) ImageExists(ctx context.Context, ref string) (bool, error) {
	if err := c.ready(ctx); err != nil {
		return false, err
	}
	imgs, err := c.api.ImageList(ctx, image.ListOptions{Filters: filters.NewArgs(filters.Arg("reference", ref))})
	if err != nil {
		return false, translate("list images", err)
	}
	return len(imgs) > 0, nil
}

// Labelled lists the IDs of containers, networks and volumes that carry the
// label key=value (tests use it to clean up what they made).
func (c *Client) Labelled(ctx context.Context, key, value string) (containers, networks, volumes []string, err error) {
	if err := c.ready(ctx); err != nil {
		return nil, nil, nil, err
	}
	f := filters.NewArgs(filters.Arg("label", key+"="+value))
	cs, err := c.api.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return nil, nil, nil, translate("list containers", err)
	}
	for _, s := range cs {
		containers = append(containers, s.ID)
	}
	ns, err := c.api.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return nil, nil, nil, translate("list networks", err)
	}
	for _, n := range ns {
		networks = append(networks, n.ID)
	}
	vs, err := c.api.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		return nil, nil, nil, translate("list volumes", err)
	}
	for _, v := range vs.Volumes {
		volumes = append(volumes, v.Name)
	}
	return containers, networks, volumes, nil
}
