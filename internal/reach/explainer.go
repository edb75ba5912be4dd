package reach

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dockmap/dockmap/internal/topology"
)

// Explainer answers reachability questions about one graph. New indexes
// the graph once so that each question costs a few map lookups and a merge
// of two short network lists: explaining every pair of a 1,000-container
// graph stays well under a second.
type Explainer struct {
	g     topology.Graph
	index map[topology.NodeID]int32 // container node → position in cs
	cs    []container
	nets  []network
	// links holds the first alias of each legacy link, keyed by
	// pairKey(from, to) of container positions.
	links map[uint64]string
	// netIndex finds a network's position by node ID: a service names its
	// networks by ID, and a Swarm network's node ID is the bare one.
	netIndex map[topology.NodeID]int32
	// swarmNodes are the Swarm's hosts, by Swarm node ID and by the Host
	// they are drawn in (the host of the containers that run on them).
	swarmByID   map[string]*topology.SwarmNode
	swarmByHost map[string]*topology.SwarmNode
	// replicas are each service's task nodes (containers or task nodes),
	// taskMembers the networks of task nodes that no engine shows.
	replicas    map[topology.NodeID][]topology.NodeID
	taskMembers map[topology.NodeID][]member
}

// netMode is how a container's network stack is set up.
type netMode uint8

const (
	modeBridge netMode = iota // its own namespace, on zero or more networks
	modeHost                  // --network host
	modeNone                  // --network none
)

// container is a container node with what the rules need precomputed.
type container struct {
	id, name, shortID string
	running           bool
	// root is the position of the container whose namespace this one uses:
	// itself unless it runs in --network container:X mode.
	root    int32
	mode    netMode
	members []member // sorted by network position; bridge-like networks only
	tcpPort uint16   // an exposed TCP port, 0 when none
	// broken are its legacy links whose target was removed.
	broken []brokenLink
	// host is the host it runs on (topology.Node.Host): bridges are per
	// host, so two containers of different hosts share only overlays.
	host string
	// task is set when the container is a Swarm task.
	task *topology.SwarmTask
	// compose is set for a service's container of a Compose project.
	compose composeFacts
}

// brokenLink is a legacy link whose target is gone.
type brokenLink struct{ alias, target string }

// member is one endpoint of a container on a network.
type member struct {
	net  int32
	info *topology.MemberInfo
}

