package topology_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
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

// BenchmarkGraphMemory measures what the live graph keeps per container
// (DESIGN.md budgets 10 KB): the heap still in use once the inventory it
// was built from is gone, as Live keeps only the graph. Each container
// carries the labels Compose v2 sets, the most a typical engine has.
func BenchmarkGraphMemory(b *testing.B) {
	var perContainer float64
	for b.Loop() {
		before := heapInUse()
		inv := randomInventory(rand.New(rand.NewPCG(1, 1)), benchSize)
		for i := range inv.Containers {
			c := &inv.Containers[i]
			for k, v := range composeLabels(i) {
				c.Labels[k] = v
			}
		}
		g := topology.Build(inv)
		inv = topology.Inventory{}
		after := heapInUse()
		runtime.KeepAlive(g)
		perContainer = float64(after-before) / float64(benchSize.containers)
	}
	b.ReportMetric(perContainer, "B/container")
}

// composeLabels are the labels docker compose v2 puts on a container of
// service i (docker inspect of a compose project; values of typical length).
func composeLabels(i int) map[string]string {
	return map[string]string{
		"com.docker.compose.config-hash":          fmt.Sprintf("%064x", i),
		"com.docker.compose.container-number":     "1",
		"com.docker.compose.depends_on":           "db:service_started:false",
		"com.docker.compose.image":                fmt.Sprintf("sha256:%064x", i%40),
		"com.docker.compose.oneoff":               "False",
		"com.docker.compose.project.config_files": fmt.Sprintf("/home/dev/proj%02d/compose.yaml", i%20),
		"com.docker.compose.project.working_dir":  fmt.Sprintf("/home/dev/proj%02d", i%20),
		"com.docker.compose.version":              "2.29.7",
	}
}

// heapInUse is the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
