package docker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/versions"

	"github.com/dockmap/dockmap/internal/topology"
)

// recreateSpec is everything a recreate creates the new container from,
// and what the rollback needs to put the old one back.
type recreateSpec struct {
	config *container.Config
	host   *container.HostConfig
	// primary is the network the new container is created on ("" in
	// host, none and container: modes); the others are connected after
	// create, as API 1.41 allows one endpoint at create.
	primary string
	// endpoints are the new container's endpoint settings by network
	// name, primary included; oldEndpoints are the old one's, to
	// reconnect it on rollback. Both hold configuration only.
	endpoints, oldEndpoints map[string]*network.EndpointSettings
	// dropBridge is set for a container in the default network mode that
	// was disconnected from the default bridge: the engine puts the new
	// one there at create, so it is taken off again.
	dropBridge bool
	// wasRunning says whether the old container ran, so the new one is
	// started (and the old one restarted on rollback).
	wasRunning bool
}

// planRecreate validates ch against the inspected container and builds
// the new container's spec: every setting carried over (research/
// docker-api-semantics.md §5.1), minus the values the engine generated,
// plus the change. follow maps the IDs of containers re-created just
// before (in the same transaction) to their new IDs: the references to
// them (legacy links, the network namespace, volumes-from) move to the new
// ones. It makes no change to the engine.
func (c *Client) planRecreate(ctx context.Context, info container.InspectResponse, ch RecreateChange, follow map[string]string) (recreateSpec, error) {
	name := containerName(info)
	st := info.State
	_, leftover := topology.LeftoverName(name)
	switch {
	case leftover:
		return recreateSpec{}, fmt.Errorf("%w: %s is left over from an interrupted recreate: roll it back or finish it first", topology.ErrInvalid, name)
	case info.HostConfig.AutoRemove:
		return recreateSpec{}, fmt.Errorf("%w: %s was run with --rm: stopping it would remove it, so it cannot be re-created safely", topology.ErrInvalid, name)
	case st != nil && st.Paused:
		return recreateSpec{}, fmt.Errorf("%w: %s is paused: unpause it first", topology.ErrConflict, name)
	case st != nil && (st.Dead || st.Status == "removing"):
		return recreateSpec{}, fmt.Errorf("%w: %s is %s", topology.ErrConflict, name, st.Status)
	}
	cfg, hc := *info.Config, *info.HostConfig
	spec := recreateSpec{config: &cfg, host: &hc, wasRunning: st != nil && (st.Running || st.Restarting)}
	mode := hc.NetworkMode

	var err error
	if hc.NetworkMode, err = c.followNetNS(ctx, mode, follow); err != nil {
		return recreateSpec{}, err
	}
	mode = hc.NetworkMode
	if hc.Links, err = c.planLinks(ctx, info, ch, spec.wasRunning, follow); err != nil {
		return recreateSpec{}, err
	}
	if err := c.planVolumesFrom(ctx, info, &hc, ch, follow); err != nil {
		return recreateSpec{}, err
	}
	if err := planMounts(info, &hc, ch.AddMounts); err != nil {
		return recreateSpec{}, err
	}
	hc.ContainerIDFile = "" // a CLI-only field

	// The engine names a container's host after its short ID: the new
	// container gets its own. A container in another's network namespace
	// must have no hostname and no exposed ports of its own (the engine
	// refuses them; the image's come back at create).
	if cfg.Hostname == shortID(info.ID) || mode.IsContainer() {
		cfg.Hostname = ""
	}
	if mode.IsContainer() {
		cfg.ExposedPorts = nil
	}

	// Create from the very image the old container runs: the tag it was
	// created from may point elsewhere now.
	if img, err := c.api.ImageInspect(ctx, cfg.Image); err != nil || img.ID != info.Image {
		cfg.Image = info.Image
	}

	spec.primary, spec.endpoints, spec.oldEndpoints = planEndpoints(info, ch.RemoveLinks)
	spec.dropBridge = (mode.IsDefault() || mode.IsBridge()) && spec.primary == ""
	//lint:ignore SA1019 the container-wide MAC is the user-set one on API < 1.44.
	if mac := cfg.MacAddress; mac != "" && spec.primary != "" && versions.GreaterThanOrEqualTo(c.api.ClientVersion(), "1.44") {
		// From API 1.44 the SDK drops Config.MacAddress: say it per endpoint.
		spec.endpoints[spec.primary].MacAddress = mac
	}
	return spec, nil
}

