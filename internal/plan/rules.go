package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dockmap/dockmap/internal/topology"
)

// The rules more than one action asks.

// ref names a graph node for a plan.
func ref(n topology.Node) Ref {
	switch {
	case n.Container != nil:
		return Ref{ID: n.Container.ID, Name: n.Container.Name}
	case n.Network != nil:
		return Ref{ID: n.Network.ID, Name: n.Network.Name}
	case n.Volume != nil:
		return Ref{ID: n.Volume.Name, Name: n.Volume.Name}
	}
	return Ref{ID: string(n.ID), Name: n.Label}
}

// outPrefix is how the ID of an edge of each kind starts for the edges
// leaving a container, before the container's ID (topology.EdgeKind lists
// the forms), and the character after it.
var outPrefix = map[topology.EdgeKind][2]string{
	topology.EdgeMember:      {"m:", "@"},
	topology.EdgeLink:        {"l:", ">"},
	topology.EdgeBrokenLink:  {"bl:", ":"},
	topology.EdgeMount:       {"mt:", ">"},
	topology.EdgeNetNS:       {"ns:", ">"},
	topology.EdgeVolumesFrom: {"vf:", ">"},
}

// outEdges returns the edges of one kind that leave container c, in ID
// order, found by their IDs in the graph's sorted edges rather than by a
// scan of them all (topology.Graph.EdgesOf): a plan asks for them many
// times, and a scan costs a few microseconds per thousand edges. The
// result shares the graph's array: append to it or sort it only in a copy.
func outEdges(g topology.Graph, c topology.Node, kind topology.EdgeKind) []topology.Edge {
	p := outPrefix[kind]
	prefix := p[0] + strings.TrimPrefix(string(c.ID), "c:") + p[1]
	lo, _ := slices.BinarySearchFunc(g.Edges, prefix, func(e topology.Edge, prefix string) int {
		return strings.Compare(string(e.ID), prefix)
	})
	hi := lo
	for hi < len(g.Edges) && strings.HasPrefix(string(g.Edges[hi].ID), prefix) {
		hi++
	}
	return slices.Clip(g.Edges[lo:hi])
}

// memberships are container c's network memberships, by network name.
func memberships(g topology.Graph, c topology.Node) []topology.Edge {
	var out []topology.Edge
	for _, e := range outEdges(g, c, topology.EdgeMember) {
		if e.Kind == topology.EdgeMember && e.From == c.ID && e.Member != nil {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b topology.Edge) int { return strings.Compare(a.Member.NetworkName, b.Member.NetworkName) })
	return out
}

// networkNames are the names of the networks c is attached to, sorted.
func networkNames(g topology.Graph, c topology.Node) []string {
	var out []string
	for _, e := range memberships(g, c) {
		out = append(out, e.Member.NetworkName)
	}
	return out
}

// onDefaultBridge reports whether container c is attached to the default
// bridge, itself or through the container whose network it shares.
func onDefaultBridge(g topology.Graph, c topology.Node) bool {
	if donor, ok := netnsDonor(g, c); ok {
		c = donor
	}
	for _, e := range memberships(g, c) {
		if n, ok := g.Node(e.To); ok && n.Network != nil && n.Network.Default {
			return true
		}
	}
	return false
}

// netnsDonor is the container whose network namespace c shares, if any.
func netnsDonor(g topology.Graph, c topology.Node) (topology.Node, bool) {
	for _, e := range outEdges(g, c, topology.EdgeNetNS) {
		if e.Kind == topology.EdgeNetNS && e.From == c.ID {
			return g.Node(e.To)
		}
	}
	return topology.Node{}, false
}

// expect is what a plan takes container c to be.
func expect(g topology.Graph, c topology.Node) Expect {
	return Expect{Name: c.Container.Name, NetworkMode: c.Container.NetworkMode, Networks: networkNames(g, c), Running: running(c)}
}

// running reports whether a container runs (or restarts, which a stop
// also ends).
func running(c topology.Node) bool {
	s := c.Container.State
	return s == "running" || s == "restarting"
}

// liveLinks are the legacy and endpoint links container c has, live ones
// (to containers) and broken ones (to ghosts).
func liveLinks(g topology.Graph, c topology.Node) []topology.Edge {
	var out []topology.Edge
	for _, e := range slices.Concat(outEdges(g, c, topology.EdgeBrokenLink), outEdges(g, c, topology.EdgeLink)) {
		if (e.Kind == topology.EdgeLink || e.Kind == topology.EdgeBrokenLink) && e.From == c.ID && e.Link != nil {
			out = append(out, e)
		}
	}
	return out
}

// canRecreate says why container c cannot be re-created safely, or nil.
func canRecreate(c topology.Node) error {
	ci := c.Container
	if orig, ok := topology.LeftoverName(ci.Name); ok {
		return fmt.Errorf("%w: %s is the old %s, left over from an interrupted re-create: roll it back or finish it first", topology.ErrInvalid, ci.Name, orig)
	}
	switch {
	case ci.AutoRemove:
		return fmt.Errorf("%w: %s was run with --rm: stopping it would remove it, so it cannot be re-created safely", topology.ErrInvalid, ci.Name)
	case ci.State == "paused":
		return fmt.Errorf("%w: %s is paused: unpause it first", topology.ErrConflict, ci.Name)
	case ci.State == "dead" || ci.State == "removing":
		return fmt.Errorf("%w: %s is %s", topology.ErrConflict, ci.Name, ci.State)
	}
	return nil
}

// container finds a container by reference (full ID or exact name).
func container(g topology.Graph, what, r string) (topology.Node, error) {
	if strings.TrimSpace(r) == "" {
		return topology.Node{}, fmt.Errorf("%w: name the %s", topology.ErrInvalid, what)
	}
	return g.ContainerByRef(r)
}

// names joins container names for a sentence.
func names(rs []Ref) string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return strings.Join(out, ", ")
}
