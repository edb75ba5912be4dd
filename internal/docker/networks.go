package docker

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"

	"github.com/dockmap/dockmap/internal/topology"
)

// NetworkCreate describes a bridge network to create.
type NetworkCreate struct {
	Name string
	// Subnet (CIDR) and Gateway are optional; without Subnet the engine
	// picks one from its pools and Gateway is ignored.
	Subnet  string
	Gateway string
	// Internal networks have no route outside.
	Internal bool
	// ICC false turns inter-container communication off.
	ICC bool
	// Attachable lets swarm services' standalone containers attach (the
	// flag is kept as the engine has it).
	Attachable bool
	// Labels are added to the ManagedLabel.
	Labels map[string]string
	// Driver is "overlay" for a Swarm overlay (on a manager), else a
	// bridge; Encrypted turns an overlay's IPsec on.
	Driver    string
	Encrypted bool
}

// CreateBridgeNetwork creates a bridge network labelled ManagedLabel=1 and
// returns its ID. A name the engine already has is ErrConflict.
func (c *Client) CreateBridgeNetwork(ctx context.Context, spec NetworkCreate) (string, error) {
	if err := c.ready(ctx); err != nil {
		return "", err
	}
	labels := map[string]string{ManagedLabel: "1"}
	maps.Copy(labels, spec.Labels)
	opts := network.CreateOptions{
		Driver: "bridge", Labels: labels, Internal: spec.Internal, Attachable: spec.Attachable,
	}
	switch {
	case spec.Driver == "overlay":
		opts.Driver, opts.Scope = "overlay", "swarm"
		if spec.Encrypted {
			// The CLI's --opt encrypted: the key is the switch.
			opts.Options = map[string]string{optionEncrypted: ""}
		}
	case !spec.ICC:
		opts.Options = map[string]string{optionICC: "false"}
	}
	if spec.Subnet != "" {
		opts.IPAM = &network.IPAM{Driver: "default", Config: []network.IPAMConfig{{Subnet: spec.Subnet, Gateway: spec.Gateway}}}
	}
	resp, err := c.api.NetworkCreate(ctx, spec.Name, opts)
	if err != nil {
		return "", translateNetwork("create network "+spec.Name, err)
	}
	return resp.ID, nil
}

// NetworkDetail is a network as its panel shows it, with every member,
// stopped ones included.
type NetworkDetail struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Driver     string            `json:"driver"`
	Scope      string            `json:"scope"`
	Internal   bool              `json:"internal"`
	Attachable bool              `json:"attachable"`
	ICC        bool              `json:"icc"`
	Default    bool              `json:"default"`
	Subnets    []topology.Subnet `json:"subnets"`
	Options    map[string]string `json:"options"`
	Labels     map[string]string `json:"labels"`
	Members    []Member          `json:"members"`
}

// Member is one container attached to a network.
type Member struct {
	ContainerID string `json:"containerId"`
	Name        string `json:"name"`
	// State is the container's state ("running", "exited", "created"...):
	// a stopped member has no IPv4, MAC or EndpointID until it starts.
	State      string `json:"state"`
	IPv4       string `json:"ipv4,omitempty"`
	MAC        string `json:"mac,omitempty"`
	EndpointID string `json:"endpointId,omitempty"`
	// StaticIP is the address asked for at attach ("" when the engine picks).
	StaticIP string   `json:"staticIp,omitempty"`
	Aliases  []string `json:"aliases"`
}