// followNetNS moves a "container:<X>" network mode to the new container of
// X when X was re-created just before.
func (c *Client) followNetNS(ctx context.Context, mode container.NetworkMode, follow map[string]string) (container.NetworkMode, error) {
	if !mode.IsContainer() || len(follow) == 0 {
		return mode, nil
	}
	donor := mode.ConnectedContainer()
	if nid, ok := follow[donor]; ok {
		return container.NetworkMode("container:" + nid), nil
	}
	d, err := c.api.ContainerInspect(ctx, donor)
	if err == nil {
		if nid, ok := follow[d.ID]; ok {
			return container.NetworkMode("container:" + nid), nil
		}
	}
	return mode, nil
}

// followed returns the name of the new container of the container ref
// names, when that one was re-created just before, else "".
func (c *Client) followed(ctx context.Context, ref string, follow map[string]string) string {
	if len(follow) == 0 {
		return ""
	}
	id := ref
	if _, ok := follow[id]; !ok {
		d, err := c.api.ContainerInspect(ctx, ref)
		if err != nil {
			return ""
		}
		id = d.ID
	}
	nid, ok := follow[id]
	if !ok {
		return ""
	}
	n, err := c.api.ContainerInspect(ctx, nid)
	if err != nil || n.ContainerJSONBase == nil {
		return ""
	}
	return containerName(n)
}

// planLinks returns the new HostConfig.Links: the old legacy links minus
// ch.RemoveLinks plus ch.AddLinks, links to a followed container moved to
// its new one, after checking every target the way the engine will at
// create and start.
func (c *Client) planLinks(ctx context.Context, info container.InspectResponse, ch RecreateChange, running bool, follow map[string]string) ([]string, error) {
	name, mode := containerName(info), info.HostConfig.NetworkMode
	var out []string
	inUse := make(map[string]bool)
	removed := make(map[string]bool)
	for _, l := range info.HostConfig.Links {
		target, alias := parseLink(l)
		if slices.Contains(ch.RemoveLinks, alias) {
			removed[alias] = true
			continue
		}
		// A target re-created just before moves to its new container;
		// one that dockmap re-created earlier was renamed just before it
		// was removed, and the engine shows a link to it under that last
		// name: the link was made to the original name, so follow that.
		if name := c.followed(ctx, target, follow); name != "" {
			target = name
			l = target + ":" + alias
		} else if orig, ok := topology.LeftoverName(target); ok {
			if _, err := c.api.ContainerInspect(ctx, target); cerrdefs.IsNotFound(err) {
				target = orig
				l = target + ":" + alias
			}
		}
		// A kept link must still lead somewhere, or the new container
		// cannot be created (or started).
		if err := c.checkLinkTarget(ctx, info, target, running); err != nil {
			return nil, err
		}
		inUse[alias] = true
		out = append(out, l)
	}
	if info.NetworkSettings != nil {
		for _, ep := range info.NetworkSettings.Networks {
			for _, l := range ep.Links {
				if _, alias := parseLink(l); slices.Contains(ch.RemoveLinks, alias) {
					removed[alias] = true
				}
			}
		}
	}
	for _, a := range ch.RemoveLinks {
		if !removed[a] {
			// The plan saw it: the container changed since.
			return nil, fmt.Errorf("%w: %s has no link named %q (any more)", ErrStale, name, a)
		}
	}
	if len(ch.AddLinks) == 0 {
		return out, nil
	}
	if err := legacyLinksAllowed(name, mode); err != nil {
		return nil, err
	}
	for _, lk := range ch.AddLinks {
		if err := topology.ValidateAlias(lk.Alias); err != nil {
			return nil, err
		}
		if lk.Target == "" {
			return nil, fmt.Errorf("%w: link to %q needs a target container", topology.ErrInvalid, lk.Alias)
		}
		if inUse[lk.Alias] {
			return nil, fmt.Errorf("%w: %s already has a link named %q", topology.ErrConflict, name, lk.Alias)
		}
		target, err := c.inspect(ctx, lk.Target)
		if err != nil {
			return nil, fmt.Errorf("link target: %w", err)
		}
		if target.ID == info.ID {
			return nil, fmt.Errorf("%w: %s cannot link to itself", topology.ErrInvalid, name)
		}
		if err := c.checkLinkTarget(ctx, info, lk.Target, true); err != nil {
			return nil, err
		}
		inUse[lk.Alias] = true
		out = append(out, containerName(target)+":"+lk.Alias)
	}
	return out, nil
}

