package topology_test

import (
	"math/rand/v2"
	"testing"

	"github.com/dockmap/dockmap/internal/topology"
)

// benchSize is the engine DESIGN.md budgets for: Build and Diff within 5 ms
// each.
var benchSize = sceneSize{containers: 1000, networks: 100, volumes: 500}

func BenchmarkBuild(b *testing.B) {
	inv := randomInventory(rand.New(rand.NewPCG(1, 1)), benchSize)
	var g topology.Graph
	b.ReportAllocs()
	for b.Loop() {
		g = topology.Build(inv)
	}
	b.ReportMetric(float64(len(g.Nodes)), "nodes")
	b.ReportMetric(float64(len(g.Edges)), "edges")
}

// BenchmarkDiff compares two polls of the same engine with about 5% of the
// containers changed (state, a network left, labels or health).
func BenchmarkDiff(b *testing.B) {
	old := topology.Build(randomInventory(rand.New(rand.NewPCG(1, 1)), benchSize))
	cur := topology.Build(mutateInventory(rand.New(rand.NewPCG(2, 2)),
		randomInventory(rand.New(rand.NewPCG(1, 1)), benchSize), 0.05))
	var d topology.Delta
	b.ReportAllocs()
	for b.Loop() {
		d = topology.Diff(old, cur)
	}
	b.ReportMetric(float64(len(d.ChangedNodes)), "changed-nodes")
	b.ReportMetric(float64(len(d.AddedEdges)+len(d.ChangedEdges)+len(d.RemovedEdges)), "edge-changes")
}
