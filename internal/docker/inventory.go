package docker

import (
	"context"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"golang.org/x/sync/errgroup"

	"github.com/dockmap/dockmap/internal/topology"
)

// ListInventory lists containers (all, not only running), networks and
// volumes: three calls, run at once. dockmap's own helper containers are
// left out (helper_hidden.go). Aliases on user-defined networks and
// --volumes-from are not in the list; they come from a cache filled by one
// inspect per new container and per endpoint change (aliases.go), so an
// idle engine costs nothing.
func (c *Client) ListInventory(ctx context.Context) (topology.Inventory, error) {
	if err := c.ready(ctx); err != nil {
		return topology.Inventory{}, err
	}
	var (
		cs []container.Summary
		ns []network.Summary
		vs volume.ListResponse
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		cs, err = c.api.ContainerList(gctx, container.ListOptions{All: true})
		return translate("list containers", err)
	})
	g.Go(func() (err error) {
		ns, err = c.api.NetworkList(gctx, network.ListOptions{})
		return translate("list networks", err)
	})
	g.Go(func() (err error) {
		vs, err = c.api.VolumeList(gctx, volume.ListOptions{})
		return translate("list volumes", err)
	})
	// Once per client (and until the engine answers): which image is the
	// helper image, so that helpers are hidden from the first list on.
	g.Go(func() error {
		c.lookUpHelperImage(gctx)
		return nil
	})
	if err := g.Wait(); err != nil {
		return topology.Inventory{}, err
	}

	inv := topology.Inventory{
		Containers: make([]topology.Container, 0, len(cs)),
		Networks:   make([]topology.Network, 0, len(ns)),
		Volumes:    make([]topology.Volume, 0, len(vs.Volumes)),
	}
	for _, n := range ns {
		inv.Networks = append(inv.Networks, fromNetwork(n))
	}
	for _, v := range vs.Volumes {
		if v == nil {
			continue
		}
		inv.Volumes = append(inv.Volumes, topology.Volume{
			Name: v.Name, Driver: v.Driver, Mountpoint: v.Mountpoint, Labels: v.Labels, Options: v.Options,
			Anonymous: topology.LooksAnonymous(v.Name, v.Labels),
		})
	}
	c.verifyImagesOf(ctx, cs)
	hidden := make(map[string]struct{})
	for _, s := range cs {
		if c.isHelper(s) {
			// dockmap's own helpers are plumbing, not part of the map
			// (helper_hidden.go says how they are told apart).
			hidden[s.ID] = struct{}{}
			continue
		}
		inv.Containers = append(inv.Containers, fromSummary(s))
	}
	c.helpers.setListed(hidden)
	if err := c.fillInspected(ctx, inv.Containers, inv.Networks); err != nil {
		return topology.Inventory{}, err
	}
	return inv, nil
}

func fromSummary(s container.Summary) topology.Container {
	tc := topology.Container{
		ID: s.ID, Image: s.Image, ImageID: s.ImageID, Command: s.Command, Created: s.Created,
		State: string(s.State), Status: s.Status, Labels: s.Labels, NetworkMode: s.HostConfig.NetworkMode,
	}
	for _, n := range s.Names {
		n = strings.TrimPrefix(n, "/")
		tc.Names = append(tc.Names, n)
		// The primary name is the one that is not a link name
		// ("<parent>/<alias>").
		if tc.Name == "" && !strings.Contains(n, "/") {
			tc.Name = n
		}
	}
	slices.Sort(tc.Names)
	for _, p := range s.Ports {
		tc.Ports = append(tc.Ports, topology.Port{IP: p.IP, PrivatePort: p.PrivatePort, PublicPort: p.PublicPort, Type: p.Type})
	}
	slices.SortFunc(tc.Ports, func(a, b topology.Port) int {
		if a.PrivatePort != b.PrivatePort {
			return int(a.PrivatePort) - int(b.PrivatePort)
		}
		if c := strings.Compare(a.Type, b.Type); c != 0 {
			return c
		}
		if c := strings.Compare(a.IP, b.IP); c != 0 {
			return c
		}
		return int(a.PublicPort) - int(b.PublicPort)
	})
	if s.NetworkSettings != nil {
		for name, ep := range s.NetworkSettings.Networks {
			if ep == nil {
				continue
			}
			tc.Endpoints = append(tc.Endpoints, topology.Endpoint{
				NetworkID: ep.NetworkID, NetworkName: name, EndpointID: ep.EndpointID,
				IP: ep.IPAddress, PrefixLen: ep.IPPrefixLen, Gateway: ep.Gateway,
				IPv6: ep.GlobalIPv6Address, MAC: ep.MacAddress,
			})
		}
		slices.SortFunc(tc.Endpoints, func(a, b topology.Endpoint) int { return strings.Compare(a.NetworkName, b.NetworkName) })
	}
	for _, m := range s.Mounts {
		tc.Mounts = append(tc.Mounts, topology.Mount{
			Type: string(m.Type), Name: m.Name, Source: m.Source, Destination: m.Destination,
			Driver: m.Driver, Mode: m.Mode, RW: m.RW,
		})
	}
	slices.SortFunc(tc.Mounts, func(a, b topology.Mount) int { return strings.Compare(a.Destination, b.Destination) })
	return tc
}

// Driver option keys read from network lists
// (research/docker-api-semantics.md §3.2).
const (
	optionICC           = "com.docker.network.bridge.enable_icc"
	optionDefaultBridge = "com.docker.network.bridge.default_bridge"
)

func fromNetwork(n network.Summary) topology.Network {
	tn := topology.Network{
		ID: n.ID, Name: n.Name, Driver: n.Driver, Scope: n.Scope, Internal: n.Internal,
		Attachable: n.Attachable, Options: n.Options, Labels: n.Labels,
		// A missing enable_icc means on.
		ICC:     n.Options[optionICC] != "false",
		Default: n.Options[optionDefaultBridge] == "true",
	}
	for _, cfg := range n.IPAM.Config {
		tn.Subnets = append(tn.Subnets, topology.Subnet{Subnet: cfg.Subnet, Gateway: cfg.Gateway})
	}
	return tn
}

// UserDefined reports whether a network name gets the embedded DNS server:
// every name but the predefined ones (research/docker-api-semantics.md §3.1).
func UserDefined(name string) bool {
	return !topology.IsReservedNetworkName(name) && !strings.HasPrefix(name, "container:")
}
