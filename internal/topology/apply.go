package topology

import (
	"slices"
	"strings"
)

// Apply returns the graph that d turns g into: Apply(old, Diff(old, new))
// equals new. g is left as it was; the result is sorted by ID, as Diff
// needs. A removal of what g does not hold is ignored, and an addition or
// a change of what it holds replaces it, so that a delta replayed on a
// graph that already has it changes nothing.
func Apply(g Graph, d Delta) Graph {
	return Graph{
		Nodes: apply(g.Nodes, d.AddedNodes, d.ChangedNodes, d.RemovedNodes, func(n Node) string { return string(n.ID) },
			func(id NodeID) string { return string(id) }),
		Edges: apply(g.Edges, d.AddedEdges, d.ChangedEdges, d.RemovedEdges, func(e Edge) string { return string(e.ID) },
			func(id EdgeID) string { return string(id) }),
	}
}

func apply[T any, ID any](old, added, changed []T, removed []ID, key func(T) string, idKey func(ID) string) []T {
	if len(added)+len(changed)+len(removed) == 0 {
		return old
	}
	gone := make(map[string]bool, len(removed))
	for _, id := range removed {
		gone[idKey(id)] = true
	}
	put := make(map[string]T, len(added)+len(changed))
	for _, x := range added {
		put[key(x)] = x
	}
	for _, x := range changed {
		put[key(x)] = x
	}
	out := make([]T, 0, len(old)+len(added))
	for _, x := range old {
		k := key(x)
		if gone[k] {
			continue
		}
		if y, ok := put[k]; ok {
			out = append(out, y)
			delete(put, k)
			continue
		}
		out = append(out, x)
	}
	for _, x := range put {
		out = append(out, x)
	}
	slices.SortFunc(out, func(a, b T) int { return strings.Compare(key(a), key(b)) })
	return out
}
