package topology

import "strings"

// Delta is what changed between two graphs. Seq is set by the publisher.
type Delta struct {
	Seq          uint64   `json:"seq"`
	AddedNodes   []Node   `json:"addedNodes,omitempty"`
	ChangedNodes []Node   `json:"changedNodes,omitempty"`
	RemovedNodes []NodeID `json:"removedNodes,omitempty"`
	AddedEdges   []Edge   `json:"addedEdges,omitempty"`
	ChangedEdges []Edge   `json:"changedEdges,omitempty"`
	RemovedEdges []EdgeID `json:"removedEdges,omitempty"`
}

// Empty reports whether the delta changes nothing.
func (d Delta) Empty() bool {
	return len(d.AddedNodes)+len(d.ChangedNodes)+len(d.RemovedNodes)+
		len(d.AddedEdges)+len(d.ChangedEdges)+len(d.RemovedEdges) == 0
}

// Diff returns what turns old into new. Both graphs must be sorted by ID, as
// Build leaves them; the walk is a single merge, linear in their size.
func Diff(old, new Graph) Delta {
	var d Delta
	d.AddedNodes, d.ChangedNodes, d.RemovedNodes = merge(old.Nodes, new.Nodes,
		func(n Node) string { return string(n.ID) }, Node.Equal, func(n Node) NodeID { return n.ID })
	d.AddedEdges, d.ChangedEdges, d.RemovedEdges = merge(old.Edges, new.Edges,
		func(e Edge) string { return string(e.ID) }, Edge.Equal, func(e Edge) EdgeID { return e.ID })
	return d
}

func merge[T any, ID any](old, new []T, key func(T) string, equal func(T, T) bool, id func(T) ID) (added, changed []T, removed []ID) {
	i, j := 0, 0
	for i < len(old) && j < len(new) {
		switch c := strings.Compare(key(old[i]), key(new[j])); {
		case c < 0:
			removed = append(removed, id(old[i]))
			i++
		case c > 0:
			added = append(added, new[j])
			j++
		default:
			if !equal(old[i], new[j]) {
				changed = append(changed, new[j])
			}
			i++
			j++
		}
	}
	for ; i < len(old); i++ {
		removed = append(removed, id(old[i]))
	}
	added = append(added, new[j:]...)
	return added, changed, removed
}