// validate checks what can be checked in a change without asking the
// engine: alias and volume names, mount types and paths.
func (ch RecreateChange) validate() error {
	for _, lk := range ch.AddLinks {
		if err := topology.ValidateAlias(lk.Alias); err != nil {
			return err
		}
		if lk.Target == "" {
			return fmt.Errorf("%w: link %q needs a target container", topology.ErrInvalid, lk.Alias)
		}
	}
	for _, a := range ch.RemoveLinks {
		if err := topology.ValidateAlias(a); err != nil {
			return err
		}
	}
	for _, m := range ch.AddMounts {
		if _, err := newMount(m); err != nil {
			return err
		}
	}
	for _, vf := range ch.AddVolumesFrom {
		if _, _, err := parseVolumesFromSpec(vf); err != nil {
			return err
		}
	}
	return nil
}

// parseVolumesFromSpec checks a volumes-from entry to add,
// "<donor name or ID>[:ro|:rw]", and splits it.
func parseVolumesFromSpec(s string) (donor string, readOnly bool, err error) {
	donor, mode, hasMode := strings.Cut(s, ":")
	if hasMode && mode != "ro" && mode != "rw" {
		return "", false, fmt.Errorf("%w: volumes-from %q: the mode after ':' must be ro or rw", topology.ErrInvalid, s)
	}
	if !topology.IsFullID(donor) {
		if err := topology.ValidateName("volumes-from container", donor); err != nil {
			return "", false, err
		}
	}
	return donor, mode == "ro", nil
}

