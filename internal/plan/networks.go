package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dockmap/dockmap/internal/topology"
)

// NetworkRequest asks for a bridge network (POST /api/networks).
type NetworkRequest struct {
	Name    string `json:"name"`
	Subnet  string `json:"subnet"`
	Gateway string `json:"gateway"`
	// Internal networks have no route outside.
	Internal bool `json:"internal"`
	// ICC is inter-container communication; absent means on, as in Docker.
	ICC        *bool `json:"icc"`
	Attachable bool  `json:"attachable"`
	// Driver is "bridge" (the default: this engine's containers only) or
	// "overlay" (spans a Swarm's hosts; made on a manager).
	Driver string `json:"driver"`
	// Encrypted turns IPsec on between the hosts of an overlay.
	Encrypted bool `json:"encrypted"`
}

// RemoveNetworkRequest asks to remove a network (DELETE
// /api/networks/{id}); Detach detaches its members first.
type RemoveNetworkRequest struct {
	Network string `json:"-"`
	Detach  bool   `json:"detach"`
}

// ConnectRequest asks to attach a container to a network (POST
// /api/networks/{id}/connect).
type ConnectRequest struct {
	Network   string   `json:"-"`
	Container string   `json:"container"`
	Aliases   []string `json:"aliases"`
	IP        string   `json:"ip"`
}

// DisconnectRequest asks to detach a container from a network (POST
// /api/networks/{id}/disconnect).
type DisconnectRequest struct {
	Network   string `json:"-"`
	Container string `json:"container"`
}

// CreateNetwork plans a bridge network.
func (p *Planner) CreateNetwork(g topology.Graph, req NetworkRequest) (*Plan, error) {
	if err := topology.ValidateNetworkName(req.Name); err != nil {
		return nil, err
	}
	if _, err := g.NetworkByRef(req.Name); err == nil {
		return nil, fmt.Errorf("%w: a network named %q already exists", topology.ErrConflict, req.Name)
	}
	// The docker CLI takes an ID prefix where a name is asked for, so a
	// network named like the start of another's ID makes `docker network
	// rm ab12` ambiguous (SEC-14).
	for _, n := range g.Nodes {
		if n.Network != nil && strings.HasPrefix(n.Network.ID, strings.ToLower(req.Name)) {
			return nil, fmt.Errorf("%w: %q is the start of network %s's ID; pick a name that cannot be taken for an ID", topology.ErrInvalid, req.Name, n.Network.Name)
		}
	}
	spec := &NetworkSpec{Name: req.Name, Internal: req.Internal, ICC: req.ICC == nil || *req.ICC, Attachable: req.Attachable}
	kind := "bridge"
	switch req.Driver {
	case "", "bridge":
		if req.Encrypted {
			return nil, fmt.Errorf("%w: only an overlay network is encrypted (its traffic between hosts); a bridge stays on one host", topology.ErrInvalid)
		}
	case "overlay":
		if req.ICC != nil && !*req.ICC {
			return nil, fmt.Errorf("%w: icc is a bridge option; an overlay has none", topology.ErrInvalid)
		}
		spec.Driver, spec.Encrypted, kind = "overlay", req.Encrypted, "overlay"
		if req.Attachable {
			kind = "attachable overlay"
		}
		if req.Encrypted {
			kind = "encrypted " + kind
		}
	default:
		return nil, fmt.Errorf("%w: driver must be bridge or overlay, not %q", topology.ErrInvalid, req.Driver)
	}
	switch {
	case req.Subnet != "":
		pfx, err := topology.ValidateSubnet(g, req.Subnet)
		if err != nil {
			return nil, err
		}
		spec.Subnet = pfx.String()
		if req.Gateway != "" {
			if err := topology.ValidateGateway(pfx, req.Gateway); err != nil {
				return nil, err
			}
			spec.Gateway = req.Gateway
		}
	case req.Gateway != "":
		return nil, fmt.Errorf("%w: a gateway needs a subnet: give both, or neither to let Docker pick", topology.ErrInvalid)
	}
	pl := &Plan{Action: ActionCreateNetwork, Method: MethodCreate, Subject: Ref{Name: req.Name}, Network: spec,
		Summary: "create the " + kind + " network " + req.Name,
		Steps:   []Step{{ID: "create", Kind: "create", Network: req.Name, Text: "create the " + kind + " network " + req.Name}}}
	if spec.Driver == "overlay" {
		pl.Notes = append(pl.Notes, "An overlay is made on a Swarm manager and spans the Swarm's hosts; "+
			map[bool]string{true: "plain containers (docker run) may join it, as services' tasks do.", false: "only services' tasks may join it (not attachable)."}[req.Attachable])
		if req.Encrypted {
			pl.Notes = append(pl.Notes, "Encrypted: IPsec between the hosts, which needs ESP (IP protocol 50) to pass between them.")
		}
	}
	return pl.seal(), nil
}