// network is a network node with its rule-relevant traits.
type network struct {
	name string
	// user is true for user-defined networks: they have the embedded DNS.
	user     bool
	internal bool
	// iccOff is true when traffic between its containers is dropped.
	iccOff bool
	// overlay is a Swarm-scoped network, spanning the Swarm's hosts;
	// ingress is the routing mesh's one, which serves no names.
	overlay, ingress, attachable, encrypted bool
	// project is the Compose project that made the network, key its name
	// in that project's file.
	project, key string
	// Reasons that depend on the network alone, made once.
	internalNote, iccReason Reason
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// New indexes g for Explain. It never fails: edges to unknown nodes are
// skipped, as Build never makes them.
func New(g topology.Graph) *Explainer {
	x := &Explainer{g: g, links: make(map[uint64]string),
		swarmByID: map[string]*topology.SwarmNode{}, swarmByHost: map[string]*topology.SwarmNode{},
		replicas: map[topology.NodeID][]topology.NodeID{}, taskMembers: map[topology.NodeID][]member{}}
	netIndex := make(map[topology.NodeID]int32)
	x.netIndex = netIndex
	hostNet := make(map[int32]bool) // networks of the host and null drivers
	noneNet := make(map[int32]bool)
	ncontainers := 0
	for i := range g.Nodes {
		if g.Nodes[i].Container != nil {
			ncontainers++
		}
	}
	x.index = make(map[topology.NodeID]int32, ncontainers)
	x.cs = make([]container, 0, ncontainers)
	for i := range g.Nodes {
		n := &g.Nodes[i]
		switch {
		case n.Kind == topology.KindContainer && n.Container != nil:
			c := n.Container
			x.index[n.ID] = int32(len(x.cs))
			x.cs = append(x.cs, container{
				id: c.ID, name: displayName(c), shortID: short(c.ID), running: c.Running(),
				root: int32(len(x.cs)), mode: modeOf(c.NetworkMode), tcpPort: tcpPort(c.Ports),
				host: n.Host, task: n.Task, compose: composeOf(c),
			})
		case n.Kind == topology.KindSwarmNode && n.SwarmNode != nil:
			x.swarmByID[n.SwarmNode.ID] = n.SwarmNode
			if n.Host != "" {
				x.swarmByHost[n.Host] = n.SwarmNode
			}
		case n.Kind == topology.KindNetwork && n.Network != nil:
			pos := int32(len(x.nets))
			netIndex[n.ID] = pos
			x.nets = append(x.nets, newNetwork(n.Network))
			switch n.Network.Driver {
			case "host":
				hostNet[pos] = true
			case "null":
				noneNet[pos] = true
			}
		}
	}

	for i := range g.Edges {
		e := &g.Edges[i]
		if e.Kind == topology.EdgeReplica {
			x.replicas[e.From] = append(x.replicas[e.From], e.To)
			continue
		}
		from, ok := x.index[e.From]
		if !ok {
			// A task node's endpoints are the manager's word on where it is.
			if net, isNet := netIndex[e.To]; isNet && e.Kind == topology.EdgeMember && e.Member != nil &&
				strings.HasPrefix(string(e.From), string(topology.TaskNodeID(""))) {
				x.taskMembers[e.From] = append(x.taskMembers[e.From], member{net: net, info: e.Member})
			}
			continue
		}
		switch e.Kind {
		case topology.EdgeMember:
			net, ok := netIndex[e.To]
			if !ok {
				continue
			}
			c := &x.cs[from]
			switch {
			case hostNet[net]:
				c.mode = modeHost
			case noneNet[net]:
				if c.mode == modeBridge && len(c.members) == 0 {
					c.mode = modeNone
				}
			default:
				c.members = append(c.members, member{net: net, info: e.Member})
			}
		case topology.EdgeBrokenLink:
			if e.Link != nil {
				x.cs[from].broken = append(x.cs[from].broken, brokenLink{alias: e.Link.Alias, target: e.Link.Target})
			}
		case topology.EdgeLink:
			to, ok := x.index[e.To]
			// An endpoint link is an alias on its user-defined network,
			// read with the member's settings (resolves); only legacy
			// links write the parent's hosts file on the default bridge.
			if !ok || e.Link == nil || e.Link.Network != "" {
				continue
			}
			if _, dup := x.links[pairKey(from, to)]; !dup {
				x.links[pairKey(from, to)] = e.Link.Alias
			}
		case topology.EdgeNetNS:
			if to, ok := x.index[e.To]; ok {
				x.cs[from].root = to
			}
		}
	}
	for i := range x.cs {
		c := &x.cs[i]
		if c.mode == modeNone && len(c.members) > 0 {
			// Listed on "none" and on a real network: the real one wins.
			c.mode = modeBridge
		}
		slices.SortFunc(c.members, func(a, b member) int { return int(a.net - b.net) })
	}
	// Follow chains of borrowed namespaces to the container that owns the
	// namespace; a cycle (never made by the engine) stops where it closes.
	roots := make([]int32, len(x.cs))
	for i := range x.cs {
		r := int32(i)
		for steps := 0; x.cs[r].root != r && steps < len(x.cs); steps++ {
			r = x.cs[r].root
		}
		roots[i] = r
	}
	for i := range x.cs {
		x.cs[i].root = roots[i]
	}
	return x
}

func newNetwork(n *topology.NetworkInfo) network {
	// The ingress network is the routing mesh's: it carries published
	// ports, and the engine's DNS serves no names on it
	// (https://docs.docker.com/engine/swarm/ingress/). An engine's own
	// listing lacks the manager's Ingress flag, but not the name.
	ingress := n.Ingress || (n.Name == "ingress" && n.Driver == "overlay")
	user := !n.Default && !ingress && n.Name != "bridge" && n.Name != "host" && n.Name != "none" && n.Name != "default"
	// enable_icc is an option of the bridge driver; other drivers have no
	// such switch.
	iccOff := !n.ICC && (n.Driver == "bridge" || n.Driver == "")
	nw := network{name: n.Name, user: user, internal: n.Internal, iccOff: iccOff,
		overlay: n.Scope == topology.SwarmScope || n.Driver == "overlay", ingress: ingress,
		attachable: n.Attachable, encrypted: n.Encrypted}
	nw.project, nw.key = composeNetwork(n)
	if n.Internal {
		nw.internalNote = Reason{
			Code: "internal",
			Text: n.Name + " is internal: its members reach each other, but nothing outside it is reachable from them.",
		}
	}
	if iccOff {
		if user {
			nw.iccReason = Reason{
				Code: "icc-off",
				Text: "inter-container communication is off on " + n.Name + ": ping is blocked, and so is every other connection between its containers.",
				Fix:  "Use a network with inter-container communication on (docker network create without -o com.docker.network.bridge.enable_icc=false) and attach both to it.",
			}
		} else {
			nw.iccReason = Reason{
				Code: "icc-off",
				Text: "inter-container communication is off on " + n.Name + ": ping is blocked, even between linked containers; TCP reaches exposed ports only through a link.",
				Fix:  "Attach both to a user-defined network, or test with TCP to an exposed port over a link.",
			}
		}
	}
	return nw
}

func modeOf(m string) netMode {
	switch m {
	case "host":
		return modeHost
	case "none":
		return modeNone
	}
	return modeBridge
}

func tcpPort(ports []topology.Port) uint16 {
	for _, p := range ports {
		if p.Type == "tcp" || p.Type == "" {
			return p.PrivatePort
		}
	}
	return 0
}

// displayName is the name the texts use: the container name, or its short
// ID when it has none.
func displayName(c *topology.ContainerInfo) string {
	if c.Name != "" {
		return c.Name
	}
	return short(c.ID)
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// pair looks up both ends of a question.
func (x *Explainer) pair(from, to topology.NodeID) (a, b int32, err error) {
	a, err = x.lookup(from)
	if err != nil {
		return 0, 0, errPair(from, to, err)
	}
	b, err = x.lookup(to)
	if err != nil {
		return 0, 0, errPair(from, to, err)
	}
	if a == b {
		return 0, 0, errPair(from, to, fmt.Errorf("a container and itself: %w", topology.ErrInvalid))
	}
	return a, b, nil
}

func (x *Explainer) lookup(id topology.NodeID) (int32, error) {
	if i, ok := x.index[id]; ok {
		return i, nil
	}
	if n, ok := x.g.Node(id); ok {
		return 0, fmt.Errorf("%s is a %s, not a container: %w", id, n.Kind, topology.ErrInvalid)
	}
	return 0, fmt.Errorf("%s: %w", id, topology.ErrNotFound)
}
