package reach

import (
	"slices"

	"github.com/dockmap/dockmap/internal/topology"
)

// Affected says which containers' reachability a change of the map can
// change: d turns old into new, and a pair whose prediction (Explain) or
// probe fingerprint (Between) differs between the two maps has at least
// one end in the answer. The page asks again only the predictions and
// probe results of pairs with an end there (issue 14): a container
// starting elsewhere, or a volume made, leaves a matrix's other pairs as
// they are.
//
// It is the inverse of what New indexes, so it lives beside it, and a new
// fact the explainer reads must be added here too (TestAffectedCoversExplain
// checks every pair of every change in its table against Explain and
// Between):
//
//   - a container node (added, changed, removed): that container, since
//     its state, name, mode, ports, labels (Compose), host and task are
//     its pairs' facts;
//   - a network node: every container on it, in either map (its name,
//     driver, ICC, internal, scope and Compose labels are the facts of
//     every pair that shares it, and of the fixes that name it);
//   - a member edge (an endpoint: its address, aliases, endpoint links):
//     its container; a legacy link, broken link or netns edge: both ends;
//   - every container in another's network namespace (--network
//     container:X, followed through chains, in either map) follows X: its
//     pairs are read from X's endpoints;
//   - volumes, binds, mounts, --volumes-from, ghosts, Compose project
//     boxes and depends-on edges: nothing (no rule reads them);
//   - anything of a Swarm (its nodes, services, tasks and their
//     containers, replicas), or a
//     kind this list does not know: every pair (nil). Being wrong the
//     other way would leave a stale verdict on a projector.
//
// The answer is nil when every pair may have changed, and a sorted,
// non-nil (maybe empty) list of container node IDs otherwise; nil too when
// more than maxAffected containers are named, where listing them costs
// more than asking again.
func Affected(old, new topology.Graph, d topology.Delta) []topology.NodeID {
	seeds := map[topology.NodeID]bool{}
	nets := map[topology.NodeID]bool{}
	// node sorts one added, changed or removed node; false means every
	// pair.
	node := func(n topology.Node) bool {
		switch n.Kind {
		case topology.KindContainer:
			// A task's container is also its service's replica: a
			// service's predictions are read from it.
			if n.Task != nil {
				return false
			}
			seeds[n.ID] = true
		case topology.KindNetwork:
			nets[n.ID] = true
		case topology.KindVolume, topology.KindBind, topology.KindGhost, topology.KindProject:
		default:
			return false
		}
		return true
	}
	edge := func(e topology.Edge) bool {
		switch e.Kind {
		case topology.EdgeMember:
			// A task node's endpoints are a service's facts.
			if !isContainer(e.From) {
				return false
			}
			seeds[e.From] = true
		case topology.EdgeLink, topology.EdgeBrokenLink, topology.EdgeNetNS:
			seeds[e.From] = true
			seeds[e.To] = true
		case topology.EdgeMount, topology.EdgeVolumesFrom, topology.EdgeDependsOn:
		default:
			return false
		}
		return true
	}
	for _, n := range slices.Concat(d.AddedNodes, d.ChangedNodes) {
		if !node(n) {
			return nil
		}
	}
	for _, id := range d.RemovedNodes {
		n, ok := old.Node(id)
		if !ok || !node(n) {
			return nil
		}
	}
	for _, e := range slices.Concat(d.AddedEdges, d.ChangedEdges) {
		if !edge(e) {
			return nil
		}
	}
	for _, id := range d.RemovedEdges {
		e, ok := old.Edge(id)
		if !ok || !edge(e) {
			return nil
		}
	}

	if len(seeds) == 0 && len(nets) == 0 {
		return []topology.NodeID{}
	}
	// One walk of each map's edges: the members of changed networks, and
	// who borrows whose namespace.
	followers := map[topology.NodeID][]topology.NodeID{}
	for _, g := range []topology.Graph{old, new} {
		for _, e := range g.Edges {
			switch {
			case e.Kind == topology.EdgeMember && nets[e.To] && isContainer(e.From):
				seeds[e.From] = true
			case e.Kind == topology.EdgeNetNS:
				followers[e.To] = append(followers[e.To], e.From)
			}
		}
	}
	out := make([]topology.NodeID, 0, len(seeds))
	queue := make([]topology.NodeID, 0, len(seeds))
	for id := range seeds {
		queue = append(queue, id)
	}
	seen := map[topology.NodeID]bool{}
	for len(queue) > 0 {
		id := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		if isContainer(id) {
			out = append(out, id)
		}
		queue = append(queue, followers[id]...)
	}
	if len(out) > maxAffected {
		return nil
	}
	slices.Sort(out)
	return out
}

// maxAffected bounds Affected's list: 500 IDs are about 35 kB on every
// delta; past that, "every pair" says it in no bytes.
const maxAffected = 500

// isContainer tells a container node's ID by its form (ContainerNodeID):
// a link's or netns edge's ends may be ghosts.
func isContainer(id topology.NodeID) bool {
	return len(id) > 2 && id[:2] == "c:"
}