// planVolumesFrom appends ch.AddVolumesFrom to hc.VolumesFrom, by the
// donor's name (which a recreate of the donor keeps), after checking each
// donor exists, is not the container itself nor a donor already, and has
// no mount where the container (or ch.AddMounts) already mounts something:
// there the container's own mount would silently win over the donor's.
// It also checks the donors the container already has still exist, as the
// engine refuses to create the new container otherwise.
func (c *Client) planVolumesFrom(ctx context.Context, info container.InspectResponse, hc *container.HostConfig, ch RecreateChange, follow map[string]string) error {
	name := containerName(info)
	donors := make(map[string]bool) // IDs of the donors the container has
	hc.VolumesFrom = slices.Clone(hc.VolumesFrom)
	for i, vf := range hc.VolumesFrom {
		ref, mode, hasMode := strings.Cut(vf, ":")
		ref = strings.TrimPrefix(ref, "/")
		if nn := c.followed(ctx, ref, follow); nn != "" {
			ref = nn
			hc.VolumesFrom[i] = nn
			if hasMode {
				hc.VolumesFrom[i] += ":" + mode
			}
		}
		d, err := c.inspect(ctx, ref)
		if err != nil {
			if errors.Is(err, topology.ErrNotFound) {
				return fmt.Errorf("%w: %s has the volumes of %s, which no longer exists: it cannot be re-created", topology.ErrConflict, name, ref)
			}
			return fmt.Errorf("volumes-from of %s: %w", name, err)
		}
		donors[d.ID] = true
	}
	if len(ch.AddVolumesFrom) == 0 {
		return nil
	}
	used := make(map[string]string) // destination → what is mounted there
	for _, m := range info.Mounts {
		used[path.Clean(m.Destination)] = "a mount"
	}
	for d := range info.Config.Volumes {
		used[path.Clean(d)] = "an image volume"
	}
	for d := range hc.Tmpfs {
		used[path.Clean(d)] = "a tmpfs"
	}
	for _, m := range ch.AddMounts {
		used[path.Clean(m.Target)] = "the mount being added"
	}
	vfs := slices.Clone(hc.VolumesFrom)
	for _, vf := range ch.AddVolumesFrom {
		ref, ro, err := parseVolumesFromSpec(vf)
		if err != nil {
			return err
		}
		d, err := c.inspect(ctx, ref)
		if err != nil {
			return fmt.Errorf("volumes-from: %w", err)
		}
		dname := containerName(d)
		switch {
		case d.ID == info.ID:
			return fmt.Errorf("%w: %s cannot take the volumes of itself", topology.ErrInvalid, name)
		case donors[d.ID]:
			return fmt.Errorf("%w: %s already has the volumes of %s", topology.ErrConflict, name, dname)
		}
		for _, m := range sortedMounts(d.Mounts) {
			dest := path.Clean(m.Destination)
			if what, ok := used[dest]; ok {
				return fmt.Errorf("%w: %s mounts %s at %s, where %s already has %s", topology.ErrInvalid, dname, mountLabel(m), dest, name, what)
			}
			used[dest] = "a mount of " + dname
		}
		donors[d.ID] = true
		entry := dname
		if ro {
			entry += ":ro"
		}
		vfs = append(vfs, entry)
	}
	hc.VolumesFrom = vfs
	return nil
}

// mountLabel names what a mount point mounts, for messages.
func mountLabel(m container.MountPoint) string {
	switch {
	case m.Type == mount.TypeVolume && m.Name != "":
		return "volume " + m.Name
	case m.Source != "":
		return string(m.Type) + " " + m.Source
	}
	return string(m.Type)
}

// legacyLinksAllowed refuses legacy links where the engine would: they
// need the default bridge.
func legacyLinksAllowed(name string, mode container.NetworkMode) error {
	switch {
	case mode.IsDefault() || mode.IsBridge():
		return nil
	case mode.IsContainer():
		return fmt.Errorf("%w: %s uses the network of %s: it cannot have links of its own", topology.ErrInvalid, name, mode.ConnectedContainer())
	case mode.IsHost():
		return fmt.Errorf("%w: %s uses the host's network: it cannot have links", topology.ErrInvalid, name)
	case mode.IsNone():
		return fmt.Errorf("%w: %s has no network: it cannot have links", topology.ErrInvalid, name)
	default:
		return fmt.Errorf("%w: %s is on the user-defined network %s, where legacy links do nothing: add a link alias on that network instead", topology.ErrInvalid, name, mode)
	}
}

