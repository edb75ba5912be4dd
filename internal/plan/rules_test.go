package plan

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockmap/dockmap/internal/topology"
)

// outEdges finds edges by the ID forms topology gives them: if those forms
// change, it must say so here rather than miss edges quietly.
func TestOutEdgesAgreesWithEdgesOf(t *testing.T) {
	id := func(n int) string { return fmt.Sprintf("%064x", n) }
	bridge := topology.Endpoint{NetworkID: id(900), NetworkName: "bridge"}
	g := topology.Build(topology.Inventory{
		Networks: []topology.Network{{ID: id(900), Name: "bridge", Driver: "bridge", Default: true}, {ID: id(901), Name: "appnet", Driver: "bridge"}},
		Volumes:  []topology.Volume{{Name: "data", Driver: "local"}},
		Containers: []topology.Container{
			{ID: id(1), Name: "db", Names: []string{"db", "web/db", "web/db2"}, NetworkMode: "default", Endpoints: []topology.Endpoint{bridge},
				Mounts: []topology.Mount{{Type: "volume", Name: "data", Destination: "/data"}, {Type: "bind", Source: "/srv", Destination: "/srv"}}},
			{ID: id(2), Name: "web", Names: []string{"web"}, NetworkMode: "default",
				Endpoints: []topology.Endpoint{bridge, {NetworkID: id(901), NetworkName: "appnet", Links: []string{"db:dbal"}}},
				Links:     []topology.LinkRef{{Target: "db", Alias: "db"}, {Target: "gone", Alias: "old"}}, VolumesFrom: []string{"db"}},
			{ID: id(3), Name: "side", Names: []string{"side"}, NetworkMode: "container:" + id(2), VolumesFrom: []string{id(1) + ":ro", "web"}},
			// An ID that is the start of another's, as only tests have.
			{ID: id(1)[:63], Name: "short", Names: []string{"short"}, NetworkMode: "default", Endpoints: []topology.Endpoint{bridge}},
		},
	})
	kinds := []topology.EdgeKind{topology.EdgeMember, topology.EdgeLink, topology.EdgeBrokenLink, topology.EdgeMount, topology.EdgeNetNS, topology.EdgeVolumesFrom}
	found := map[topology.EdgeKind]int{}
	for _, c := range g.Nodes {
		if c.Container == nil {
			continue
		}
		for _, kind := range kinds {
			want := slices.DeleteFunc(g.EdgesOf(c.ID), func(e topology.Edge) bool { return e.Kind != kind || e.From != c.ID })
			got := outEdges(g, c, kind)
			found[kind] += len(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("outEdges(%s, %s) mismatch (-EdgesOf +outEdges):\n%s", c.Label, kind, diff)
			}
		}
	}
	for _, kind := range kinds {
		if found[kind] == 0 {
			t.Errorf("the graph has no %s edge: the test proves nothing for it", kind)
		}
	}
}