// RemoveNetwork plans removing a network. While members remain (stopped
// ones count: the engine would remove the network and leave them unable
// to start) it is refused unless Detach asks to detach them all first.
func (p *Planner) RemoveNetwork(g topology.Graph, req RemoveNetworkRequest) (*Plan, error) {
	n, err := g.NetworkByRef(req.Network)
	if err != nil {
		return nil, err
	}
	if n.Network.Predefined() {
		return nil, fmt.Errorf("%w: %s is one of the engine's own networks and cannot be removed", topology.ErrInvalid, n.Network.Name)
	}
	var members []Ref
	for _, m := range g.Members(n.ID) {
		members = append(members, ref(m))
	}
	slices.SortFunc(members, func(a, b Ref) int { return strings.Compare(a.Name, b.Name) })
	if len(members) > 0 && !req.Detach {
		return nil, fmt.Errorf("%w: network %s still has members: %s; detach them first (or send ?detach=1)",
			topology.ErrConflict, n.Network.Name, names(members))
	}
	name := n.Network.Name
	pl := &Plan{Action: ActionRemoveNetwork, Method: MethodRemove, Subject: ref(n), Detach: members,
		Summary: "remove the network " + name}
	for _, m := range members {
		pl.Steps = append(pl.Steps, Step{ID: "detach:" + m.Name, Kind: "disconnect", Container: m.Name, Network: name, Text: "detach " + m.Name + " from " + name})
		pl.Loses = append(pl.Loses, Loss{Kind: LossNetwork, Of: m, Text: m.Name + " loses its address and names on " + name})
	}
	if len(members) > 0 {
		pl.Summary += " after detaching " + names(members)
	}
	pl.Steps = append(pl.Steps, Step{ID: "remove", Kind: "remove", Network: name, Text: "remove " + name})
	return pl.seal(), nil
}

// Connect plans attaching a container (running or stopped) to a network,
// with optional aliases and a static IP; attached already with other
// settings, it is detached first so that they take.
func (p *Planner) Connect(g topology.Graph, req ConnectRequest) (*Plan, error) {
	n, err := g.NetworkByRef(req.Network)
	if err != nil {
		return nil, err
	}
	ct, err := container(g, "container", req.Container)
	if err != nil {
		return nil, err
	}
	if err := topology.AttachableContainer(ct); err != nil {
		return nil, err
	}
	if err := topology.AttachableNetwork(n, len(req.Aliases) > 0 || req.IP != ""); err != nil {
		return nil, err
	}
	if err := topology.ValidateAliases(req.Aliases); err != nil {
		return nil, err
	}
	if req.IP != "" {
		if err := topology.ValidateStaticIP(g, n, ct, req.IP); err != nil {
			return nil, err
		}
	}
	spec := &NetworkSpec{Aliases: req.Aliases, IP: req.IP}
	if e, ok := g.MemberEdge(ct.ID, n.ID); ok {
		want := slices.Sorted(slices.Values(req.Aliases))
		have := slices.Sorted(slices.Values(e.Member.Aliases))
		if slices.Equal(want, have) && (req.IP == "" || req.IP == e.Member.IP) {
			return nil, fmt.Errorf("%w: %s is already attached to %s with these settings", topology.ErrConflict, ct.Container.Name, n.Network.Name)
		}
		spec.Reattach = true
	}
	c, nn := ct.Container.Name, n.Network.Name
	on := ref(n)
	pl := &Plan{Action: ActionConnect, Method: MethodInPlace, Subject: ref(ct), On: &on, Network: spec,
		Summary: "attach " + c + " to " + nn}
	settings := ""
	if len(req.Aliases) > 0 {
		settings += " with the aliases " + strings.Join(req.Aliases, ", ")
	}
	if req.IP != "" {
		settings += " at " + req.IP
	}
	if spec.Reattach {
		pl.Summary = c + " is on " + nn + " already: it is detached and attached again" + settings + ", so that the new settings take"
		pl.Steps = append(pl.Steps, Step{ID: "disconnect", Kind: "disconnect", Container: c, Network: nn, Text: "detach " + c + " from " + nn})
		pl.Loses = endpointLosses(ct, n)
	}
	pl.Steps = append(pl.Steps, Step{ID: "connect", Kind: "connect", Container: c, Network: nn, Text: "attach " + c + " to " + nn + settings})
	return pl.seal(), nil
}

// Disconnect plans detaching a container from a network, and says which
// containers it can then no longer reach.
func (p *Planner) Disconnect(g topology.Graph, req DisconnectRequest) (*Plan, error) {
	n, err := g.NetworkByRef(req.Network)
	if err != nil {
		return nil, err
	}
	ct, err := container(g, "container", req.Container)
	if err != nil {
		return nil, err
	}
	if err := topology.AttachableNetwork(n, false); err != nil {
		return nil, err
	}
	if _, ok := g.MemberEdge(ct.ID, n.ID); !ok {
		return nil, fmt.Errorf("%w: %s is not attached to %s", topology.ErrConflict, ct.Container.Name, n.Network.Name)
	}
	c, nn := ct.Container.Name, n.Network.Name
	on := ref(n)
	pl := &Plan{Action: ActionDisconnect, Method: MethodInPlace, Subject: ref(ct), On: &on, Summary: "detach " + c + " from " + nn,
		Steps: []Step{{ID: "disconnect", Kind: "disconnect", Container: c, Network: nn, Text: "detach " + c + " from " + nn}}}
	mine := map[topology.NodeID]bool{}
	for _, m := range memberships(g, ct) {
		if m.To != n.ID {
			mine[m.To] = true
		}
	}
	// The peers on another of ct's networks, in one pass over the edges
	// rather than a look at each peer's networks: a default bridge can
	// have a thousand members.
	shared := map[topology.NodeID]bool{}
	for _, e := range g.Edges {
		if e.Kind == topology.EdgeMember && e.Member != nil && mine[e.To] {
			shared[e.From] = true
		}
	}
	for _, peer := range g.Members(n.ID) {
		if peer.ID == ct.ID {
			continue
		}
		if !shared[peer.ID] {
			pl.Loses = append(pl.Loses, Loss{Kind: LossReachability, Of: ref(peer),
				Text: c + " and " + peer.Container.Name + " share no other network: they can no longer reach each other"})
		}
	}
	return pl.seal(), nil
}
