package docker

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"

	"github.com/dockmap/dockmap/internal/compose"
	"github.com/dockmap/dockmap/internal/topology"
)

// ExportName is the project name of an export of containers that are not
// all of one Compose project.
const ExportName = "dockmap-export"

// DescribeForCompose inspects what a Compose file needs to re-create a
// set of containers: either every container of the Compose project
// project (by its label), or the containers refs names (full IDs or exact
// names). An unknown container, or a project with no container, is
// ErrNotFound. It only reads: one inspect per container, image, network
// and volume.
func (c *Client) DescribeForCompose(ctx context.Context, project string, refs []string) (compose.Selection, error) {
	if err := c.ready(ctx); err != nil {
		return compose.Selection{}, err
	}
	sel := compose.Selection{Networks: map[string]compose.Network{}, Volumes: map[string]compose.Volume{}}
	if project != "" {
		list, err := c.api.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", compose.LabelProject+"="+project))})
		if err != nil {
			return sel, translate("list project "+project, err)
		}
		for _, s := range list {
			if !c.isHelper(s) {
				refs = append(refs, s.ID)
			}
		}
		if len(refs) == 0 {
			return sel, fmt.Errorf("project %s: %w: no container carries %s=%s", project, topology.ErrNotFound, compose.LabelProject, project)
		}
	}
	seen := map[string]bool{}
	images := map[string]compose.Image{}
	for _, ref := range refs {
		info, err := c.inspect(ctx, ref)
		if err != nil {
			return sel, err
		}
		if info.ID != ref && containerName(info) != ref {
			// The engine takes ID prefixes; dockmap names containers by
			// full ID or exact name only.
			return sel, fmt.Errorf("container %s: %w", ref, topology.ErrNotFound)
		}
		if seen[info.ID] {
			continue
		}
		seen[info.ID] = true
		img, ok := images[info.Image]
		if !ok {
			ic, err := c.InspectImage(ctx, info.Image)
			if err != nil {
				return sel, err
			}
			img = compose.Image{Entrypoint: ic.Entrypoint, Cmd: ic.Cmd, Env: ic.Env, User: ic.User, Labels: ic.Labels}
			images[info.Image] = img
		}
		ct := describeContainer(info, img)
		sel.Containers = append(sel.Containers, ct)
		for _, ep := range ct.Endpoints {
			if _, ok := sel.Networks[ep.Network]; ok {
				continue
			}
			n, err := c.api.NetworkInspect(ctx, ep.Network, network.InspectOptions{})
			if err != nil {
				return sel, translate("inspect network "+ep.Network, err)
			}
			nw := compose.Network{
				Name: n.Name, Driver: n.Driver, Options: n.Options, Labels: n.Labels,
				Internal: n.Internal, Attachable: n.Attachable,
			}
			for _, cfg := range n.IPAM.Config {
				nw.Subnets = append(nw.Subnets, compose.Subnet{Subnet: cfg.Subnet, Gateway: cfg.Gateway})
			}
			for id := range n.Containers {
				nw.Members = append(nw.Members, id)
			}
			slices.Sort(nw.Members)
			sel.Networks[ep.Network] = nw
		}
		for _, m := range ct.Mounts {
			if m.Type != "volume" || m.Source == "" {
				continue
			}
			if _, ok := sel.Volumes[m.Source]; ok {
				continue
			}
			v, err := c.api.VolumeInspect(ctx, m.Source)
			if err != nil {
				return sel, translate("inspect volume "+m.Source, err)
			}
			users, err := c.api.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("volume", m.Source))})
			if err != nil {
				return sel, translate("list users of volume "+m.Source, err)
			}
			vol := compose.Volume{
				Name: v.Name, Driver: v.Driver, Options: v.Options, Labels: v.Labels,
				Anonymous: topology.LooksAnonymous(v.Name, v.Labels),
			}
			for _, u := range users {
				vol.Users = append(vol.Users, u.ID)
			}
			sel.Volumes[m.Source] = vol
		}
	}
	sel.Project = project
	if sel.Project == "" {
		sel.Project = commonProject(sel.Containers)
	}
	return sel, nil
}

// commonProject is the Compose project every container is of, or
// ExportName.
func commonProject(cs []compose.Container) string {
	p := ""
	for i, ct := range cs {
		cp := ct.Labels[compose.LabelProject]
		if cp == "" || (i > 0 && cp != p) {
			return ExportName
		}
		p = cp
	}
	return p
}

// describeContainer keeps what the container was created with.
func describeContainer(info container.InspectResponse, img compose.Image) compose.Container {
	cfg, hc := info.Config, info.HostConfig
	ct := compose.Container{
		ID: info.ID, Name: containerName(info), Image: cfg.Image, ImageSpec: img,
		Entrypoint: cfg.Entrypoint, Cmd: cfg.Cmd, Env: cfg.Env, User: cfg.User, WorkingDir: cfg.WorkingDir,
		Labels: cfg.Labels, NetworkMode: string(hc.NetworkMode),
		Restart:    compose.ParseRestart(string(hc.RestartPolicy.Name), hc.RestartPolicy.MaximumRetryCount),
		Privileged: hc.Privileged, PIDHost: hc.PidMode.IsHost(),
	}
	for _, d := range hc.Devices {
		ct.Devices = append(ct.Devices, d.PathOnHost)
	}
	for p, bs := range hc.PortBindings {
		for _, b := range bs {
			ct.Ports = append(ct.Ports, compose.Port{Target: uint32(p.Int()), Protocol: p.Proto(), HostIP: b.HostIP, HostPort: b.HostPort})
		}
	}
	for _, l := range hc.Links {
		target, alias := parseLink(l)
		ct.Links = append(ct.Links, compose.Link{Target: target, Alias: alias})
	}
	if info.NetworkSettings != nil && !hc.NetworkMode.IsHost() && !hc.NetworkMode.IsContainer() && !hc.NetworkMode.IsNone() {
		for name, ep := range info.NetworkSettings.Networks {
			if ep == nil {
				continue
			}
			e := compose.Endpoint{Network: name, Aliases: ep.Aliases}
			if ep.IPAMConfig != nil {
				e.IPv4 = ep.IPAMConfig.IPv4Address
			}
			ct.Endpoints = append(ct.Endpoints, e)
			for _, l := range ep.Links {
				target, alias := parseLink(l)
				ct.Links = append(ct.Links, compose.Link{Target: target, Alias: alias})
			}
		}
		slices.SortFunc(ct.Endpoints, func(a, b compose.Endpoint) int { return strings.Compare(a.Network, b.Network) })
	}
	for _, m := range info.Mounts {
		cm := compose.Mount{Type: string(m.Type), Target: m.Destination, ReadOnly: !m.RW}
		switch m.Type {
		case mount.TypeVolume:
			cm.Source = m.Name
		case mount.TypeBind:
			cm.Source = m.Source
		}
		ct.Mounts = append(ct.Mounts, cm)
	}
	for target := range hc.Tmpfs {
		ct.Mounts = append(ct.Mounts, compose.Mount{Type: "tmpfs", Target: target})
	}
	return ct
}
