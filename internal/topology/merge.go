package topology

import (
	"slices"
	"strings"
)

// SwarmScope is the scope of a network that spans a Swarm's hosts (an
// overlay, or the ingress network).
const SwarmScope = "swarm"

// EngineSep joins a node or edge ID to the name of the engine it is
// from, on every engine but the default one: "c:<id>@lab1". Docker IDs
// and names never hold it, and the default engine's IDs stay as they were
// before dockmap knew of other engines.
const EngineSep = "@"

// Stamp marks every node and edge of g as engine's and returns it. With
// suffix (every engine but the default one), node and edge IDs get
// "@engine", so that two engines' containers never share an ID; a
// Swarm-scoped network keeps its bare ID, since every host of the Swarm
// shows the same network and the map draws it once, spanning them. g is
// not changed: the result is a copy (g is an engine's current graph,
// which others read).
func Stamp(g Graph, engine string, suffix bool) Graph {
	g = Graph{Nodes: slices.Clone(g.Nodes), Edges: slices.Clone(g.Edges)}
	shared := map[NodeID]bool{}
	for i := range g.Nodes {
		n := &g.Nodes[i]
		n.Engine = engine
		if n.Network != nil && n.Network.Scope == SwarmScope {
			shared[n.ID] = true
			continue
		}
		n.Host = engine
		if suffix {
			n.ID = NodeID(string(n.ID) + EngineSep + engine)
			if n.Group != "" {
				n.Group = NodeID(string(n.Group) + EngineSep + engine)
			}
		}
	}
	node := func(id NodeID) NodeID {
		if !suffix || shared[id] {
			return id
		}
		return NodeID(string(id) + EngineSep + engine)
	}
	for i := range g.Edges {
		e := &g.Edges[i]
		e.Engine = engine
		if suffix {
			e.ID = EdgeID(string(e.ID) + EngineSep + engine)
			e.From, e.To = node(e.From), node(e.To)
		}
	}
	if suffix {
		// A suffix can change the order ("c:ab-x" sorts before "c:ab" once
		// both end in "@lab1"), and Diff needs it.
		sortGraph(&g)
	}
	return g
}

// Merge joins the graphs of several engines, each stamped with its own
// name (Stamp), into one, the default engine's first. A node two engines
// both show (a Swarm network) is kept once, as the first shows it.
func Merge(parts ...Graph) Graph {
	var g Graph
	for _, p := range parts {
		g.Nodes = append(g.Nodes, p.Nodes...)
		g.Edges = append(g.Edges, p.Edges...)
	}
	slices.SortStableFunc(g.Nodes, func(a, b Node) int { return strings.Compare(string(a.ID), string(b.ID)) })
	g.Nodes = slices.CompactFunc(g.Nodes, func(a, b Node) bool { return a.ID == b.ID })
	slices.SortStableFunc(g.Edges, func(a, b Edge) int { return strings.Compare(string(a.ID), string(b.ID)) })
	g.Edges = slices.CompactFunc(g.Edges, func(a, b Edge) bool { return a.ID == b.ID })
	return g
}

// OfEngine is the part of a merged graph that engine reported, with the
// Swarm-wide networks its containers join: one participant's lab when
// each has an engine of their own. The order (by ID) is kept.
func (g Graph) OfEngine(engine string) Graph {
	var out Graph
	for _, n := range g.Nodes {
		if n.Engine == engine || (n.Network != nil && n.Host == "") {
			out.Nodes = append(out.Nodes, n)
		}
	}
	for _, e := range g.Edges {
		if e.Engine == engine {
			out.Edges = append(out.Edges, e)
		}
	}
	return out
}

// Engines lists the engines a graph's nodes are from, in order of first
// appearance by ID.
func (g Graph) Engines() []string {
	var out []string
	for _, n := range g.Nodes {
		if n.Engine != "" && !slices.Contains(out, n.Engine) {
			out = append(out, n.Engine)
		}
	}
	return out
}

func sortGraph(g *Graph) {
	slices.SortFunc(g.Nodes, func(a, b Node) int { return strings.Compare(string(a.ID), string(b.ID)) })
	slices.SortFunc(g.Edges, func(a, b Edge) int { return strings.Compare(string(a.ID), string(b.ID)) })
}
