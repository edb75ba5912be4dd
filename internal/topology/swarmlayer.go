package topology

import (
	"slices"
	"strconv"
	"strings"
)

// SwarmView is a Swarm as the map adds it.
type SwarmView struct {
	Manager string     // name of the engine (a manager) that answered
	Default string     // name of the default engine, whose node IDs carry no "@" suffix
	State   SwarmState // what the manager answered
	// Engines maps a Swarm node ID to the name of the engine dockmap connects to on that node, if any.
	Engines map[string]string
}

// AddSwarm returns g with the Swarm added. g is a merged graph (Merge); its Node values may share pointers with other graphs, so never write through a pointer of g's nodes: copy the pointed-to struct first.
//
// The Swarm is drawn on top of what the engines show: its hosts, its
// services, and the tasks the engines do not already show as containers.
// Everything added is the manager's word, so it carries the manager's
// engine name.
func AddSwarm(g Graph, v SwarmView) Graph {
	// An engine in no Swarm (or one that lost its quorum) has nothing to
	// add, and the map must not change because of it.
	if !v.State.Active {
		return g
	}
	// New backing arrays: g's slices may have spare capacity that another
	// graph's append would also write into.
	b := swarmBuilder{
		v:     v,
		nodes: slices.Clone(g.Nodes),
		edges: slices.Clone(g.Edges),
		node:  make(map[NodeID]int, len(g.Nodes)),
		edge:  make(map[EdgeID]bool, len(g.Edges)),
		host:  make(map[string]string, len(v.State.Nodes)),
	}
	for i, n := range b.nodes {
		b.node[n.ID] = i
	}
	for _, e := range b.edges {
		b.edge[e.ID] = true
	}

	for _, sn := range v.State.Nodes {
		b.host[sn.ID] = sn.Hostname
		host := "node:" + sn.Hostname
		// A host dockmap connects to is already drawn as that engine's
		// host; the Swarm node goes in it rather than beside it.
		if e := v.Engines[sn.ID]; e != "" {
			host = e
		}
		b.put(Node{ID: SwarmNodeID(sn.ID), Kind: KindSwarmNode, Label: sn.Hostname, Engine: v.Manager, Host: host, SwarmNode: &sn})
	}

	// Networks before services and tasks: their member edges are drawn
	// only to networks the result has.
	for _, sw := range v.State.Networks {
		b.network(sw)
	}

	for _, svc := range v.State.Services {
		svc := cloneService(svc)
		id := ServiceNodeID(svc.ID)
		// A service runs on no one host: its tasks do.
		b.put(Node{ID: id, Kind: KindService, Label: svc.Name, Engine: v.Manager, Service: &svc})
		for _, vip := range svc.VIPs {
			b.member(EdgeID("m:"+string(id)+EngineSep+vip.NetworkID), id, vip.NetworkID, vip.NetworkName, vip.Addr)
		}
	}

	for _, t := range shownTasks(v.State.Tasks) {
		b.task(t)
	}

	g = Graph{Nodes: b.nodes, Edges: b.edges}
	// Added nodes went to the end, and Diff needs the order.
	sortGraph(&g)
	return g
}

// swarmBuilder is AddSwarm's result as it grows.
type swarmBuilder struct {
	v     SwarmView
	nodes []Node
	edges []Edge
	node  map[NodeID]int    // index in nodes
	edge  map[EdgeID]bool   // IDs in edges
	host  map[string]string // Swarm node ID → hostname
}

// put adds n, or replaces the node of its ID, so that IDs stay unique.
func (b *swarmBuilder) put(n Node) {
	if i, ok := b.node[n.ID]; ok {
		b.nodes[i] = n
		return
	}
	b.node[n.ID] = len(b.nodes)
	b.nodes = append(b.nodes, n)
}

// link adds e when both its ends are in the result: a service removed
// while the list was read, or a network the manager did not list, must
// not leave an edge hanging.
func (b *swarmBuilder) link(e Edge) {
	if b.edge[e.ID] {
		return
	}
	if _, ok := b.node[e.From]; !ok {
		return
	}
	if _, ok := b.node[e.To]; !ok {
		return
	}
	e.Engine = b.v.Manager
	b.edge[e.ID] = true
	b.edges = append(b.edges, e)
}

// member adds a member edge from "from" to network netID, the address in
// CIDR form as the manager gives it.
func (b *swarmBuilder) member(id EdgeID, from NodeID, netID, netName, cidr string) {
	ip, bits, _ := strings.Cut(cidr, "/")
	plen, _ := strconv.Atoi(bits)
	b.link(Edge{ID: id, Kind: EdgeMember, From: from, To: NetworkNodeID(netID),
		Member: &MemberInfo{NetworkName: netName, NetworkID: netID, IP: ip, PrefixLen: plen}})
}

