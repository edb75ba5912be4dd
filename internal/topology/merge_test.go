package topology_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockmap/dockmap/internal/topology"
)

// engineGraph is one engine's small map: a container on a bridge and on
// a Swarm overlay.
func engineGraph(cid string) topology.Graph {
	return topology.Graph{
		Nodes: []topology.Node{
			{ID: topology.ContainerNodeID(cid), Kind: topology.KindContainer, Label: cid, Container: &topology.ContainerInfo{ID: cid, Name: cid}},
			{ID: "n:br", Kind: topology.KindNetwork, Label: "bridge", Network: &topology.NetworkInfo{ID: "br", Name: "bridge", Scope: "local"}},
			{ID: "n:ov", Kind: topology.KindNetwork, Label: "ov", Network: &topology.NetworkInfo{ID: "ov", Name: "ov", Scope: "swarm"}},
		},
		Edges: []topology.Edge{
			{ID: topology.EdgeID("m:" + cid + "@br"), Kind: topology.EdgeMember, From: topology.ContainerNodeID(cid), To: "n:br"},
			{ID: topology.EdgeID("m:" + cid + "@ov"), Kind: topology.EdgeMember, From: topology.ContainerNodeID(cid), To: "n:ov"},
		},
	}
}

func TestMergeKeepsEnginesApartAndSharesSwarmNetworks(t *testing.T) {
	local := topology.Stamp(engineGraph("a"), "local", false)
	lab := topology.Stamp(engineGraph("a"), "lab1", true) // the same IDs on another engine
	g := topology.Merge(local, lab)

	var ids []string
	for _, n := range g.Nodes {
		ids = append(ids, string(n.ID)+" "+n.Engine+" "+n.Host)
	}
	want := []string{"c:a local local", "c:a@lab1 lab1 lab1", "n:br local local", "n:br@lab1 lab1 lab1", "n:ov local "}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("nodes (-want +got):\n%s", diff)
	}
	var edges []string
	for _, e := range g.Edges {
		edges = append(edges, string(e.ID)+" "+string(e.From)+">"+string(e.To)+" "+e.Engine)
	}
	wantEdges := []string{
		"m:a@br c:a>n:br local",
		"m:a@br@lab1 c:a@lab1>n:br@lab1 lab1",
		"m:a@ov c:a>n:ov local",
		"m:a@ov@lab1 c:a@lab1>n:ov lab1", // one overlay, spanning both engines
	}
	if diff := cmp.Diff(wantEdges, edges); diff != "" {
		t.Errorf("edges (-want +got):\n%s", diff)
	}
	for _, e := range g.Edges {
		if _, ok := g.Node(e.From); !ok {
			t.Errorf("edge %s starts at %s, which is not on the map", e.ID, e.From)
		}
		if _, ok := g.Node(e.To); !ok {
			t.Errorf("edge %s ends at %s, which is not on the map", e.ID, e.To)
		}
	}
}

// A suffix can reorder IDs; Diff walks both graphs in order and would
// report a node both removed and added if Stamp left them unsorted.
func TestStampKeepsTheGraphSorted(t *testing.T) {
	g := topology.Graph{Nodes: []topology.Node{
		{ID: "c:ab", Kind: topology.KindContainer},
		{ID: "c:ab-x", Kind: topology.KindContainer},
	}}
	g = topology.Stamp(g, "lab1", true)
	if g.Nodes[0].ID != "c:ab-x@lab1" || g.Nodes[1].ID != "c:ab@lab1" {
		t.Fatalf("order after stamping: %s, %s", g.Nodes[0].ID, g.Nodes[1].ID)
	}
	if d := topology.Diff(g, g); !d.Empty() {
		t.Errorf("a stamped graph differs from itself: %+v", d)
	}
}