// InspectNetwork returns a network (by ID or name) with its members. The
// engine's network inspect lists running members only, so stopped ones
// come from a container list filtered on the network; aliases come from
// each member's inspect. Returns ErrNotFound for an unknown network.
func (c *Client) InspectNetwork(ctx context.Context, id string) (NetworkDetail, error) {
	if err := c.ready(ctx); err != nil {
		return NetworkDetail{}, err
	}
	n, err := c.api.NetworkInspect(ctx, id, network.InspectOptions{})
	if err != nil {
		return NetworkDetail{}, translateNetwork("inspect network "+id, err)
	}
	// The same reading of the engine's fields as the map's (fromNetwork);
	// empty collections stay [] and {} in the answer, not null.
	tn := fromNetwork(n)
	d := NetworkDetail{
		ID: tn.ID, Name: tn.Name, Driver: tn.Driver, Scope: tn.Scope, Internal: tn.Internal,
		Attachable: tn.Attachable, ICC: tn.ICC, Default: tn.Default,
		Subnets: append([]topology.Subnet{}, tn.Subnets...), Options: tn.Options, Labels: tn.Labels, Members: []Member{},
	}
	if d.Options == nil {
		d.Options = map[string]string{}
	}
	if d.Labels == nil {
		d.Labels = map[string]string{}
	}
	ids := slices.Collect(maps.Keys(n.Containers))
	// A container that never ran has its network by name only (no
	// NetworkID yet), so filter on both; values of one key are ORed.
	f := filters.NewArgs(filters.Arg("network", n.ID), filters.Arg("network", n.Name))
	list, err := c.api.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return NetworkDetail{}, translate("list members of "+n.Name, err)
	}
	for _, s := range list {
		if !slices.Contains(ids, s.ID) {
			ids = append(ids, s.ID)
		}
	}
	for _, cid := range ids {
		info, err := c.api.ContainerInspect(ctx, cid)
		if cerrdefs.IsNotFound(err) {
			continue // removed meanwhile
		}
		if err != nil {
			return NetworkDetail{}, translate("inspect container "+shortID(cid), err)
		}
		ep, _ := endpointOn(info, n.ID, n.Name)
		if ep == nil {
			continue // detached meanwhile
		}
		m := Member{
			ContainerID: info.ID, Name: strings.TrimPrefix(info.Name, "/"),
			IPv4: ep.IPAddress, MAC: ep.MacAddress, EndpointID: ep.EndpointID,
			Aliases: userAliases(info, ep),
		}
		if info.State != nil {
			m.State = info.State.Status
		}
		if ep.IPAMConfig != nil {
			m.StaticIP = ep.IPAMConfig.IPv4Address
		}
		d.Members = append(d.Members, m)
	}
	slices.SortFunc(d.Members, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	return d, nil
}

// Attach connects a container to a network (both by ID or name) with the
// given aliases and static IPv4 ("" lets the engine pick), running or not.
//
// If the container is already attached with the same settings it returns
// ErrConflict; with other settings it disconnects and connects again, since
// the engine refuses a second connect of a running container ("endpoint
// already exists") and silently ignores new settings on a stopped one
// (research/docker-api-semantics.md §1.4). Links and driver options of the
// old endpoint are carried over. Afterwards it inspects the container and,
// if the settings did not take, disconnects and connects once more; if
// they still did not take it returns an error. A failed connect after the
// disconnect puts the old endpoint back.
func (c *Client) Attach(ctx context.Context, networkID, containerID string, aliases []string, ip string) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	n, err := c.api.NetworkInspect(ctx, networkID, network.InspectOptions{})
	if cerrdefs.IsNotFound(err) {
		// A Swarm worker lists an overlay only once a container of its
		// own is on it; the connect itself asks a manager for the network
		// (the engine's attach of an attachable overlay), and refuses a
		// network that is not there with its own words.
		n, err = network.Inspect{ID: networkID, Name: networkID, Scope: "swarm"}, nil
	}
	if err != nil {
		return translateNetwork("inspect network "+networkID, err)
	}
	info, err := c.api.ContainerInspect(ctx, containerID)
	if err != nil {
		return translate("inspect container "+containerID, err)
	}
	swarmScoped := n.Scope == "swarm"
	name := strings.TrimPrefix(info.Name, "/")
	if info.HostConfig != nil {
		if mode := info.HostConfig.NetworkMode; mode.IsHost() || mode.IsNone() || mode.IsContainer() {
			return fmt.Errorf("attach %s to %s: %w: network mode %s has no network of its own", name, n.Name, topology.ErrInvalid, mode)
		}
	}
	defer c.forgetAliases(info.ID)

	want := &network.EndpointSettings{Aliases: sortedAliases(aliases)}
	if ip != "" {
		want.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: ip}
	}
	step := "attach " + name + " to " + n.Name
	old, _ := endpointOn(info, n.ID, n.Name)
	if old != nil {
		if settingsTook(info, old, want.Aliases, ip, swarmScoped) && slices.Equal(userAliases(info, old), want.Aliases) {
			return fmt.Errorf("%s: %w: %s is already attached to %s with these settings", step, topology.ErrConflict, name, n.Name)
		}
		carryOver(want, old)
		if err := c.reconnect(ctx, n.ID, info.ID, old, want); err != nil {
			return fmt.Errorf("%s: %w", step, err)
		}
	} else if err := c.api.NetworkConnect(ctx, n.ID, info.ID, want); err != nil {
		return translateNetwork(step, err)
	}

	// Check that the engine kept the settings; a stopped container that
	// was attached meanwhile (or an engine that ignores them) shows it here.
	for try := 0; ; try++ {
		after, err := c.api.ContainerInspect(ctx, info.ID)
		if err != nil {
			return translate(step+": inspect", err)
		}
		ep, _ := endpointOn(after, n.ID, n.Name)
		if ep != nil && settingsTook(after, ep, want.Aliases, ip, swarmScoped) {
			return nil
		}
		if try == 1 {
			return fmt.Errorf("%s: the engine did not keep the aliases or IP asked for", step)
		}
		if ep == nil {
			if err := c.api.NetworkConnect(ctx, n.ID, info.ID, want); err != nil {
				return translateNetwork(step, err)
			}
			continue
		}
		if err := c.reconnect(ctx, n.ID, info.ID, ep, want); err != nil {
			return fmt.Errorf("%s: %w", step, err)
		}
	}
}

