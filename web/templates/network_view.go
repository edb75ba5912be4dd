package templates

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/dockmap/dockmap/internal/topology"
)

// NetworkPanelView is what NetworkPanel renders: one network as docker
// network inspect shows it, with its members resolved to container names.
// Build it with NewNetworkPanelView.
type NetworkPanelView struct {
	// NodeID is the network's node in the graph ("n:<full id>").
	NodeID topology.NodeID
	// Engine is the engine the node is on when it is not the default
	// one ("lab1"), or empty.
	Engine     string
	ID         string // full 64-digit network ID
	ShortID    string
	Name       string
	Driver     string
	Scope      string
	Internal   bool
	Attachable bool
	ICC        bool
	// Default marks the engine's default bridge (no DNS by name there).
	Default bool
	// Predefined marks the engine's own bridge, host and none networks:
	// they cannot be removed, and host and none cannot be joined.
	Predefined bool
	Subnets    []topology.Subnet
	Options    []LabelView
	Labels     []LabelView
	Members    []NetworkMemberView
	// Candidates are the containers that could join: not members yet, and
	// not in host, none or container: network mode.
	Candidates []TargetView
}

// NetworkMemberView is one container attached to the network.
type NetworkMemberView struct {
	NodeID      topology.NodeID
	ContainerID string
	Name        string
	Running     bool
	IP          string
	PrefixLen   int
	MAC         string
	EndpointID  string
	Aliases     []string
}

// IPWithPrefix is the address in CIDR form, the address alone when the
// prefix is unknown, or "" when there is none (a stopped member).
func (m NetworkMemberView) IPWithPrefix() string {
	return EndpointView{IP: m.IP, PrefixLen: m.PrefixLen}.IPWithPrefix()
}

// Joinable reports whether containers can be attached to the network from
// the page: not host or none (the engine refuses), not a swarm-only
// overlay that is not attachable.
func (v NetworkPanelView) Joinable() bool {
	if v.Driver == "host" || v.Driver == "null" {
		return false
	}
	return v.Driver != "overlay" || v.Attachable
}

// Removable reports whether the page offers to remove the network.
func (v NetworkPanelView) Removable() bool { return !v.Predefined }

// MemberNames are the members' names, for the remove dialog.
func (v NetworkPanelView) MemberNames() string {
	names := make([]string, 0, len(v.Members))
	for _, m := range v.Members {
		names = append(names, m.Name)
	}
	return strings.Join(names, ", ")
}

// MemberCount is the number of members, as text.
func (v NetworkPanelView) MemberCount() string { return strconv.Itoa(len(v.Members)) }

// NewNetworkPanelView builds the view of the network node id from g. It is
// pure. It returns false when g has no such node or the node is not a
// network.
func NewNetworkPanelView(g topology.Graph, id topology.NodeID) (NetworkPanelView, bool) {
	n, ok := findNode(g, id)
	if !ok || n.Kind != topology.KindNetwork || n.Network == nil {
		return NetworkPanelView{}, false
	}
	net := n.Network
	v := NetworkPanelView{
		NodeID:     n.ID,
		Engine:     otherEngine(n),
		ID:         net.ID,
		ShortID:    shortID(net.ID),
		Name:       cmp.Or(net.Name, n.Label),
		Driver:     net.Driver,
		Scope:      net.Scope,
		Internal:   net.Internal,
		Attachable: net.Attachable,
		ICC:        net.ICC,
		Default:    net.Default,
		Subnets:    slices.Clone(net.Subnets),
	}
	v.Predefined = net.Predefined()
	for _, k := range slices.Sorted(maps.Keys(net.Options)) {
		v.Options = append(v.Options, LabelView{Key: k, Value: net.Options[k]})
	}
	for _, k := range slices.Sorted(maps.Keys(net.Labels)) {
		v.Labels = append(v.Labels, LabelView{Key: k, Value: net.Labels[k]})
	}
	members := map[topology.NodeID]bool{}
	for _, e := range g.EdgesOf(id) {
		if e.Kind != topology.EdgeMember || e.To != id || e.Member == nil {
			continue
		}
		members[e.From] = true
		m := NetworkMemberView{
			NodeID:     e.From,
			IP:         e.Member.IP,
			PrefixLen:  e.Member.PrefixLen,
			MAC:        e.Member.MAC,
			EndpointID: e.Member.EndpointID,
			Aliases:    e.Member.Aliases,
		}
		p := peer(g, e.From)
		m.Name = p.Name
		m.ContainerID = strings.TrimPrefix(string(e.From), "c:")
		if c, ok := findNode(g, e.From); ok && c.Container != nil {
			m.ContainerID = c.Container.ID
			m.Running = c.Container.Running()
		}
		v.Members = append(v.Members, m)
	}
	slices.SortFunc(v.Members, func(a, b NetworkMemberView) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.ContainerID, b.ContainerID))
	})
	if v.Joinable() {
		for _, o := range g.Nodes {
			if o.Kind != topology.KindContainer || o.Container == nil || members[o.ID] || !o.Container.OwnStack() {
				continue
			}
			v.Candidates = append(v.Candidates, TargetView{
				NodeID: o.ID, ID: o.Container.ID, Name: cmp.Or(o.Container.Name, o.Label, shortID(o.Container.ID)),
				Running: o.Container.Running(),
			})
		}
		slices.SortFunc(v.Candidates, func(a, b TargetView) int {
			return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
		})
	}
	return v, true
}

// NetworkChoice is a network a container could join, for the container
// panel's "Attach to…" form.
type NetworkChoice struct {
	NodeID topology.NodeID
	ID     string
	Name   string
}

// joinableNetworks lists the networks of g that the container c, which is
// already on the networks in joined, could be attached to: user-defined
// ones only (not the default bridge, host or none), by name.
func joinableNetworks(g topology.Graph, c *topology.ContainerInfo, joined []EndpointView) []NetworkChoice {
	if c == nil || !c.OwnStack() {
		return nil
	}
	on := map[topology.NodeID]bool{}
	for _, e := range joined {
		on[e.NetworkNodeID] = true
	}
	var out []NetworkChoice
	for _, n := range g.Nodes {
		if n.Kind != topology.KindNetwork || n.Network == nil || on[n.ID] {
			continue
		}
		net := n.Network
		if net.Predefined() || (net.Driver == "overlay" && !net.Attachable) {
			continue
		}
		out = append(out, NetworkChoice{NodeID: n.ID, ID: net.ID, Name: cmp.Or(net.Name, n.Label)})
	}
	slices.SortFunc(out, func(a, b NetworkChoice) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
	})
	return out
}