// checkLinkTarget checks that a legacy link target exists, is on the
// default bridge (itself or the container whose network it shares) and,
// when the linking container is to run, is running.
func (c *Client) checkLinkTarget(ctx context.Context, from container.InspectResponse, ref string, mustRun bool) error {
	name := containerName(from)
	t, err := c.inspect(ctx, ref)
	if err != nil {
		return fmt.Errorf("link target of %s: %w", name, err)
	}
	if mustRun && (t.State == nil || !t.State.Running) {
		return fmt.Errorf("%w: link target %s is not running (the engine cannot link %s to it)", topology.ErrConflict, containerName(t), name)
	}
	if donor := t.HostConfig.NetworkMode; donor.IsContainer() {
		if t, err = c.inspect(ctx, donor.ConnectedContainer()); err != nil {
			return fmt.Errorf("link target of %s: %w", name, err)
		}
	}
	if t.NetworkSettings == nil || t.NetworkSettings.Networks["bridge"] == nil {
		return fmt.Errorf("%w: link target %s is not on the default bridge", topology.ErrInvalid, containerName(t))
	}
	return nil
}

// parseLink splits a link as the engine writes it ("/db:/web/alias") or as
// a user does ("db:alias", "db") into the target name and the alias.
func parseLink(l string) (target, alias string) {
	target, alias, ok := strings.Cut(l, ":")
	target = strings.TrimPrefix(target, "/")
	if !ok {
		return target, target
	}
	return target, path.Base(alias)
}

// planMounts rewrites hc's mounts so the new container mounts exactly
// what the old one did: binds and named volumes as given, and each
// anonymous volume re-attached by name (else the engine would make a new,
// empty one), plus add. A destination given twice makes the engine fail
// with "Duplicate mount point", so each is given once.
func planMounts(info container.InspectResponse, hc *container.HostConfig, add []MountSpec) error {
	name := containerName(info)
	covered := make(map[string]bool)
	anonBinds := make(map[string]bool)
	var binds []string
	for _, b := range hc.Binds {
		d, named := bindDest(b)
		if !named {
			anonBinds[d] = true // "/data" alone: an anonymous volume
			continue
		}
		covered[d] = true
		binds = append(binds, b)
	}
	volAt := make(map[string]string) // destination → volume name
	mounted := make(map[string]bool) // every destination the engine reports
	for _, m := range info.Mounts {
		mounted[path.Clean(m.Destination)] = true
		if m.Type == mount.TypeVolume {
			volAt[path.Clean(m.Destination)] = m.Name
		}
	}
	var mounts []mount.Mount
	for _, m := range hc.Mounts {
		d := path.Clean(m.Target)
		if m.Type == mount.TypeVolume && m.Source == "" && volAt[d] != "" {
			m.Source = volAt[d]
		}
		covered[d] = true
		mounts = append(mounts, m)
	}
	for d := range hc.Tmpfs {
		covered[path.Clean(d)] = true
	}
	for _, m := range sortedMounts(info.Mounts) {
		d := path.Clean(m.Destination)
		if m.Type != mount.TypeVolume || covered[d] {
			continue
		}
		if _, anon := info.Config.Volumes[m.Destination]; anon || anonBinds[d] {
			mounts = append(mounts, mount.Mount{Type: mount.TypeVolume, Source: m.Name, Target: m.Destination, ReadOnly: !m.RW})
			covered[d] = true
		}
	}
	for _, m := range add {
		mm, err := newMount(m)
		if err != nil {
			return err
		}
		d := path.Clean(m.Target)
		_, imageVolume := info.Config.Volumes[m.Target]
		if covered[d] || imageVolume || mounted[d] {
			return fmt.Errorf("%w: %s already has a mount at %s: choose another destination", topology.ErrInvalid, name, d)
		}
		covered[d] = true
		mounts = append(mounts, mm)
	}
	hc.Binds, hc.Mounts = binds, mounts
	return nil
}