// reconnect disconnects a container and connects it again with want; if
// the connect fails it connects it back with its old settings.
func (c *Client) reconnect(ctx context.Context, networkID, containerID string, old, want *network.EndpointSettings) error {
	if err := c.api.NetworkDisconnect(ctx, networkID, containerID, false); err != nil {
		return translateNetwork("disconnect", err)
	}
	err := c.api.NetworkConnect(ctx, networkID, containerID, want)
	if err == nil {
		return nil
	}
	back := &network.EndpointSettings{
		IPAMConfig: old.IPAMConfig, Links: old.Links, Aliases: old.Aliases,
		DriverOpts: old.DriverOpts, GwPriority: old.GwPriority,
	}
	if rerr := c.api.NetworkConnect(ctx, networkID, containerID, back); rerr != nil {
		return fmt.Errorf("%w (and re-attaching with the old settings failed too: %v)", translateNetwork("connect", err), rerr)
	}
	return translateNetwork("connect", err)
}

// Detach disconnects a container from a network (both by ID or name),
// running or not. Returns ErrConflict if it is not attached.
func (c *Client) Detach(ctx context.Context, networkID, containerID string) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	defer c.forgetAliases(containerID)
	err := c.api.NetworkDisconnect(ctx, networkID, containerID, false)
	if err != nil && strings.Contains(err.Error(), "is not connected") {
		return fmt.Errorf("detach %s from %s: %w: %s", containerID, networkID, topology.ErrConflict, err.Error())
	}
	return translateNetwork("detach "+containerID+" from "+networkID, err)
}

// endpointOn finds a container's endpoint on a network. A container that
// never ran lists its networks by name with an empty NetworkID.
func endpointOn(info container.InspectResponse, networkID, networkName string) (*network.EndpointSettings, string) {
	if info.NetworkSettings == nil {
		return nil, ""
	}
	for name, ep := range info.NetworkSettings.Networks {
		if ep != nil && (ep.NetworkID == networkID || (ep.NetworkID == "" && name == networkName)) {
			return ep, name
		}
	}
	return nil, ""
}

// userAliases are an endpoint's aliases without the ones engines answering
// API < 1.45 add by themselves (short ID, hostname), sorted.
func userAliases(info container.InspectResponse, ep *network.EndpointSettings) []string {
	auto := map[string]bool{shortID(info.ID): true}
	if info.Config != nil {
		auto[info.Config.Hostname] = true
	}
	out := []string{}
	for _, a := range ep.Aliases {
		if !auto[a] && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

func sortedAliases(aliases []string) []string {
	out := slices.Clone(aliases)
	slices.Sort(out)
	return slices.Compact(out)
}

// settingsTook reports whether an endpoint has every wanted alias and the
// wanted static IP (and, when running, that address).
// On a Swarm-scoped network the managers allocate every address and the
// engine writes it into the endpoint's IPAM config as if asked for: with
// swarmScoped, an address nobody asked for is not a static one left over.
func settingsTook(info container.InspectResponse, ep *network.EndpointSettings, aliases []string, ip string, swarmScoped bool) bool {
	have := userAliases(info, ep)
	for _, a := range aliases {
		if !slices.Contains(have, a) {
			return false
		}
	}
	static := ""
	if ep.IPAMConfig != nil && (ip != "" || !swarmScoped) {
		static = ep.IPAMConfig.IPv4Address
	}
	if static != ip {
		return false
	}
	running := info.State != nil && info.State.Running
	return ip == "" || !running || ep.IPAddress == ip
}

// carryOver keeps what a re-connect must not lose from the old endpoint:
// endpoint links (aliases made by the link routes), driver options, the
// gateway priority and an IPv6 address.
func carryOver(want, old *network.EndpointSettings) {
	want.Links = old.Links
	want.DriverOpts = old.DriverOpts
	want.GwPriority = old.GwPriority
	if old.IPAMConfig != nil && old.IPAMConfig.IPv6Address != "" {
		if want.IPAMConfig == nil {
			want.IPAMConfig = &network.EndpointIPAMConfig{}
		}
		want.IPAMConfig.IPv6Address = old.IPAMConfig.IPv6Address
	}
}

// translateNetwork is translate for network calls, where the engine says
// Forbidden for a state clash ("has active endpoints", "endpoint already
// exists"): that is ErrConflict.
func translateNetwork(step string, err error) error {
	if err != nil && cerrdefs.IsPermissionDenied(err) {
		return fmt.Errorf("%s: %w: %s", step, topology.ErrConflict, err.Error())
	}
	return translate(step, err)
}