// network adds a Swarm network, or completes the node an engine already
// gave it. An engine's own listing of an overlay does not know whether it
// is the ingress or encrypted (and a worker lists it only while a task of
// its uses it); the manager does.
func (b *swarmBuilder) network(sw SwarmNetwork) {
	id := NetworkNodeID(sw.ID)
	if i, ok := b.node[id]; ok && b.nodes[i].Network != nil {
		// A copy: the node's NetworkInfo is shared with the engine's own
		// graph, which must keep what that engine said.
		info := *b.nodes[i].Network
		info.Scope = SwarmScope
		info.Ingress, info.Encrypted = sw.Ingress, sw.Encrypted
		info.Attachable, info.Internal = sw.Attachable, sw.Internal
		b.nodes[i].Network = &info
		// The overlay spans the Swarm's hosts: it is drawn in none of them.
		b.nodes[i].Host = ""
		return
	}
	b.put(sw.Node(b.v.Manager))
}

// Node is the map's node of a Swarm network as a manager describes it,
// reported by engine: for a network no connected engine lists (yet).
func (sw SwarmNetwork) Node(engine string) Node {
	return Node{ID: NetworkNodeID(sw.ID), Kind: KindNetwork, Label: sw.Name, Engine: engine, Network: &NetworkInfo{
		ID: sw.ID, Name: sw.Name, Driver: sw.Driver, Scope: SwarmScope,
		Internal: sw.Internal, Attachable: sw.Attachable, Ingress: sw.Ingress, Encrypted: sw.Encrypted,
		Subnets: slices.Clone(sw.Subnets),
	}}
}

// task draws a shown task: on the container node that runs it when a
// connected engine shows that container, else as a task node of its own.
func (b *swarmBuilder) task(t SwarmTask) {
	t = cloneTask(t)
	svc := ServiceNodeID(t.ServiceID)
	engine := b.v.Engines[t.NodeID]
	if t.ContainerID != "" && engine != "" {
		cid := ContainerNodeID(t.ContainerID)
		if engine != b.v.Default {
			cid = NodeID(string(cid) + EngineSep + engine)
		}
		// The container is the task: one node, not two joined by an edge.
		// Its member edges are already the engine's, so none are added.
		if i, ok := b.node[cid]; ok {
			b.nodes[i].Task = &t
			b.link(Edge{ID: EdgeID("r:" + string(svc) + ">" + string(cid)), Kind: EdgeReplica, From: svc, To: cid})
			return
		}
	}

	hostname := b.host[t.NodeID]
	label := t.ServiceName + "." + strconv.Itoa(t.Slot)
	if t.Slot == 0 {
		// A global service's tasks have no slot number: they are told
		// apart by node, and a hostname is what a reader knows a node by.
		// A node the manager no longer lists has only its ID left.
		name := hostname
		if name == "" {
			name = t.NodeID
		}
		label = t.ServiceName
		if name != "" {
			label += "." + name
		}
	}
	// A task not yet scheduled (or on a node the manager no longer lists)
	// has no host to be drawn in.
	host := engine
	if host == "" && hostname != "" {
		host = "node:" + hostname
	}
	id := TaskNodeID(t.ID)
	b.put(Node{ID: id, Kind: KindTask, Label: label, Engine: b.v.Manager, Host: host, Task: &t})
	b.link(Edge{ID: EdgeID("r:" + string(svc) + ">" + string(id)), Kind: EdgeReplica, From: svc, To: id})
	// No engine shows this task's endpoints, so the manager's attachments
	// are the only word on its networks and addresses.
	for _, att := range t.Networks {
		addr := ""
		if len(att.Addresses) > 0 {
			addr = att.Addresses[0]
		}
		b.member(EdgeID("m:"+string(id)+EngineSep+att.ID), id, att.ID, att.Name, addr)
	}
}

// shownTasks returns the tasks the map shows, in list order: the current
// ones, and for a slot with none, its first failed or rejected task. The
// managers keep a few shut-down tasks per slot as history; drawing them
// all would bury the running replicas, but a slot that cannot start must
// still say why, or the service would look merely short of a replica.
func shownTasks(tasks []SwarmTask) []SwarmTask {
	type slot struct {
		service string
		slot    int
		node    string
	}
	key := func(t SwarmTask) slot {
		// A global service has no slot numbers: its slot is its node.
		if t.Slot > 0 {
			return slot{service: t.ServiceID, slot: t.Slot}
		}
		return slot{service: t.ServiceID, node: t.NodeID}
	}
	current := func(t SwarmTask) bool { return t.DesiredState != "shutdown" && t.DesiredState != "remove" }

	live := map[slot]bool{}
	for _, t := range tasks {
		if current(t) {
			live[key(t)] = true
		}
	}
	failed := map[slot]bool{}
	var out []SwarmTask
	for _, t := range tasks {
		k := key(t)
		switch {
		case current(t):
			out = append(out, t)
		case !live[k] && !failed[k] && (t.State == "failed" || t.State == "rejected"):
			failed[k] = true
			out = append(out, t)
		}
	}
	return out
}

// cloneService copies s deep enough that the map's node shares no slice
// with the manager's answer, which the caller may keep and reuse.
func cloneService(s SwarmService) SwarmService {
	s.Ports = slices.Clone(s.Ports)
	s.VIPs = slices.Clone(s.VIPs)
	s.Networks = slices.Clone(s.Networks)
	return s
}

// cloneTask copies t for the same reason as cloneService.
func cloneTask(t SwarmTask) SwarmTask {
	nets := slices.Clone(t.Networks)
	for i := range nets {
		nets[i].Addresses = slices.Clone(nets[i].Addresses)
	}
	t.Networks = nets
	return t
}