// newMount checks a mount to add and turns it into the engine's type.
func newMount(m MountSpec) (mount.Mount, error) {
	if !path.IsAbs(m.Target) || path.Clean(m.Target) == "/" {
		return mount.Mount{}, fmt.Errorf("%w: mount target %q must be an absolute path other than /", topology.ErrInvalid, m.Target)
	}
	switch m.Type {
	case "volume":
		if m.Source != "" {
			if err := topology.ValidateName("volume name", m.Source); err != nil {
				return mount.Mount{}, err
			}
		}
	case "bind":
		if !path.IsAbs(m.Source) {
			return mount.Mount{}, fmt.Errorf("%w: bind source %q must be an absolute host path", topology.ErrInvalid, m.Source)
		}
	case "tmpfs":
		if m.Source != "" {
			return mount.Mount{}, fmt.Errorf("%w: a tmpfs mount has no source", topology.ErrInvalid)
		}
	default:
		return mount.Mount{}, fmt.Errorf("%w: mount type %q is not volume, bind or tmpfs", topology.ErrInvalid, m.Type)
	}
	return mount.Mount{Type: mount.Type(m.Type), Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly}, nil
}

// bindDest returns a Binds entry's destination, and whether the entry
// names a source ("src:/dst[:opts]") rather than just a destination.
func bindDest(b string) (dest string, named bool) {
	parts := strings.Split(b, ":")
	if len(parts) == 1 {
		return path.Clean(parts[0]), false
	}
	return path.Clean(parts[1]), true
}

func sortedMounts(ms []container.MountPoint) []container.MountPoint {
	ms = slices.Clone(ms)
	slices.SortFunc(ms, func(a, b container.MountPoint) int { return strings.Compare(a.Destination, b.Destination) })
	return ms
}

// planEndpoints returns the network to create the new container on and
// the endpoint settings of the new and of the old container: their
// configuration (aliases, static IPs, endpoint links, driver options)
// without what the engine generated (addresses, the generated MAC, the old
// short-ID alias). Containers in host, none or container: mode have none.
func planEndpoints(info container.InspectResponse, removeLinks []string) (primary string, eps, old map[string]*network.EndpointSettings) {
	mode := info.HostConfig.NetworkMode
	if mode.IsHost() || mode.IsNone() || mode.IsContainer() || info.NetworkSettings == nil {
		return "", nil, nil
	}
	eps = make(map[string]*network.EndpointSettings)
	old = make(map[string]*network.EndpointSettings)
	for n, ep := range info.NetworkSettings.Networks {
		if ep == nil {
			ep = &network.EndpointSettings{}
		}
		old[n] = endpointConfig(ep, info.ID, nil)
		eps[n] = endpointConfig(ep, info.ID, removeLinks)
	}
	switch {
	case mode.IsDefault() || mode.IsBridge():
		if eps["bridge"] != nil {
			primary = "bridge"
		}
	default:
		m := string(mode)
		for n, ep := range info.NetworkSettings.Networks {
			if n == m || (ep != nil && ep.NetworkID != "" && strings.HasPrefix(ep.NetworkID, m)) {
				primary = n
			}
		}
		if primary == "" && len(eps) == 1 {
			for n := range eps {
				primary = n
			}
		}
	}
	return primary, eps, old
}

// endpointConfig keeps the configuration part of an inspected endpoint,
// minus the links whose alias is in removeLinks.
func endpointConfig(ep *network.EndpointSettings, oldID string, removeLinks []string) *network.EndpointSettings {
	out := &network.EndpointSettings{DriverOpts: maps.Clone(ep.DriverOpts), GwPriority: ep.GwPriority}
	if ep.IPAMConfig != nil {
		ipam := *ep.IPAMConfig
		ipam.LinkLocalIPs = slices.Clone(ipam.LinkLocalIPs)
		out.IPAMConfig = &ipam
	}
	for _, a := range ep.Aliases {
		// Engines before 25.0 (and newer ones on API < 1.45) add the short
		// ID as an alias: copied, it would pile up recreate after recreate.
		if a != shortID(oldID) && !slices.Contains(out.Aliases, a) {
			out.Aliases = append(out.Aliases, a)
		}
	}
	for _, l := range ep.Links {
		if _, alias := parseLink(l); !slices.Contains(removeLinks, alias) {
			out.Links = append(out.Links, l)
		}
	}
	return out
}
